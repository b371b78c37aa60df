"""Incident 001: the groomer run lock (first writer wins, stale reclaim, release by token)."""

from __future__ import annotations

from typing import Any

from incidents import s001_groomer as m

import racecheck

GROOM = "incidents.s001_groomer:groom_issue"
INVARIANTS = [racecheck.at_most_once("groom_issue"), racecheck.mutual_exclusion("groomer"), racecheck.no_exceptions()]

# w0 grooms and is then paused before its release; w1 (its clock 1 h ahead) finds w0's row
# stale, reclaims it and grooms slowly; w0 releases; w2 arrives while w1 still grooms.
STALE_RECLAIM = [
    racecheck.delay("sql:SELECT sync_run_id*", 0.25, worker=1),
    racecheck.clock("sql:SELECT sync_run_id*", 3600, worker=1),
    racecheck.delay("groomer:release", 0.5, worker=0),
    racecheck.delay("groom_issue:after", 0.8, worker=1),
    racecheck.delay("sql:SELECT sync_run_id*", 0.75, worker=2),
]


def test_unlocked_groomer_grooms_an_issue_twice(race: Any, pg: Any) -> None:
    """Two concurrent groomer runs without a run lock select and groom the same issue."""
    race.spy(GROOM, key="issue_id")
    result = race.run(m.run_groomer_buggy, n=4, trials=10, strategy="random", seed=1, setup=m.setup,
                      invariants=INVARIANTS)
    result.assert_violation("at_most_once")


def test_locked_groomer_grooms_each_issue_once(race: Any, pg: Any) -> None:
    """Behind the first-writer-wins lock, runs never overlap and no issue is groomed twice."""
    race.spy(GROOM, key="issue_id")
    result = race.run(m.run_groomer_fixed, n=4, trials=15, strategy="random", seed=1, setup=m.setup,
                      invariants=INVARIANTS)
    result.assert_ok()


def test_tokenless_release_frees_a_reclaimed_lock(race: Any, pg: Any) -> None:
    """A run paused past the stale window releases by id and frees the lock another run reclaimed: two groom at once."""
    race.spy(GROOM, key="issue_id")
    result = race.run(m.run_groomer_tokenless_release, n=3, trials=2, seed=1, setup=m.setup,
                      faults=STALE_RECLAIM, invariants=INVARIANTS)
    result.assert_violation("mutual_exclusion")


def test_release_by_token_keeps_a_reclaimed_lock(race: Any, pg: Any) -> None:
    """With release by token, the paused run's release is a no-op and the third run bails."""
    race.spy(GROOM, key="issue_id")
    result = race.run(m.run_groomer_fixed, n=3, trials=2, seed=1, setup=m.setup,
                      faults=STALE_RECLAIM, invariants=INVARIANTS)
    result.assert_ok()
    ends = [e.payload.get("result") for e in result.trials[-1].history if e.kind == "end" and e.worker == 2]
    assert ends == ["None"]  # w2 found w1's fresh lock and bailed like an empty tick
