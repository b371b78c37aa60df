"""Thread-mode trials get their threads started ahead (while the previous trial is judged), yet every
trial's threads are fresh: thread-local state never carries over, and none outlives the run."""

from __future__ import annotations

import threading
import time

import pytest

import racecheck

_LOCAL = threading.local()


def _fresh_local() -> bool:
    fresh = not hasattr(_LOCAL, "used")
    _LOCAL.used = True
    racecheck.point("p")
    return fresh


@pytest.mark.parametrize("strategy", ["stress", "random"])
def test_no_trial_sees_the_thread_local_state_of_another(strategy: str) -> None:
    res = racecheck.run(_fresh_local, n=3, trials=6, strategy=strategy, seed=2)
    res.assert_ok()
    results = [e.payload["result"] for tr in res.trials for e in tr.history if e.kind == "end"]
    assert results == ["True"] * 18


def _crew_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("racecheck-w") and t.is_alive()]


def test_the_threads_started_for_a_trial_that_never_came_are_gone_after_the_run() -> None:
    """stop_on_failure ends the run early: the crew started for the next trial is dismissed."""
    before = set(_crew_threads())

    def fails() -> None:
        raise RuntimeError("boom")

    res = racecheck.run(fails, n=4, trials=10)
    assert len(res.trials) == 1 and not res.ok
    end = time.monotonic() + 10
    while set(_crew_threads()) - before and time.monotonic() < end:
        time.sleep(0.01)
    assert not set(_crew_threads()) - before
