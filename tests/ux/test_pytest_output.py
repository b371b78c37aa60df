"""pytest output of a racecheck failure: printed once, racecheck's frames hidden, no long
RunResult repr, the failing schedule and the replay line; SQL lines with bound parameters and row
counts; more than six workers still readable."""

from __future__ import annotations

import re
import textwrap

import pytest

import racecheck
from racecheck import history as h
from racecheck.timeline import describe, fit, render_timeline, visible_events

from .helpers import small_result

BUGGY_PROJECT = textwrap.dedent("""\
    import threading
    import racecheck

    claims = {}

    def spawn(job): ...

    def trigger(job="j1"):
        racecheck.point("check")
        if job in claims:
            return False
        racecheck.point("claim")
        claims[job] = 1
        spawn(job)
        return True

    def test_spawns_once(race):
        race.spy(f"{__name__}:spawn", key="job")
        result = race.run(trigger, n=3, trials=50, strategy="random", seed=3, setup=claims.clear,
                          invariants=[racecheck.exactly_once("spawn")])
        result.assert_ok()

    def test_plain_assert(race):
        race.spy(f"{__name__}:spawn", key="job")
        result = race.run(trigger, n=3, trials=50, strategy="random", seed=3, setup=claims.clear,
                          invariants=[racecheck.exactly_once("spawn")])
        assert result.ok
""")


@pytest.fixture
def failing_output(pytester: pytest.Pytester) -> str:
    pytester.makepyfile(test_buggy=BUGGY_PROJECT)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-p", "no:randomly")
    result.assert_outcomes(failed=2)
    return result.stdout.str()


def _section(out: str, test: str) -> str:
    start = out.index(f"_ {test} _")
    nxt = re.search(r"\n_{3,} test_", out[start + 10:])
    return out[start: start + 10 + nxt.start()] if nxt else out[start:]


@pytest.mark.parametrize("env", [{"CI": "true"}, {"BUILD_NUMBER": "7"}, {}])
def test_short_summary_is_one_line_on_ci_too(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, env: dict[str, str]
) -> None:
    """pytest prints the whole crash message in its short summary on CI: the report is not
    repeated there, only its first line (what failed), and a plain assert keeps pytest's own."""
    for name in ("CI", "BUILD_NUMBER"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    pytester.makepyfile(test_buggy=BUGGY_PROJECT)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-p", "no:randomly", "-rf")
    result.assert_outcomes(failed=2)
    out = result.stdout.str()
    summary = out[out.index("short test summary info"):]
    assert summary.count("VIOLATION exactly_once") == 0
    lines = summary.splitlines()[1:]
    assert lines[0].startswith("FAILED test_buggy.py::test_spawns_once - AssertionError: ex")
    assert lines[1].startswith("FAILED test_buggy.py::test_plain_assert - assert ")
    if env:  # on CI pytest does not trim: the whole first line of racecheck's message is there
        assert lines[0].endswith("exactly_once violated in 1 of 1 trials for key(s) j1")
    assert out.count("VIOLATION exactly_once") == 2  # once in each test's own failure section


def test_failure_report_is_printed_once(failing_output: str) -> None:
    one = _section(failing_output, "test_spawns_once")
    assert one.count("VIOLATION exactly_once") == 1
    assert one.count("replay with: pytest 'test_buggy.py::test_spawns_once' --racecheck-replay='rc1:") == 1
    assert re.search(r"failing schedule \(\d+ context switch(es)?\): rc1:", one)
    assert "Captured racecheck" not in one and "- racecheck -" not in one


def test_racecheck_frames_hidden_and_no_long_repr(failing_output: str) -> None:
    one = _section(failing_output, "test_spawns_once")
    assert "racecheck/result.py" not in one and "def assert_ok" not in one
    assert "RunResult(" not in failing_output and "TrialRecord(" not in failing_output
    assert "> " in one and "result.assert_ok()" in one  # the failure points at the test's own line


def test_a_plain_assert_gets_the_short_repr_and_the_report_once(failing_output: str) -> None:
    plain = _section(failing_output, "test_plain_assert")
    assert "<RunResult test_plain_assert: " in plain
    assert plain.count("VIOLATION exactly_once") == 1  # from the racecheck report section


def test_short_reprs() -> None:
    r = small_result()
    assert repr(r).startswith("<RunResult ") and len(repr(r)) < 160
    assert repr(r.trials[0]).startswith("<TrialRecord 1: ")


def _ev(kind: str, name: str, t: int, worker: int = 0, **payload: object) -> h.Event:
    return h.Event(worker=worker, pid=1, t=t, kind=kind, name=name, payload=dict(payload))


def test_sql_lines_show_params_and_row_counts() -> None:
    evs = [_ev(h.SQL, "sql:select 1 from t where k=%s", 1, statement="select 1 from t where k=%s", params="('a',)"),
           _ev("sql_rows", "sql:select 1 from t where k=%s", 2, rows=0),
           _ev(h.SQL, "sql:insert into t values (%s)", 3, statement="insert into t values (%s)", params="('a',)"),
           _ev("sql_rows", "sql:insert into t values (%s)", 4, rows=1)]
    shown = visible_events(evs)
    assert [e.kind for e in shown] == [h.SQL, h.SQL]
    assert describe(shown[0]) == "sql select 1 from t where k=%s ('a',) -> 0 rows"
    assert describe(shown[1]) == "sql insert into t values (%s) ('a',) -> 1 row"
    assert "rowcount" not in evs[0].payload  # the history itself is not changed
    narrow = fit(shown[0], 24)
    assert len(narrow) <= 24 and narrow.endswith("-> 0") and "('a',)" in narrow


def test_psycopg_statements_record_params_and_rowcount(race_postgres) -> None:  # type: ignore[no-untyped-def]
    import psycopg

    race_postgres.execute("create table ux_rows (k text)")
    url = race_postgres.url

    def target() -> None:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("select k from ux_rows where k = %s", ("nope",)).fetchall()
            conn.execute("insert into ux_rows (k) values (%s)", ("a",))

    r = racecheck.run(target, n=1, trials=1)
    text = render_timeline(r.trials[0])
    events = visible_events(list(r.trials[0].history))
    sql = [e for e in events if e.kind == h.SQL]
    assert [e.payload.get("rowcount") for e in sql[:2]] == [0, 1]
    assert sql[0].payload["params"] == "('nope',)"
    assert "('nope',) -> 0" in text and "('a',) -> 1" in text  # kept when the statement is cut
    assert describe(sql[0]).endswith("('nope',) -> 0 rows")


def test_more_than_six_workers_keep_columns_for_the_culprits_and_list_the_rest() -> None:
    r = small_result(n=9)
    t = r.first_failure
    assert t is not None
    text = render_timeline(t, t.violations)
    header = text.splitlines()[0].split()
    assert header[0] == "t(ms)" and len(header) == 7  # six worker columns
    culprits = {f"w{w}" for v in t.violations for w in v.workers}
    assert culprits
    assert culprits <= set(header[1:])
    assert "the other 3 lanes, one line each" in text
    listed = re.findall(r"^\s+(w\d): ", text, flags=re.M)
    assert len(listed) == 3 and not set(listed) & set(header[1:])
    assert set(header[1:]) | set(listed) == {f"w{i}" for i in range(9)}
