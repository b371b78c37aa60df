"""Incident 003: the increment lease with TTL steal, its split brain, and the retry loop that swallows exhaustion."""

from __future__ import annotations

from typing import Any

from incidents import s003_lease as m

import racecheck

SIDE_EFFECT = "incidents.s003_lease:run_side_effect"
EXCLUSIVE = [racecheck.at_most_once("run_side_effect"), racecheck.mutual_exclusion("turn"),
             racecheck.no_exceptions(), racecheck.fencing("fenced_write")]
# The first holder pauses between winning the lease and publishing its timestamp (the
# reviewer's window; a steal passes 'lease:stolen' instead), and the side effect is slow.
SPLIT_BRAIN = [racecheck.delay("lease:acquired", 0.25), racecheck.delay("run_side_effect:after", 0.4)]
# Whichever wake holds the lease crashes before its side effect (the contender never gets there).
HOLDER_CRASH = [racecheck.crash("run_side_effect:before")]
NO_SILENT_DROP = racecheck.custom(m.no_silent_drop, "no_silent_drop")


def test_increment_lease_split_brain(race: Any, rds: Any) -> None:
    """A contender steals with the previous lease's stale timestamp: two holders run the side effect twice."""
    race.spy(SIDE_EFFECT, key="session_id")
    result = race.run(m.on_approval_buggy, n=2, trials=3, seed=1, setup=m.setup, faults=SPLIT_BRAIN,
                      invariants=EXCLUSIVE)
    result.assert_violation("at_most_once")
    result.assert_violation("mutual_exclusion")
    assert result.trials_to_detection == 1


def test_increment_lease_split_brain_found_by_random_schedule(race: Any, rds: Any) -> None:
    """Without any fault, the random strategy interleaves a contender into the window within a few trials."""
    race.spy(SIDE_EFFECT, key="session_id")
    result = race.run(m.on_approval_buggy, n=2, trials=20, strategy="random", seed=1, setup=m.setup,
                      invariants=EXCLUSIVE)
    result.assert_violation()


def test_owner_token_lease_holds(race: Any, rds: Any) -> None:
    """SET NX PX with a token, fenced writes and compare-and-delete release: one holder, one side effect."""
    race.spy(SIDE_EFFECT, key="session_id")
    result = race.run(m.on_approval_fixed, n=2, trials=3, seed=1, setup=m.setup, faults=SPLIT_BRAIN,
                      invariants=EXCLUSIVE)
    result.assert_ok()


def test_owner_token_lease_under_random_schedules(race: Any, rds: Any) -> None:
    """The fixed lease also holds under controlled random interleavings."""
    race.spy(SIDE_EFFECT, key="session_id")
    result = race.run(m.on_approval_fixed, n=2, trials=10, strategy="random", seed=1, setup=m.setup,
                      invariants=EXCLUSIVE)
    result.assert_ok()


def test_fencing_rejects_a_holder_paused_past_its_ttl(race: Any, rds: Any) -> None:
    """A holder paused past the lease TTL loses to the next holder's higher fence: its late write is refused."""
    race.spy(SIDE_EFFECT, key="session_id")
    result = race.run(m.on_approval_fixed, n=2, trials=2, seed=1, setup=m.setup,
                      kwargs={"ttl": 0.2, "attempts": 200},
                      faults=[racecheck.delay("redis:SET lease*", 0.05, worker=1),  # w0 takes the lease first
                              racecheck.delay("turn:write", 0.4, worker=0)],  # ... and pauses past its TTL
                      invariants=[racecheck.at_most_once("run_side_effect"), racecheck.fencing("fenced_write")])
    result.assert_ok()
    ends = sorted(str(e.payload.get("result")) for e in result.trials[-1].history if e.kind == "end")
    assert ends == ["'done'", "'fenced'"]


def test_retry_loop_swallows_exhaustion(race: Any, rds: Any) -> None:
    """With the holder crashed, the contender exhausts its attempts and returns normally: the wake is dropped silently."""
    race.spy(SIDE_EFFECT, key="session_id")
    result = race.run(m.on_approval_fixed_lease_silent_retry, n=2, trials=2, seed=1, setup=m.setup,
                      kwargs={"attempts": 10}, faults=HOLDER_CRASH, invariants=[NO_SILENT_DROP])
    result.assert_violation("no_silent_drop")


def test_retry_loop_raises_on_exhaustion(race: Any, rds: Any) -> None:
    """The fixed retry loop raises RetriesExhausted, so the dropped wake is surfaced."""
    race.spy(SIDE_EFFECT, key="session_id")
    result = race.run(m.on_approval_fixed, n=2, trials=2, seed=1, setup=m.setup,
                      kwargs={"attempts": 10}, faults=HOLDER_CRASH, invariants=[NO_SILENT_DROP])
    result.assert_ok()
    errors = [e.payload.get("type") for e in result.trials[-1].history if e.kind == "error"]
    assert errors == ["incidents.s003_lease.RetriesExhausted"]
