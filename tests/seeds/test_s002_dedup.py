"""Incident 002: review-dispatch dedup across processes, failing closed, and the REDIS_URL scrub."""

from __future__ import annotations

from typing import Any

from incidents import s002_dedup as m

import racecheck

DISPATCH = "incidents.s002_dedup:dispatch_review"
ONCE = [racecheck.at_most_once("dispatch_review"), racecheck.at_least_once("dispatch_review"),
        racecheck.no_exceptions()]
SCRUB = [racecheck.scrub_env(["REDIS_URL"], when="after_import")]


def test_in_memory_dedup_holds_within_one_process(race: Any, rds: Any) -> None:
    """The per-process map dedups triggers that share a process: threads alone never see the bug."""
    race.spy(DISPATCH, key="pr,sha")
    result = race.run(m.dispatch_memory, n=4, trials=10, strategy="random", seed=1, setup=m.setup, invariants=ONCE)
    result.assert_ok()


def test_in_memory_dedup_fails_across_processes(race: Any, rds: Any) -> None:
    """Two processes each claim in their own empty map and both dispatch the review."""
    race.spy(DISPATCH, key="pr,sha")
    result = race.run("incidents.s002_dedup:dispatch_memory", mode="processes", n=2, trials=3, seed=1,
                      setup=m.setup, invariants=ONCE)
    result.assert_violation("at_most_once")
    assert result.trials_to_detection == 1


def test_redis_dedup_holds_across_processes(race: Any, rds: Any) -> None:
    """SET NX EX in Redis lets exactly one of two processes dispatch."""
    race.spy(DISPATCH, key="pr,sha")
    result = race.run("incidents.s002_dedup:dispatch_redis", mode="processes", n=2, trials=2, seed=1,
                      setup=m.setup, invariants=ONCE)
    result.assert_ok()


def test_redis_error_fails_closed(race: Any, rds: Any) -> None:
    """A claim whose Redis call fails dispatches nothing and logs at ERROR."""
    race.spy(DISPATCH, key="pr,sha")
    result = race.run(m.dispatch_redis, n=4, trials=10, seed=1, setup=m.setup,
                      faults=[racecheck.redis_error("redis:SET*", worker=0)],
                      invariants=[racecheck.fail_closed("dispatch_review"), racecheck.at_most_once("dispatch_review")])
    result.assert_ok()


def test_fail_open_claim_is_caught(race: Any, rds: Any) -> None:
    """A claim that treats a Redis error as 'not a duplicate' dispatches anyway: fail_closed catches it."""
    race.spy(DISPATCH, key="pr,sha")
    result = race.run(m.dispatch_redis_fail_open, n=4, trials=10, seed=1, setup=m.setup,
                      faults=[racecheck.redis_error("redis:SET*", worker=0)],
                      invariants=[racecheck.fail_closed("dispatch_review")])
    result.assert_violation("fail_closed")


def test_scrubbed_env_skips_real_work(race: Any, rds: Any) -> None:
    """A lazy client reading REDIS_URL after the worker scrubbed it fails closed on every claim: nobody dispatches."""
    race.spy(DISPATCH, key="pr,sha")
    result = race.run("incidents.s002_dedup:dispatch_redis_lazy", mode="processes", n=2, trials=2, seed=1,
                      setup=m.setup, faults=SCRUB, invariants=ONCE)
    result.assert_violation("at_least_once")
    assert result.trials_to_detection == 1


def test_url_captured_before_scrub_still_dispatches(race: Any, rds: Any) -> None:
    """A client built from the URL captured at startup survives the scrub: exactly one process dispatches."""
    race.spy(DISPATCH, key="pr,sha")
    result = race.run("incidents.s002_dedup:dispatch_redis", mode="processes", n=2, trials=2, seed=1,
                      setup=m.setup, faults=SCRUB, invariants=ONCE)
    result.assert_ok()
