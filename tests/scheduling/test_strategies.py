"""Controlled strategies catch the in-memory check-then-act quickly and pass its locked twin."""

from __future__ import annotations

import pytest

import racecheck
from racecheck.scheduling import Schedule
from scheduling import targets

CONTROLLED = ["random", "pct", "dfs", "hypothesis"]


def _run(target, strategy: str, seed: int, trials: int = 20, n: int = 2, **kw):  # noqa: ANN001, ANN202
    return racecheck.run(target, n=n, trials=trials, strategy=strategy, seed=seed, setup=targets.reset,
                         invariants=[racecheck.exactly_once("spawn")], timeout=10, **kw)


@pytest.mark.parametrize("strategy", CONTROLLED)
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_controlled_strategy_catches_check_then_act(strategy: str, seed: int) -> None:
    """With a fixed seed each controlled strategy finds the double spawn within 20 trials."""
    res = _run(targets.check_then_act, strategy, seed)
    assert not res.ok
    assert res.trials_to_detection is not None and res.trials_to_detection <= 20
    assert res.violations[0].invariant == "exactly_once"
    assert res.first_failure is not None and res.first_failure.schedule.startswith("rc1:2:")


@pytest.mark.parametrize("strategy", CONTROLLED)
def test_controlled_strategy_catches_check_then_act_with_4_workers(strategy: str) -> None:
    """With 4 workers each controlled strategy still finds the double spawn within 20 trials."""
    res = _run(targets.check_then_act, strategy, seed=5, n=4)
    res.assert_violation("exactly_once")


@pytest.mark.parametrize("strategy", CONTROLLED)
def test_controlled_strategy_passes_locked_twin(strategy: str) -> None:
    """The lock-protected check-then-act passes every controlled strategy (no hang, no violation)."""
    res = _run(targets.check_then_act_locked, strategy, seed=1, trials=8, quantum=0.02)
    res.assert_ok()
    assert res.aborted is None


def test_replay_strategy_catches_check_then_act() -> None:
    """strategy="replay" with a failing schedule reproduces the double spawn on its single trial."""
    sched = _run(targets.check_then_act, "random", seed=1).first_failure.schedule
    res = _run(targets.check_then_act, "replay", seed=1, trials=1, schedule=sched)
    res.assert_violation("exactly_once")
    assert res.first_failure.schedule == sched


def test_dfs_reports_exhausted_space_with_distinct_schedules() -> None:
    """DFS over 2 workers with 2 points each stops when the space is exhausted, every schedule distinct."""
    res = racecheck.run(targets.two_points, n=2, trials=200, strategy="dfs", seed=1, timeout=10)
    res.assert_ok()
    assert res.exhausted
    assert res.trials_run < 200
    schedules = [Schedule.decode(t.schedule).choices for t in res.trials]
    assert len(set(schedules)) == len(schedules)
    assert "schedule space exhausted" in res.summary()


def test_dfs_with_zero_preemptions_runs_one_schedule() -> None:
    """DFS with max_preemptions=0 has only the run-to-completion schedule, so it misses the race."""
    res = _run(targets.check_then_act, "dfs", seed=1, max_preemptions=0)
    res.assert_ok()
    assert res.exhausted and res.trials_run == 1


def test_hypothesis_shrinks_to_few_context_switches(capsys: pytest.CaptureFixture[str]) -> None:
    """Hypothesis finds the double spawn and shrinks the schedule to at most 2 context switches."""
    from racecheck.trial_text import step_list

    res = _run(targets.check_then_act, "hypothesis", seed=1, trials=50)
    failure = res.first_failure
    assert failure is not None and failure.schedule
    sched = Schedule.decode(failure.schedule)
    assert sched.context_switches <= 2
    steps = step_list(failure)
    for row in steps:
        print(f"w{row['worker']} {row['kind']:<12} {row['point']} {row['detail'] or ''}")
    assert [r["point"] for r in steps].count("spawn") >= 2
    assert "spawn" in capsys.readouterr().out
