"""The issue's reference pair: a check-then-insert dispatcher is caught by stress; its locked twin passes."""

from __future__ import annotations

import racecheck
from engine import targets

SPY = racecheck.spy("engine.targets:spawn_reviewer", key="key")


def test_stress_catches_check_then_insert_dispatcher() -> None:
    """Under 8 threads with strategy="stress", the unprotected dispatcher spawns twice at least once in 20x50 trials."""
    caught = 0
    for rep in range(20):
        res = racecheck.run(targets.dispatch, n=8, trials=50, strategy="stress", seed=1000 + rep,
                            setup=targets.reset_runs, spies=[SPY],
                            invariants=[racecheck.exactly_once("spawn_reviewer")])
        if not res.ok:
            caught += 1
            assert res.violations[0].invariant == "exactly_once"
            break
    assert caught >= 1


def test_locked_dispatcher_passes_500_stress_trials() -> None:
    """The lock-protected twin passes 500 stress trials under 8 threads with no violation."""
    res = racecheck.run(targets.dispatch_locked, n=8, trials=500, strategy="stress", seed=1,
                        setup=targets.reset_runs, spies=[SPY],
                        invariants=[racecheck.exactly_once("spawn_reviewer"), racecheck.no_exceptions()])
    res.assert_ok()
    assert res.trials_run == 500
