"""Item 3 of issue 14: fail_closed sees a failure that happened before any backend command.

``scrub_env`` removes REDIS_URL; a lazily built client raises before any Redis command.
Swallowing that (no effect, no error, no log) is a fail_closed violation with no user
predicate; raising or logging a warning passes, and so does code that never read the
scrubbed variable. Env faults applied before the trigger appear in each worker's history.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest

import racecheck
from racecheck import history as h
from racecheck.invariants import FailClosed
from racecheck.result import TrialRecord

from . import lazy_dispatch

WHEN = ("start", "after_import", "before_trigger")


def _run(fn: Any, race_redis_real: Any, monkeypatch: Any, when: str = "before_trigger",
         mode: str = "threads") -> racecheck.RunResult:
    monkeypatch.setenv("REDIS_URL", race_redis_real.url)
    target = fn if mode == "threads" else f"verdicts_semantics.lazy_dispatch:{fn.__name__}"
    return racecheck.run(target, n=2, trials=2, mode=mode, args=(f"vs-fc:{uuid.uuid4().hex}",),
                         faults=[racecheck.scrub_env(["REDIS_URL"], when=when)],
                         invariants=[racecheck.fail_closed("dispatch")])


@pytest.mark.parametrize("when", WHEN)
def test_silent_skip_after_scrub_is_a_violation(race_redis_real: Any, monkeypatch: Any, when: str) -> None:
    res = _run(lazy_dispatch.silent, race_redis_real, monkeypatch, when)
    res.assert_violation("fail_closed")
    assert "swallowed" in str(res.violations[0]) and "REDIS_URL" in str(res.violations[0])
    assert {v.workers for v in res.first_failure.violations} == {(0,), (1,)}  # type: ignore[union-attr]


def test_silent_skip_is_caught_in_process_mode(race_redis_real: Any, monkeypatch: Any) -> None:
    res = _run(lazy_dispatch.silent, race_redis_real, monkeypatch, "after_import", mode="processes")
    res.assert_violation("fail_closed")


@pytest.mark.parametrize("fn", [lazy_dispatch.loud, lazy_dispatch.raising])
def test_loud_failure_passes(race_redis_real: Any, monkeypatch: Any, fn: Any) -> None:
    res = _run(fn, race_redis_real, monkeypatch)
    res.assert_ok()
    # passing is not a no-op: the fault reached both workers and they read the scrubbed variable
    t = res.trials[0]
    assert {e.worker for e in t.history.filter(h.FAULT, name="scrub_env")} == {0, 1}
    assert {e.worker for e in t.history.filter(h.ENV_READ, name="REDIS_URL")} == {0, 1}


def test_code_that_never_reads_the_scrubbed_variable_passes(race_redis_real: Any, monkeypatch: Any) -> None:
    """No read, no failure: the claim works, one worker dispatches, the other is a genuine duplicate."""
    client = race_redis_real.client()
    key = f"vs-fc:{uuid.uuid4().hex}"

    def captured(k: str) -> str:
        try:
            if client.set(f"{k}:claim", "1", nx=True, ex=60):
                racecheck.effect("dispatch", key=k)
                return "dispatched"
        except Exception:  # noqa: BLE001
            return "already dispatched"
        return "already dispatched"

    res = racecheck.run(captured, n=2, trials=1, args=(key,),
                        faults=[racecheck.scrub_env(["REDIS_URL"])], invariants=[racecheck.fail_closed("dispatch")])
    res.assert_ok()
    assert len(res.trials[0].history.filter(h.EFFECT, name="dispatch")) == 1


def test_pause_and_clock_faults_are_not_failures() -> None:
    """A worker paused (or whose clock jumped) that carries on normally did not fail open."""
    t0 = 1
    evs = [h.Event(0, 1, t0, h.FAULT, "delay", None, {"at": "x"}),
           h.Event(0, 1, t0 + 1, h.FAULT, "clock", None, {"at": "x"}),
           h.Event(0, 1, t0 + 2, h.EFFECT, "dispatch", "k", {}),
           h.Event(0, 1, t0 + 3, h.END, "", None, {})]
    assert FailClosed("dispatch").check(TrialRecord(0, h.History(evs), t0, t0 + 4)) == []
    evs[0] = h.Event(0, 1, t0, h.FAULT, "redis_error", None, {"at": "x"})
    assert FailClosed("dispatch").check(TrialRecord(0, h.History(evs), t0, t0 + 4))
