"""redis_error, backend_down, delay and clock faults against real servers, with the checks they need."""

from __future__ import annotations

import time

import racecheck
from faults.targets import claims, clockwise, lease
from racecheck import _runtime
from racecheck import history as h

KEY = "pr1:abc"


def _claim_run(race_redis_real, on_error: str, faults) -> racecheck.RunResult:
    return racecheck.run(claims.redis_claim, n=2, trials=3, args=(race_redis_real.url, KEY, on_error),
                         setup=race_redis_real.reset, faults=faults,
                         invariants=[racecheck.fail_closed("spawn")])


REDIS_DOWN = [racecheck.redis_error(at="redis:SET claim:*", error="ConnectionError", every=True)]


def test_redis_error_swallowed_as_duplicate_is_caught(race_redis_real):
    """Caught: the claim's Redis error becomes a quiet "skipped as duplicate"."""
    res = _claim_run(race_redis_real, "swallow", REDIS_DOWN)
    res.assert_violation("fail_closed")
    assert "swallowed" in str(res.violations[0])


def test_redis_error_failing_open_is_caught(race_redis_real):
    """Caught: the claim failed, yet the trigger spawned anyway."""
    res = _claim_run(race_redis_real, "open", REDIS_DOWN)
    res.assert_violation("fail_closed")
    assert "failed open" in str(res.violations)


def test_redis_error_surfaced_passes(race_redis_real):
    """Passes: the claim failed, nothing was spawned and the error was raised and logged."""
    res = _claim_run(race_redis_real, "raise", REDIS_DOWN)
    res.assert_ok()
    assert all(len(t.history.filter(h.FAULT)) == 2 for t in res.trials)


def test_redis_error_with_seeded_probability_is_reproducible(race_redis_real):
    """A probabilistic fault fires on the same occurrences for the same seed."""
    faults = [racecheck.redis_error(at="redis:SET claim:*", p=0.5)]

    def fired(seed: int) -> list[tuple[int, list[int | None]]]:
        res = racecheck.run(claims.redis_claim, n=4, trials=4, seed=seed, args=(race_redis_real.url, KEY, "raise"),
                            setup=race_redis_real.reset, faults=faults, invariants=[])
        return [(t.index, sorted(e.worker for e in t.history.filter(h.FAULT))) for t in res.trials]

    first = fired(7)
    assert first == fired(7)
    assert 0 < sum(len(w) for _, w in first) < 16  # p=0.5 over 16 occurrences: some, not all


def test_backend_down_kill_on_postgres(race_postgres):
    """backend_down(how="kill") terminates the server side of the worker's connection: its next statement fails."""
    race_postgres.execute("CREATE TABLE claims (key text PRIMARY KEY)")
    down = [racecheck.backend_down(at="claim", backend="postgres", how="kill")]
    swallow = racecheck.run(claims.pg_claim, n=1, trials=1, args=(race_postgres.url, KEY, "swallow"),
                            faults=down, backends={"postgres": race_postgres},
                            invariants=[racecheck.fail_closed("spawn")])
    swallow.assert_violation("fail_closed")
    statements = [e.payload["statement"] for e in swallow.first_failure.history.filter(h.SQL)]
    assert not any("pg_terminate_backend" in s for s in statements)  # the kill itself is not the worker's SQL
    failed = [e for e in swallow.first_failure.history.filter(h.SQL) if e.payload.get("backend_failed")]
    assert failed and "INSERT INTO claims" in failed[0].payload["statement"]
    surfaced = racecheck.run(claims.pg_claim, n=1, trials=1, args=(race_postgres.url, KEY, "raise"),
                             faults=down, backends={"postgres": race_postgres},
                             invariants=[racecheck.fail_closed("spawn")])
    surfaced.assert_ok()
    assert race_postgres.execute("SELECT count(*) FROM claims") == [(0,)]


def test_backend_down_kill_on_redis_is_survived_by_reconnecting(race_redis_real):
    """Killing Redis connections is no outage for redis-py: the pool notices the dead connection and reconnects."""
    res = racecheck.run(claims.ping_then_get, n=1, trials=1, args=(race_redis_real.url,),
                        faults=[racecheck.backend_down(at="between", backend="redis", how="kill")],
                        backends={"redis": race_redis_real})
    res.assert_ok()
    commands = [e.payload["command"] for e in res.trials[0].history.filter(h.REDIS)]
    assert commands == ["PING", "GET x"]  # CLIENT LIST / CLIENT KILL ran as nobody, outside the history
    assert [e.payload["how"] for e in res.trials[0].history.filter(h.FAULT)] == ["kill"]


def test_backend_down_stop_loses_redis_keys(race_redis_real):
    """backend_down(how="stop") stops racecheck's Redis for a window; without persistence it restarts empty."""
    res = racecheck.run(claims.read_after_outage, n=1, trials=2, args=(race_redis_real.url,),
                        setup=lambda: race_redis_real.client().set("k", "v"),
                        faults=[racecheck.backend_down(at="probe", backend="redis", how="stop", duration=0.3)],
                        backends={"redis": race_redis_real})
    res.assert_ok()
    for t in res.trials:
        assert [e.key for e in t.history.filter(h.EFFECT, name="value")] == ["None"]
        assert [e.payload["how"] for e in t.history.filter(h.FAULT)] == ["stop"]
    assert race_redis_real.client().ping()  # the server is back after the run


LEASE_ARGS = {0: ("w0", False), 1: ("w1", True)}  # w0 takes the lease first; w1 then keeps trying
PAUSE = racecheck.delay(at="lease:work", seconds=0.6, worker=0)  # the lease TTL is 0.1 s


def _lease_run(race_redis_real, store: str, invariants) -> racecheck.RunResult:
    return racecheck.run(lease.trigger_redis_lease, n=2, trials=3, setup=race_redis_real.reset,
                         worker_args=lambda i: (race_redis_real.url, *LEASE_ARGS[i], store),
                         faults=[PAUSE], invariants=invariants)


def test_lease_holder_paused_past_ttl_gives_two_holders(race_redis_real):
    """Caught (seed 003): w0 pauses past the TTL, w1 steals the lease, both are in the critical section."""
    res = _lease_run(race_redis_real, "naive", [racecheck.mutual_exclusion("lease")])
    res.assert_violation("mutual_exclusion")
    assert res.trials_to_detection == 1


def test_row_lock_cannot_be_stolen_by_a_pause(race_postgres):
    """Passes: a row lock held for the section is not lost to a pause, so the sections never overlap."""
    race_postgres.execute(lease.LOCK_SCHEMA)
    res = racecheck.run(lease.trigger_pg_lock, n=2, trials=3,
                        worker_args=lambda i: (race_postgres.url, *LEASE_ARGS[i]),
                        faults=[PAUSE], invariants=[racecheck.mutual_exclusion("lease")])
    res.assert_ok()
    assert all(t.history.filter(h.FAULT) for t in res.trials)


def test_fencing_catches_the_stale_holders_write(race_redis_real):
    """Caught: the paused holder wakes and writes with token 1 after the new holder wrote with token 2."""
    res = _lease_run(race_redis_real, "naive", [racecheck.fencing("write")])
    res.assert_violation("fencing")
    assert "stale holder" in str(res.violations[0])


def test_fenced_store_rejects_the_stale_write(race_redis_real):
    """Passes: the store compares tokens and refuses the stale holder's write."""
    res = _lease_run(race_redis_real, "fenced", [racecheck.fencing("write")])
    res.assert_ok()
    for t in res.trials:
        writes = t.history.filter(h.EFFECT, name="write")
        assert [e.payload["by"] for e in writes] == ["w1"]  # only the current holder's write was accepted
        assert any(e.payload.get("result") == "'rejected as stale'" for e in t.history.filter(h.END))


def _no_lease_lost(history) -> bool:
    return not history.filter(h.EFFECT, name="lease_lost")


def test_clock_jump_fools_a_wall_clock_lease():
    """Caught: a +1 h clock shift makes a wall-clock deadline look expired; time.time is restored after the run."""
    res = racecheck.run(clockwise.lease_by_wall_clock, n=2, trials=2,
                        faults=[racecheck.clock(at="working", shift=3600)],
                        invariants=[racecheck.custom(_no_lease_lost, name="lease_kept")])
    res.assert_violation("lease_kept")
    assert time.time is _runtime._real_time


def test_monotonic_lease_ignores_clock_jumps():
    """Passes: elapsed time on the monotonic clock is not moved by a wall-clock shift."""
    res = racecheck.run(clockwise.lease_by_monotonic, n=2, trials=2,
                        faults=[racecheck.clock(at="working", shift=3600)],
                        invariants=[racecheck.custom(_no_lease_lost, name="lease_kept")])
    res.assert_ok()
    assert all(len(t.history.filter(h.FAULT)) == 2 for t in res.trials)
