"""Incident 004: pending review dispatch, the atomic claim with stale reclaim, and the duplicate start guard."""

from __future__ import annotations

from typing import Any

from incidents import s004_dispatch as m

import racecheck

SPIES = [("incidents.s004_dispatch:dispatch", "review_id"), ("incidents.s004_dispatch:run_review", "review_id")]
NO_STUCK = racecheck.no_stuck(m.stuck_reviews, "reviews left pending or queued")
CRASH_BEFORE_DISPATCH = [racecheck.crash("dispatch:before", worker=0)]
RUNNING_WRITE_FAILS = [racecheck.db_error("sql:UPDATE code_reviews SET status = 'running'*", worker=0)]
ONCE = [racecheck.at_most_once("dispatch"), racecheck.at_most_once("run_review"), racecheck.no_exceptions()]


def _spy(race: Any) -> None:
    for target, key in SPIES:
        race.spy(target, key=key)


def test_queue_before_dispatch_strands_a_review(race: Any, pg: Any) -> None:
    """A crash between 'queued' and the dispatch leaves the review queued forever, even after the next cycle."""
    _spy(race)
    result = race.run(m.dispatch_pending_buggy, n=1, trials=2, seed=1, setup=m.setup, recover=m.recover_buggy,
                      faults=CRASH_BEFORE_DISPATCH, invariants=[NO_STUCK])
    result.assert_violation("no_stuck")


def test_stale_queued_review_is_reclaimed(race: Any, pg: Any) -> None:
    """With the atomic claim, the next cycle after the stale window reclaims and dispatches the stranded review."""
    _spy(race)
    result = race.run(m.dispatch_pending_fixed, n=1, trials=2, seed=1, setup=m.setup, recover=m.recover_fixed,
                      faults=CRASH_BEFORE_DISPATCH, invariants=[NO_STUCK])
    result.assert_ok()


def test_two_buggy_dispatchers_dispatch_one_review_twice(race: Any, pg: Any) -> None:
    """Concurrent dispatchers both read a review as pending and both dispatch it."""
    _spy(race)
    result = race.run(m.dispatch_pending_buggy, n=3, trials=10, strategy="random", seed=1, setup=m.setup,
                      invariants=ONCE)
    result.assert_violation("at_most_once")


def test_atomic_claim_dispatches_each_review_once(race: Any, pg: Any) -> None:
    """UPDATE ... WHERE status = 'pending' RETURNING lets one dispatcher win each review."""
    _spy(race)
    result = race.run(m.dispatch_pending_fixed, n=3, trials=8, strategy="random", seed=1, setup=m.setup,
                      invariants=ONCE)
    result.assert_ok()


def test_parallel_dispatch_dispatches_each_review_once(race: Any, pg: Any) -> None:
    """Parallel dispatch from two dispatchers still dispatches every review exactly once."""
    _spy(race)
    result = race.run(m.dispatch_pending_fixed, n=2, trials=5, seed=1, kwargs={"parallel": True},
                      setup=m.setup_many,
                      invariants=[racecheck.exactly_once("dispatch", keys=range(1, 7)), racecheck.no_exceptions()])
    result.assert_ok()


def test_reclaim_redispatches_a_live_review(race: Any, pg: Any) -> None:
    """A failed 'running' write makes a live review look stale; the reclaim dispatches it and it runs twice."""
    _spy(race)
    result = race.run(m.dispatch_pending_claim, n=1, trials=2, seed=1, setup=m.setup_one, recover=m.recover_claim,
                      faults=RUNNING_WRITE_FAILS, invariants=[racecheck.at_most_once("run_review"), NO_STUCK])
    result.assert_violation("at_most_once")


def test_guarded_start_ignores_a_duplicate(race: Any, pg: Any) -> None:
    """The worker's guard turns the reclaimed duplicate start into a status re-sync: one run, nothing stuck."""
    _spy(race)
    result = race.run(m.dispatch_pending_fixed, n=1, trials=2, seed=1, setup=m.setup_one, recover=m.recover_fixed,
                      faults=RUNNING_WRITE_FAILS, invariants=[racecheck.at_most_once("run_review"), NO_STUCK])
    result.assert_ok()
