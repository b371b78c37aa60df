"""Schedule strings: encode/decode, replay reproduces a failure, a passing schedule raises DidNotReproduce."""

from __future__ import annotations

import pytest

import racecheck
from racecheck.scheduling import Schedule
from scheduling import targets

OPTS = dict(setup=targets.reset, invariants=[racecheck.exactly_once("spawn")], timeout=10)


def test_schedule_string_round_trips() -> None:
    """Schedule.encode and Schedule.decode are inverse, with run-length encoded choices."""
    s = Schedule(3, 77, 4, (0, 0, 0, 1, 2, 2, 0))
    text = s.encode()
    assert text == "rc1:3:77:4:0x3.1.2x2.0"
    assert Schedule.decode(text) == s
    assert s.context_switches == 3
    assert Schedule.decode("rc1:2:1:0:-").choices == ()


@pytest.mark.parametrize("bad", ["rc2:2:1:0:0", "rc1:2:1:0", "rc1:2:x:0:0", "rc1:2:1:0:0.5"])
def test_damaged_schedule_is_a_config_error(bad: str) -> None:
    """A schedule that is not rc1, is cut short, is not numeric or names a worker >= n is refused."""
    with pytest.raises(racecheck.ConfigError, match="schedule"):
        Schedule.decode(bad)


@pytest.mark.parametrize("strategy", ["random", "pct", "dfs", "hypothesis"])
def test_failing_schedule_replays(strategy: str) -> None:
    """A failing run's schedule replays the same violation at least 9 times out of 10."""
    res = racecheck.run(targets.check_then_act, n=2, trials=20, strategy=strategy, seed=3, **OPTS)
    sched = res.first_failure.schedule
    rep = racecheck.replay(targets.check_then_act, sched, times=10, **OPTS)
    assert rep.reproduced >= 9
    assert str(rep) == f"reproduced {rep.reproduced}/10"
    assert rep.result is not None and rep.result.violations[0].invariant == "exactly_once"


def test_replay_with_four_workers() -> None:
    """A 4-worker failing schedule replays with n taken from the schedule string."""
    res = racecheck.run(targets.check_then_act, n=4, trials=20, strategy="pct", seed=4, **OPTS)
    rep = racecheck.replay(targets.check_then_act, res.first_failure.schedule, times=5, **OPTS)
    assert rep.reproduced == 5 and rep.result.n == 4


def test_replay_of_passing_schedule_raises_did_not_reproduce() -> None:
    """Replaying the schedule of a trial that passed raises DidNotReproduce naming the schedule."""
    # dfs: its first trial is the non-preemptive schedule, which passes (random now finds the
    # bug in every trial, so it may run no passing schedule).
    res = racecheck.run(targets.check_then_act, n=2, trials=10, strategy="dfs", seed=3,
                        stop_on_failure=False, **OPTS)
    passing = next(t.schedule for t in res.trials if t.ok)
    with pytest.raises(racecheck.DidNotReproduce, match=passing.replace(".", r"\.")):
        racecheck.replay(targets.check_then_act, passing, times=3, **OPTS)


def test_replay_of_failing_schedule_on_fixed_code_raises_did_not_reproduce() -> None:
    """A failing schedule replayed against the fixed (locked) code does not reproduce."""
    res = racecheck.run(targets.check_then_act, n=2, trials=20, strategy="random", seed=3, **OPTS)
    with pytest.raises(racecheck.DidNotReproduce):
        racecheck.replay(targets.check_then_act_locked, res.first_failure.schedule, times=1,
                         quantum=0.02, **OPTS)
