"""access_of keeps its answers for labels that say all there is to know (SQL, Redis, store), and
reads ``line:`` labels afresh, since instrumentation fills their table during a run."""

from __future__ import annotations

from racecheck import instrument
from racecheck.scheduling import resources as r


def test_sql_and_redis_answers_are_the_parsed_ones_every_time() -> None:
    labels = ["sql:UPDATE jobs SET owner = %s WHERE id = 7", "sql:SELECT id FROM jobs WHERE key = %s",
              "redis:SET lock:pr-7 token NX", "redis:GET lock:pr-7", "store:claims:pr-7", "p", "sleep:0.1"]
    fresh = {label: r._READERS.get(label.partition(":")[0], lambda _: r.UNKNOWN)(label.partition(":")[2])
             if ":" in label else r.UNKNOWN for label in labels}
    for _ in range(3):
        assert {label: r.access_of(label) for label in labels} == fresh
    assert r.access_of("sql:UPDATE jobs SET owner = %s WHERE id = 7").write
    assert not r.access_of("redis:GET lock:pr-7").write


def test_a_line_label_is_read_again_once_instrumentation_names_its_resources() -> None:
    label = "line:tests/fake.py:12"
    instrument.LABEL_RESOURCES.pop(label, None)
    try:
        assert r.access_of(label).unknown
        instrument.LABEL_RESOURCES[label] = (frozenset({"counter"}), True)
        got = r.access_of(label)
        assert got.resources == frozenset({"mem:counter"}) and got.write
    finally:
        instrument.LABEL_RESOURCES.pop(label, None)


def test_the_kept_answers_are_bounded() -> None:
    for i in range(r._SEEN_LIMIT + 10):
        r.access_of(f"redis:GET key-{i}")
    assert len(r._SEEN) <= r._SEEN_LIMIT
