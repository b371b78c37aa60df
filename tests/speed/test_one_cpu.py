"""A controlled thread trial runs its worker threads on one CPU (handoffs are then same-CPU wakeups);
a stress trial, the runner's own thread and an opted-out run are left alone; schedules do not change."""

from __future__ import annotations

import os
import threading
from typing import Any

import pytest

import racecheck

pytestmark = pytest.mark.skipif(not hasattr(os, "sched_getaffinity"), reason="Linux CPU affinity only")


def _mask() -> list[int]:
    racecheck.point("p")
    return sorted(os.sched_getaffinity(0))


def _policy() -> int:
    racecheck.point("p")
    return os.sched_getscheduler(0)


def _masks(res: racecheck.RunResult) -> list[Any]:
    return [eval(e.payload["result"]) for tr in res.trials for e in tr.history if e.kind == "end"]  # noqa: S307


def test_the_workers_of_a_controlled_trial_share_one_cpu_and_the_runner_keeps_its_own() -> None:
    before = sorted(os.sched_getaffinity(0))
    res = racecheck.run(_mask, n=4, trials=3, strategy="random", seed=1)
    res.assert_ok()
    masks = _masks(res)
    assert len(masks) == 12
    if len(before) < 2:
        assert all(m == before for m in masks)  # one CPU only: nothing to pin
    else:
        for tr in res.trials:
            got = {tuple(eval(e.payload["result"])) for e in tr.history if e.kind == "end"}  # noqa: S307
            assert len(got) == 1, f"the workers of trial {tr.index} ran on different CPUs: {got}"
            (cpu,) = got
            assert len(cpu) == 1 and cpu[0] in before
    assert sorted(os.sched_getaffinity(0)) == before  # the runner's thread is not pinned


def test_controlled_workers_are_batch_tasks_and_stress_workers_are_not(monkeypatch: pytest.MonkeyPatch) -> None:
    """SCHED_BATCH keeps a woken worker from preempting the one that hands over (see one_cpu)."""
    if len(os.sched_getaffinity(0)) < 2:
        pytest.skip("one CPU: nothing is pinned, nor made a batch task")
    own = os.sched_getscheduler(0)
    res = racecheck.run(_policy, n=3, trials=2, strategy="random", seed=1)
    res.assert_ok()
    assert _masks(res) == [os.SCHED_BATCH] * 6
    res = racecheck.run(_policy, n=3, trials=2, strategy="stress")
    assert _masks(res) == [own] * 6
    monkeypatch.setenv("RACECHECK_ONE_CPU", "0")
    res = racecheck.run(_policy, n=3, trials=2, strategy="pct", seed=1)
    assert _masks(res) == [own] * 6
    assert os.sched_getscheduler(0) == own  # the runner's thread keeps its policy


def test_stress_trials_and_opted_out_runs_are_not_pinned(monkeypatch: pytest.MonkeyPatch) -> None:
    allowed = sorted(os.sched_getaffinity(0))
    res = racecheck.run(_mask, n=3, trials=2, strategy="stress")
    res.assert_ok()
    assert _masks(res) == [allowed] * 6
    monkeypatch.setenv("RACECHECK_ONE_CPU", "0")
    res = racecheck.run(_mask, n=3, trials=2, strategy="random", seed=1)
    res.assert_ok()
    assert _masks(res) == [allowed] * 6


def test_a_thread_the_trigger_starts_runs_on_the_workers_cpu() -> None:
    def starts_a_thread() -> list[int]:
        seen: list[list[int]] = []
        t = threading.Thread(target=lambda: seen.append(sorted(os.sched_getaffinity(0))))
        t.start()
        t.join()
        racecheck.point("p")
        assert seen[0] == sorted(os.sched_getaffinity(0))
        return seen[0]

    racecheck.run(starts_a_thread, n=2, trials=2, strategy="random", seed=3).assert_ok()


def _counter_target() -> None:
    racecheck.point("read")
    racecheck.point("write")


def test_pinning_leaves_the_schedules_as_they_were(monkeypatch: pytest.MonkeyPatch) -> None:
    pinned = racecheck.run(_counter_target, n=3, trials=8, strategy="random", seed=7)
    monkeypatch.setenv("RACECHECK_ONE_CPU", "0")
    free = racecheck.run(_counter_target, n=3, trials=8, strategy="random", seed=7)
    assert [t.schedule for t in pinned.trials] == [t.schedule for t in free.trials]
