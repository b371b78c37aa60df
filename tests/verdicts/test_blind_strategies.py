"""Item 1: under a controlled strategy, a run whose workers reached no point cannot pass."""

from __future__ import annotations

import pytest

import racecheck

from . import targets

AT_MOST_ONCE = [racecheck.at_most_once("spawn")]


@pytest.mark.parametrize("strategy", ["random", "pct", "dfs"])
def test_in_memory_code_without_points_is_inconclusive(strategy: str) -> None:
    """The check-then-act bug runs atomically with no point: no violation, but never a pass."""
    res = racecheck.run(targets.blind_check_then_act, n=2, trials=10, strategy=strategy, seed=3,
                        setup=targets.reset, invariants=AT_MOST_ONCE)
    assert res.ok
    assert res.verdict == "inconclusive"
    assert "no scheduling point reached in any of" in res.reasons[0]
    assert "racecheck.point()" in res.reasons[0] and "strategy='stress'" in res.reasons[0]
    with pytest.raises(racecheck.errors.Inconclusive, match="no scheduling point reached"):
        res.assert_ok()


def test_the_same_bug_with_points_is_caught_and_its_fix_passes() -> None:
    buggy = racecheck.run(targets.check_then_act, n=2, trials=20, strategy="random", seed=3,
                          setup=targets.reset, invariants=AT_MOST_ONCE)
    assert buggy.verdict == "violation"
    fixed = racecheck.run(targets.check_then_act_locked, n=2, trials=10, strategy="random", seed=3,
                          setup=targets.reset, invariants=AT_MOST_ONCE)
    assert fixed.verdict == "pass" and fixed.reasons == []
    fixed.assert_ok()


def test_stress_is_not_judged_by_points() -> None:
    """Stress does not serialise workers between points: the rule is for controlled strategies only."""
    res = racecheck.run(targets.blind_check_then_act, n=2, trials=3, setup=targets.reset,
                        invariants=[racecheck.custom(lambda h: None, name="nothing")])
    assert res.verdict == "pass"


def test_a_spy_is_a_point() -> None:
    """Spied calls are points: a run whose only points are a spy's is judged normally."""
    spy = racecheck.spy("verdicts.targets:spawn_reviewer", key="key")
    res = racecheck.run(targets.spawn_once, n=2, trials=5, strategy="pct", seed=1, spies=[spy],
                        setup=targets.reset, invariants=[racecheck.at_most_once("spawn_reviewer")])
    assert res.verdict == "pass", res.reasons


def test_only_the_start_point_is_not_enough() -> None:
    """Reaching the start gate is not a point between start and end."""
    res = racecheck.run(targets.blind_check_then_act, n=3, trials=2, strategy="pct", seed=1,
                        setup=targets.reset, invariants=AT_MOST_ONCE)
    assert res.verdict == "inconclusive"


def test_some_trials_with_points_are_enough() -> None:
    """A run where only some trials reached points is conclusive (points may be data-dependent)."""
    calls = {"n": 0}

    def sometimes() -> None:
        calls["n"] += 1
        if calls["n"] <= 2:
            racecheck.point("rare")
        racecheck.effect("spawn", key=str(racecheck.current_worker()))

    res = racecheck.run(sometimes, n=2, trials=4, strategy="random", seed=1, invariants=AT_MOST_ONCE)
    assert res.verdict == "pass", res.reasons


def test_psycopg2_is_instrumented_so_its_run_is_judged(race_postgres) -> None:  # noqa: ANN001
    """psycopg2 statements are points (racecheck.drivers): the same run is never called blind."""
    race_postgres.execute("create table claims (k text)")
    res = racecheck.run(targets.psycopg2_check_then_act, n=2, trials=3, strategy="pct", seed=1,
                        args=(race_postgres.url,), setup=lambda: race_postgres.execute("truncate claims"),
                        invariants=AT_MOST_ONCE)
    assert not any("no scheduling point reached" in r for r in res.reasons), res.reasons


def test_the_uninstrumented_client_of_the_target_module_is_named(tmp_path) -> None:  # noqa: ANN001
    from . import sqlite_app

    sqlite_app.PATH["db"] = str(tmp_path / "claims.db")
    res = racecheck.run(sqlite_app.claim, n=2, trials=3, strategy="pct", seed=1,
                        setup=sqlite_app.reset, invariants=AT_MOST_ONCE)
    assert res.verdict == "inconclusive"
    assert ("sqlite3 is imported but not instrumented; use racecheck.point() calls around each query"
            in res.reasons[0])
