"""Controlled strategies are fair within a bound: a contender's retries cannot starve a lock holder forever."""

from __future__ import annotations

import racecheck

STATE: dict[str, object] = {}


def reset() -> None:
    STATE.clear()
    STATE["holder"] = 0  # worker 0 holds the lock from the start


def holder_or_contender(i: int) -> str:
    if i == 0:
        for k in range(6):
            racecheck.point(f"work{k}")
        STATE["holder"] = None
        return "released"
    for _ in range(60):
        racecheck.point("try")
        if STATE["holder"] is None:
            return "acquired"
    raise RuntimeError("retries exhausted")


def _run(fairness: int) -> racecheck.RunResult:
    return racecheck.run(holder_or_contender, n=2, trials=40, strategy="pct", seed=4, depth=2,
                         worker_args=lambda i: (i,), setup=reset, fairness=fairness, stop_on_failure=True)


def test_without_fairness_a_strategy_can_starve_the_holder() -> None:
    """With fairness off, pct finds the schedule where the contender exhausts its retries."""
    _run(fairness=0).assert_violation("no_exceptions")


def test_bounded_fairness_lets_the_holder_finish() -> None:
    """With the default bound, the holder runs before the contender's 60 retries are spent."""
    result = _run(fairness=16)
    assert result.ok, result.report()
