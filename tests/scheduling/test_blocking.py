"""Blocked workers: a worker waiting on a lock held by a parked worker is set aside; real deadlocks are reported."""

from __future__ import annotations

import threading

import pytest

import racecheck
import racecheck.execution.threads
from racecheck.scheduling import Controller


class RecordingController(Controller):
    instances: list[RecordingController] = []

    def __init__(self, *a, **kw) -> None:  # noqa: ANN002, ANN003
        super().__init__(*a, **kw)
        RecordingController.instances.append(self)


@pytest.fixture
def controllers(monkeypatch: pytest.MonkeyPatch) -> list[RecordingController]:
    RecordingController.instances = []
    monkeypatch.setattr(racecheck.execution.threads, "Controller", RecordingController)
    return RecordingController.instances


def test_worker_waiting_on_a_lock_is_marked_blocked_and_run_finishes(controllers) -> None:  # noqa: ANN001
    """A worker waiting on a threading.Lock held by a parked worker is marked blocked; the holder continues."""
    lock = threading.Lock()

    def holder() -> None:
        with lock:
            racecheck.point("holding")
            racecheck.point("still_holding")

    res = racecheck.run(holder, n=2, trials=10, strategy="random", seed=1, timeout=5, quantum=0.02)
    res.assert_ok()
    assert res.trials_run == 10 and res.aborted is None
    assert sum(c.blocked_marks for c in controllers) >= 1
    for t in res.trials:
        assert len(t.history.filter("end")) == 2


def test_lock_cycle_is_reported_as_a_hang_with_each_workers_stack(controllers) -> None:  # noqa: ANN001
    """Two locks taken in opposite order with points between end the run with stacks, not a hang of the test.

    It is reported as a "hang": the controller seeing both workers blocked is no proof of a
    wait cycle (threading locks do not say who holds them), so "deadlock" is not claimed (issue 14).
    """
    a, b = threading.Lock(), threading.Lock()

    def first_a_then_b() -> None:
        with a:
            racecheck.point("got_a")
            with b:
                racecheck.point("got_both")

    def first_b_then_a() -> None:
        with b:
            racecheck.point("got_b")
            with a:
                racecheck.point("got_both")

    def trigger() -> None:
        (first_a_then_b if racecheck.current_worker() == 0 else first_b_then_a)()

    res = racecheck.run(trigger, n=2, trials=30, strategy="random", seed=1, timeout=2, quantum=0.02)
    assert not res.ok
    assert res.aborted == "hang"
    failure = res.first_failure
    assert failure is not None and failure.hung
    v = failure.violations[0]
    assert v.invariant == "hang" and sorted(v.workers) == [0, 1]
    assert "no wait cycle proven" in v.message
    assert "first_a_then_b" in failure.stacks["w0"] and "first_b_then_a" in failure.stacks["w1"]
    assert "stack of w0" in res.report()


def test_opposite_order_without_overlap_is_not_a_deadlock() -> None:
    """The same two locks always taken in one order never deadlock under the controller."""
    a, b = threading.Lock(), threading.Lock()

    def ordered() -> None:
        with a:
            racecheck.point("got_a")
            with b:
                racecheck.point("got_both")

    res = racecheck.run(ordered, n=2, trials=10, strategy="random", seed=1, timeout=2, quantum=0.02)
    res.assert_ok()
