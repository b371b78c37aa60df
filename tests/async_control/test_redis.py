"""Controlled asyncio against a real Redis (redis.asyncio): a GET-then-SET lock is caught, SET NX passes."""

from __future__ import annotations

import uuid

import pytest

import racecheck
from async_control import targets

MUTEX = [racecheck.mutual_exclusion("locked")]


@pytest.fixture
def lock_key(race_redis_real):  # noqa: ANN001, ANN201
    key = race_redis_real.key(f"async-control:{uuid.uuid4().hex}")
    client = race_redis_real.client()
    yield key, (lambda: client.delete(key))
    client.delete(key)


def test_get_then_set_lock_is_caught_under_pct(race_redis_real, lock_key) -> None:  # noqa: ANN001
    """Two tasks both GET the lock free, then both SET it and overlap in the critical section."""
    key, clear = lock_key
    res = racecheck.run(targets.redis_get_then_set, n=2, trials=10, mode="asyncio", strategy="pct", seed=1,
                        args=(race_redis_real.url, key), setup=clear, invariants=MUTEX, timeout=10)
    assert not res.ok
    assert res.first_failure.violations[0].invariant == "mutual_exclusion"


def test_set_nx_lock_passes_under_pct(race_redis_real, lock_key) -> None:  # noqa: ANN001
    """The atomic SET NX twin passes 200 trials, and each trial one task held the lock while the other was refused."""
    key, clear = lock_key
    res = racecheck.run(targets.redis_set_nx, n=2, trials=200, mode="asyncio", strategy="pct", seed=1,
                        args=(race_redis_real.url, key), setup=clear, invariants=MUTEX, timeout=10)
    res.assert_ok()
    assert res.trials_run == 200
    for t in res.trials:
        results = sorted(e.payload.get("result") for e in t.history.filter("end"))
        assert results == ["'busy'", "'held'"], results


def test_failing_redis_schedule_replays(race_redis_real, lock_key) -> None:  # noqa: ANN001
    """The failing schedule over a real Redis replays: the replies' timing does not change the interleaving."""
    key, clear = lock_key
    opts = dict(mode="asyncio", args=(race_redis_real.url, key), setup=clear, invariants=MUTEX, timeout=10)
    res = racecheck.run(targets.redis_get_then_set, n=2, trials=10, strategy="pct", seed=1, **opts)
    sched = res.first_failure.schedule
    rep = racecheck.replay(targets.redis_get_then_set, sched, times=10, **opts)
    assert rep.reproduced >= 9, rep
