"""Controlled asyncio: random, pct, dfs and hypothesis move one task at a time between awaited points."""

from __future__ import annotations

import asyncio

import pytest

import racecheck
import racecheck.execution.aio
from async_control import targets
from racecheck.scheduling import Schedule
from racecheck.scheduling.async_controller import AsyncController

CONTROLLED = ["random", "pct", "dfs", "hypothesis"]
SPAWN_ONCE = [racecheck.exactly_once("spawn")]


class RecordingAsyncController(AsyncController):
    instances: list[RecordingAsyncController] = []

    def __init__(self, *a, **kw) -> None:  # noqa: ANN002, ANN003
        super().__init__(*a, **kw)
        RecordingAsyncController.instances.append(self)


@pytest.fixture
def controllers(monkeypatch: pytest.MonkeyPatch) -> list[RecordingAsyncController]:
    RecordingAsyncController.instances = []
    monkeypatch.setattr(racecheck.execution.aio, "AsyncController", RecordingAsyncController)
    return RecordingAsyncController.instances


def run(target, **kw):  # noqa: ANN001, ANN003, ANN201
    opts = dict(mode="asyncio", setup=targets.reset, invariants=SPAWN_ONCE, timeout=10)
    opts.update(kw)
    return racecheck.run(target, **opts)


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("strategy", CONTROLLED)
def test_async_check_then_act_is_caught_within_10_trials(strategy: str, seed: int) -> None:
    """An await racecheck.apoint() between check and act lets a second task act too: caught in <= 10 trials."""
    res = run(targets.check_then_act, n=3, trials=10, strategy=strategy, seed=seed)
    assert not res.ok
    assert res.first_failure.violations[0].invariant == "exactly_once"
    assert res.first_failure.schedule and res.first_failure.schedule.startswith("rc1:3:")


@pytest.mark.parametrize("strategy", CONTROLLED)
def test_lock_protected_twin_passes_200_trials(strategy: str, controllers) -> None:  # noqa: ANN001
    """The asyncio.Lock-protected twin passes 200 trials; the lock really was contended (tasks blocked on it)."""
    res = run(targets.check_then_act_locked, n=3, trials=200, strategy=strategy, seed=7)
    res.assert_ok()
    assert res.trials_run == 200 or (strategy == "dfs" and res.exhausted)
    assert sum(c.blocked_marks for c in controllers) >= 1
    for t in res.trials:
        assert len(t.history.filter("end")) == 3


def test_task_blocked_on_a_lock_held_by_a_parked_task_does_not_deadlock(controllers) -> None:  # noqa: ANN001
    """A task waiting on an asyncio.Lock whose holder is parked at a point is set aside; the holder moves on."""
    res = run(targets.check_then_act_locked, n=2, trials=20, strategy="random", seed=5, timeout=5)
    res.assert_ok()
    assert res.aborted is None and res.trials_run == 20
    marks = [c.blocked_marks for c in controllers]
    assert sum(marks) >= 1, marks
    for t in res.trials:
        assert not t.hung and len(t.history.filter("end")) == 2


def test_real_deadlock_ends_the_trial_as_a_hang_with_both_await_chains() -> None:
    """Two tasks taking two asyncio.Locks in opposite order with a point between: the trial ends at its
    timeout as a hang (no Postgres wait cycle to prove a deadlock), each stack down to the lock's acquire."""
    res = racecheck.run(targets.opposite_order, n=2, trials=20, mode="asyncio", strategy="random", seed=1,
                        setup=targets.reset_two_locks, timeout=1)
    assert not res.ok
    trial = res.first_failure
    assert trial.hung and trial.violations[0].invariant == "hang"
    assert set(trial.stacks) == {"w0", "w1"}
    assert all("locks.py" in stack and "opposite_order" in stack for stack in trial.stacks.values())


@pytest.mark.parametrize("strategy", ["random", "pct", "dfs", "hypothesis"])
def test_failing_schedule_replays_10_of_10(strategy: str) -> None:
    """A failing asyncio schedule replays the same violation 10 times out of 10 (racecheck.replay)."""
    res = run(targets.check_then_act, n=3, trials=10, strategy=strategy, seed=2)
    sched = res.first_failure.schedule
    rep = racecheck.replay(targets.check_then_act, sched, times=10, mode="asyncio", setup=targets.reset,
                           invariants=SPAWN_ONCE, timeout=10)
    assert rep.reproduced == 10
    assert rep.result is not None and rep.result.first_failure.schedule == sched


def test_replay_strategy_reproduces_the_steps_exactly() -> None:
    """strategy='replay' hands back the recorded choices: the replayed trial records the same schedule string."""
    res = run(targets.check_then_act, n=4, trials=10, strategy="random", seed=4)
    sched = res.first_failure.schedule
    for _ in range(3):
        again = run(targets.check_then_act, n=4, trials=1, strategy="replay", schedule=sched,
                    seed=Schedule.decode(sched).seed)
        assert not again.ok and again.first_failure.schedule == sched


def test_passing_schedule_does_not_reproduce() -> None:
    """Replaying the schedule of a passing trial is reported as not reproducing, not as a failure found."""
    res = run(targets.check_then_act, n=2, trials=1, strategy="dfs", seed=1)
    assert res.ok  # dfs's first schedule runs each task to its end: no race
    with pytest.raises(racecheck.DidNotReproduce):
        racecheck.replay(targets.check_then_act, res.trials[0].schedule, times=3, mode="asyncio",
                         setup=targets.reset, invariants=SPAWN_ONCE)


def test_same_seed_same_schedules() -> None:
    """In-memory asyncio trials are deterministic: the same seed gives the same schedule strings."""
    a = run(targets.check_then_act_locked, n=3, trials=20, strategy="random", seed=11)
    b = run(targets.check_then_act_locked, n=3, trials=20, strategy="random", seed=11)
    assert [t.schedule for t in a.trials] == [t.schedule for t in b.trials]
    assert len({t.schedule for t in a.trials}) > 1


def test_dfs_exhausts_a_small_space_without_repeats() -> None:
    """dfs runs every schedule of two tasks with two points each once, then says exhausted."""
    res = racecheck.run(targets.two_steps, n=2, trials=500, mode="asyncio", strategy="dfs", seed=1)
    res.assert_ok()
    assert res.exhausted
    schedules = [Schedule.decode(t.schedule).choices for t in res.trials]
    assert len(schedules) == len(set(schedules)) > 4


def test_hypothesis_shrinks_to_one_switch() -> None:
    """Hypothesis shrinks the failing asyncio schedule to the fewest context switches the race needs."""
    res = run(targets.check_then_act, n=2, trials=50, strategy="hypothesis", seed=1)
    assert not res.ok
    assert Schedule.decode(res.first_failure.schedule).context_switches <= 2


def test_asyncio_sleep_in_a_task_lets_another_task_run(controllers) -> None:  # noqa: ANN001
    """Without virtual time an asyncio.sleep in the chosen task is a block: another task is chosen,
    the race is still found. (With it, the default, the sleep is a point: tests/search.)"""
    res = run(targets.sleepy_check_then_act, n=2, trials=10, strategy="pct", seed=1, virtual_time=False)
    assert not res.ok
    assert sum(c.blocked_marks for c in controllers) >= 1


def test_asyncio_sleep_is_a_point_under_virtual_time(controllers) -> None:  # noqa: ANN001
    """With virtual time (the default) the same sleep is a point: no block, the race is still found."""
    res = run(targets.sleepy_check_then_act, n=2, trials=10, strategy="pct", seed=1)
    assert not res.ok
    assert any(e.name == "sleep:0.001" for e in res.first_failure.history.filter("point"))


def test_sync_point_in_a_task_is_recorded_but_cannot_yield(controllers) -> None:  # noqa: ANN001
    """racecheck.point() inside a task records its point and fires faults, but no other task runs there."""
    res = run(targets.sync_point_in_task, n=3, trials=30, strategy="random", seed=1)
    res.assert_ok()
    assert all(len(t.history.filter("point")) >= 1 for t in res.trials)
    assert sum(c.sync_points for c in controllers) >= 30


def test_async_delay_fault_is_awaited_not_slept() -> None:
    """A delay fault at an async point sleeps only that task: the other task passes first in every trial."""
    res = racecheck.run(targets.delayed, n=2, trials=6, mode="asyncio", strategy="random", seed=1,
                        faults=[racecheck.delay("slow", 0.2, worker=0)], invariants=[])
    for t in res.trials:
        passed = [e.worker for e in t.history.filter("effect")]
        assert passed == [1, 0], (t.schedule, passed)


def test_async_delay_fault_under_stress_is_awaited_too() -> None:
    """The same without control (stress): the delay is awaited, so worker 1 is never held up by it."""
    res = racecheck.run(targets.delayed, n=2, trials=3, mode="asyncio", strategy="stress",
                        faults=[racecheck.delay("slow", 0.2, worker=0)], invariants=[])
    for t in res.trials:
        assert [e.worker for e in t.history.filter("effect")] == [1, 0]


@pytest.mark.parametrize("strategy", ["stress", "random"])
def test_crash_at_an_async_point_parks_the_task(strategy: str) -> None:
    """A task crashed at an async point stops there: its finally does not run, the others finish, no hang."""
    res = racecheck.run(targets.release_in_finally, n=2, trials=6, mode="asyncio", strategy=strategy, seed=1,
                        setup=targets.reset, faults=[racecheck.crash("claimed", worker=0)], invariants=[],
                        timeout=5)
    for t in res.trials:
        assert not t.hung
        assert t.history.crashed_workers() == {0}
        assert [(e.worker, e.key) for e in t.history.filter("effect")] == [(1, "0")]


class _OpaqueTask(asyncio.tasks._PyTask):  # type: ignore[name-defined,misc]
    """A Task that does not show what it awaits (as a third-party Task class might not)."""

    @property
    def _fut_waiter(self):  # noqa: ANN202
        raise AttributeError("_fut_waiter")

    @_fut_waiter.setter
    def _fut_waiter(self, value) -> None:  # noqa: ANN001
        self.__dict__["_hidden_waiter"] = value


def test_without_fut_waiter_the_gate_falls_back_to_a_quantum(monkeypatch: pytest.MonkeyPatch,
                                                             controllers) -> None:  # noqa: ANN001
    """With a Task class lacking _fut_waiter, a lock waiter is still set aside (after a quantum) and the bug still found."""
    monkeypatch.setattr(asyncio, "create_task", lambda coro, name=None: _OpaqueTask(
        coro, loop=asyncio.get_running_loop(), name=name))
    ok = run(targets.check_then_act_locked, n=2, trials=10, strategy="random", seed=5, timeout=5)
    ok.assert_ok()
    assert ok.trials_run == 10 and sum(c.blocked_marks for c in controllers) >= 1
    assert not run(targets.check_then_act, n=2, trials=10, strategy="random", seed=5).ok


@pytest.mark.parametrize("strategy", ["random", "pct", "dfs"])
def test_helper_tasks_of_a_trigger_queue_at_their_workers_points(strategy: str) -> None:
    """gather()ed helper tasks reach points as their worker; every one gets its turn and the trial ends."""
    res = racecheck.run(targets.gathered, n=3, trials=15, mode="asyncio", strategy=strategy, seed=1,
                        invariants=[racecheck.exactly_once("part")], timeout=5)
    res.assert_ok()
    for t in res.trials:
        assert not t.hung and len(t.history.filter("end")) == 3
        assert len(t.history.filter("effect")) == 6
        assert {e.worker for e in t.history.filter("point") if e.name == "a:2"} == {0, 1, 2}


def test_an_outside_wait_that_never_answers_is_blocked_after_the_grace(controllers) -> None:  # noqa: ANN001
    """A task awaiting a plain future keeps its turn for the I/O grace, then is set aside so its resolver runs."""
    res = racecheck.run(targets.handoff, n=2, trials=12, mode="asyncio", strategy="random", seed=3,
                        setup=targets.reset_handoff, invariants=[racecheck.exactly_once("got")], timeout=5)
    res.assert_ok()
    assert all(not t.hung for t in res.trials)
    assert sum(c.io_waits for c in controllers) >= 1
    assert sum(c.blocked_marks for c in controllers) >= 1
