"""The history: event fields, the JSONL file across a SIGKILL, and the query API."""

from __future__ import annotations

import os
import time

import pytest

import racecheck
from engine import targets
from racecheck import history as h


def test_events_carry_worker_pid_time_kind_name_key_payload() -> None:
    """Every recorded event has a worker id, pid, monotonic time, kind, name, key and payload."""
    res = racecheck.run(targets.one_effect_per_worker, n=2, trials=1, seed=3)
    before = time.monotonic_ns()
    trial = res.trials[0]
    eff = trial.history.filter("effect", name="spawn", worker=1)
    assert len(eff) == 1
    e = eff[0]
    assert (e.worker, e.pid, e.kind, e.name, e.key) == (1, os.getpid(), "effect", "spawn", "k1")
    assert e.payload == {"who": 1}
    assert trial.t0 <= e.t <= trial.t_end <= before


def test_history_is_time_ordered() -> None:
    """History iterates its events in monotonic time order."""
    res = racecheck.run(targets.check_then_act, n=4, trials=1, setup=targets.reset_runs, seed=2)
    ts = [e.t for e in res.trials[0].history]
    assert ts == sorted(ts) and len(ts) > 8


def test_jsonl_survives_a_sigkilled_process_worker() -> None:
    """A process worker killed by SIGKILL right after an effect still has that effect counted."""
    res = racecheck.run("engine.targets:effect_then_sigkill", n=2, trials=1, mode="processes",
                        invariants=[racecheck.at_most_once("spawn")], timeout=20)
    hist = res.trials[0].history
    effects = hist.filter("effect", name="spawn")
    assert sorted(e.worker for e in effects) == [0, 1]
    assert {e.pid for e in effects} == {e.payload["pid"] for e in effects}
    assert hist.crashed_workers() == {0, 1}
    res.assert_violation("at_most_once")


def test_crash_fault_in_process_keeps_the_effect_before_it() -> None:
    """racecheck.crash in process mode SIGKILLs the worker after its effect, and the effect is still counted."""
    res = racecheck.run("engine.targets:effect_then_point", n=2, trials=1, mode="processes",
                        faults=[racecheck.crash(at="after_effect", worker=0)], timeout=20,
                        invariants=[racecheck.at_most_once("spawn")])
    hist = res.trials[0].history
    assert [(e.worker, e.name) for e in hist.filter("crash")] == [(0, "after_effect")]
    assert [e.worker for e in hist.filter("end")] == [1]
    assert sorted(e.worker for e in hist.filter("effect")) == [0, 1]
    res.assert_violation("at_most_once")


def test_filter_by_kind_name_key_worker_and_predicate() -> None:
    """History.filter matches on kind (one or many), name, key, worker and a predicate together."""
    ev = [
        h.Event(0, 1, 30, "effect", "spawn", "a", {"x": 1}),
        h.Event(1, 1, 10, "effect", "spawn", "b", {}),
        h.Event(1, 1, 20, "point", "check"),
        h.Event(0, 1, 40, "effect", "other", "a"),
    ]
    hist = h.History(ev)
    assert [e.t for e in hist] == [10, 20, 30, 40]
    assert [e.t for e in hist.filter("effect")] == [10, 30, 40]
    assert [e.t for e in hist.filter(("effect", "point"), worker=1)] == [10, 20]
    assert [e.t for e in hist.filter(name="spawn", key="a")] == [30]
    assert [e.t for e in hist.filter(where=lambda e: e.payload.get("x") == 1)] == [30]
    assert hist.filter(key=("a", "b")) == []
    assert hist.workers() == [0, 1]


def test_effects_reports_done_failed_and_indeterminate() -> None:
    """History.effects() pairs spied begin/end: done, failed (raised) or indeterminate (no end)."""
    ev = [
        h.Event(0, 1, 1, "effect_begin", "spawn", "a", {"call": 1}),
        h.Event(0, 1, 2, "effect_end", "spawn", "a", {"call": 1, "ok": True}),
        h.Event(1, 1, 3, "effect_begin", "spawn", "a", {"call": 2}),
        h.Event(1, 1, 4, "effect_end", "spawn", "a", {"call": 2, "ok": False}),
        h.Event(2, 1, 5, "effect_begin", "spawn", "a", {"call": 3}),
        h.Event(3, 1, 6, "effect", "spawn", "b"),
    ]
    recs = h.History(ev).effects("spawn")
    assert [(r.worker, r.status) for r in recs] == [(0, "done"), (1, "failed"), (2, "indeterminate"), (3, "done")]
    assert recs[2].end is None


def test_jsonl_round_trip_and_torn_line_skipped(tmp_path) -> None:
    """A JSONL sink's events read back equal, and a torn trailing line is skipped."""
    path = str(tmp_path / "ev.jsonl")
    sink = h.Sink(path)
    e = h.make_event(3, "effect", "spawn", ("w", "sha"), n=1)
    sink.write(e)
    sink.close()
    with open(path, "a") as fh:
        fh.write('{"worker": 1, "t"')
    back = h.read_jsonl(path)
    assert back == [e]
    assert back[0].key == "w,sha"


def test_an_event_line_is_the_text_json_dumps_gives() -> None:
    """Events are written with a C encoder built once; the line must be what json.dumps(asdict(e)) writes,
    for text that needs escaping, nested values, a dataclass payload and an object JSON cannot encode."""
    import dataclasses
    import json

    @dataclasses.dataclass
    class Box:
        n: int
        tags: list[str]

    class Opaque:
        def __repr__(self) -> str:
            return "<opaque é>"

    payloads = [{}, {"result": "ünïcode \"quoted\"\n\ttab"}, {"nested": {"a": [1, 2.5, None, True]}},
                {"box": Box(3, ["x", "y"])}, {"obj": Opaque()}, {"big": 10**30, "neg": -0.0}]
    for payload in payloads:
        e = h.Event(1, 42, 123, "effect", "spawn ✓", "k,1", payload)
        expected = json.dumps(dataclasses.asdict(e), separators=(",", ":"), default=h._json_default)
        assert e.to_json() == expected
        assert h.Event.from_dict(json.loads(e.to_json())).name == "spawn ✓"


def test_without_the_c_encoder_an_event_line_is_the_same_text(monkeypatch: pytest.MonkeyPatch) -> None:
    import dataclasses
    import json

    e = h.Event(0, 7, 1, "end", "", None, {"result": "'ok' é", "n": [1, None]})
    expected = json.dumps(dataclasses.asdict(e), separators=(",", ":"), default=h._json_default)
    monkeypatch.setattr(h, "_C_ENCODE", None)
    assert e.to_json() == expected
