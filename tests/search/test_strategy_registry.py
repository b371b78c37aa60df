"""Strategies are registered by name: a toy strategy registered in one place runs through racecheck.run."""

from __future__ import annotations

import threading

import pytest

import racecheck
from racecheck.errors import ConfigError
from racecheck.scheduling import strategies
from racecheck.scheduling.strategies import (
    DFS,
    PCT,
    STRATEGY_NAMES,
    Base,
    RandomWalk,
    make_strategy,
)

STATE: dict[str, int] = {}
LOCK = threading.Lock()


def reset() -> None:
    STATE.clear()


def check_then_act(key: str = "k") -> str:
    racecheck.point("check")
    if key in STATE:
        return "existing"
    racecheck.point("act")
    racecheck.effect("spawn", key=key)
    STATE[key] = 1
    return "created"


def check_then_act_locked(key: str = "k") -> str:
    with LOCK:
        return check_then_act(key)


class RoundRobin(Base):
    """Toy: the next worker in turn after the last one (every step is a context switch)."""

    name = "toy-round-robin"

    @classmethod
    def from_options(cls, *, seed: int, depth: int, max_preemptions: int, schedule: str | None) -> RoundRobin:
        return cls()

    def __init__(self) -> None:
        self.trials_seen = 0

    def begin_trial(self, trial: int, n: int) -> None:
        super().begin_trial(trial, n)
        self.trials_seen += 1

    def choose(self, waiting: list[int], step: int, last: int | None, force: bool) -> int | None:
        later = [w for w in waiting if last is None or w > last]
        return (later or waiting)[0]


@pytest.fixture
def toy():
    strategies.register(RoundRobin)
    yield RoundRobin.name
    strategies.unregister(RoundRobin.name)


def test_a_registered_toy_strategy_finds_the_race(toy):
    res = racecheck.run(check_then_act, n=2, trials=3, strategy=toy, setup=reset,
                        invariants=[racecheck.at_most_once("spawn")])
    res.assert_violation("at_most_once")
    assert res.strategy == toy
    assert len(res.trials) == 1, "round robin makes both workers check before either acts in the first trial"
    assert res.first_failure.schedule.startswith("rc1:2:")


def test_a_registered_toy_strategy_passes_the_locked_twin(toy):
    res = racecheck.run(check_then_act_locked, n=2, trials=5, strategy=toy, setup=reset,
                        invariants=[racecheck.at_most_once("spawn")])
    res.assert_ok()
    assert res.trials_run == 5
    assert all(t.schedule for t in res.trials), "the toy controlled every trial"


def test_built_in_names_map_to_their_modules():
    assert STRATEGY_NAMES == ("stress", "random", "pct", "dfs", "replay", "hypothesis")
    assert isinstance(make_strategy("random", seed=1), RandomWalk)
    assert isinstance(make_strategy("pct", seed=1, depth=2), PCT)
    assert isinstance(make_strategy("dfs", seed=1, max_preemptions=1), DFS)
    assert make_strategy("stress", seed=1) is None
    assert RandomWalk.__module__ == "racecheck.scheduling.strategies.random_walk"
    assert strategies.is_controlled("pct") and not strategies.is_controlled("stress")


def test_unknown_and_duplicate_names_are_refused(toy):
    with pytest.raises(ConfigError, match="unknown strategy 'nope'.*toy-round-robin"):
        make_strategy("nope", seed=1)

    class Impostor(RoundRobin):
        name = "pct"

    with pytest.raises(ConfigError, match="'pct' is already registered"):
        strategies.register(Impostor)
    with pytest.raises(ConfigError, match="built in"):
        strategies.unregister("dfs")
    assert strategies.REGISTRY["pct"] is PCT


def _unseen_counter() -> None:  # shared state and no scheduling point: controlled strategies see nothing
    STATE["n"] = STATE.get("n", 0) + 1


def test_a_registered_strategy_that_reaches_no_point_is_inconclusive_not_green(toy):
    """The 'no scheduling point reached' check covers registered strategies, not only built-in ones."""
    res = racecheck.run(_unseen_counter, n=2, trials=3, strategy=toy, setup=reset)
    assert res.verdict == "inconclusive", res.reasons
    assert any("scheduling point" in r for r in res.reasons), res.reasons
    seen = racecheck.run(check_then_act_locked, n=2, trials=3, strategy=toy, setup=reset,
                         invariants=[racecheck.at_most_once("spawn")])
    assert seen.verdict == "pass", seen.reasons
