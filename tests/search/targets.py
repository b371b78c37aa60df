"""Targets for the search tests: sleep-separated check-then-act, in memory and on Postgres."""

from __future__ import annotations

import asyncio
import os
import random
import time

import racecheck

from . import memtargets

PG_ENV = "RACECHECK_TEST_SEARCH_PG_URL"
_store: dict[str, int] = {}


def reset_memory() -> None:
    _store.clear()
    memtargets.reset()


def sleepy_claim(worker: int, key: str = "job") -> bool:
    """Check, 20-50 ms of unrelated work, then set and spawn: the sleep is the only point."""
    time.sleep(random.uniform(0.02, 0.05))
    if key in _store:
        return False
    time.sleep(random.uniform(0.02, 0.05))
    _store[key] = worker
    racecheck.effect("spawn", key=key)
    return True


def sleepy_claim_fixed(worker: int, key: str = "job") -> bool:
    time.sleep(random.uniform(0.02, 0.05))
    if _store.setdefault(key, worker) != worker:
        return False
    time.sleep(random.uniform(0.02, 0.05))
    racecheck.effect("spawn", key=key)
    return True


def pg_sleepy_dispatch(worker_id: str = "w1", sha: str = "abc") -> str:
    """SELECT for an existing run, 20-50 ms of work, spawn and INSERT: no unique constraint."""
    import psycopg

    time.sleep(random.uniform(0.02, 0.05))
    with psycopg.connect(os.environ[PG_ENV], autocommit=True) as conn:
        row = conn.execute("SELECT run_id FROM review_run WHERE worker_id = %s AND sha = %s",
                           (worker_id, sha)).fetchone()
        if row is not None:
            return "existing"
        time.sleep(random.uniform(0.02, 0.05))
        racecheck.effect("spawn", key=(worker_id, sha))
        conn.execute("INSERT INTO review_run (worker_id, sha) VALUES (%s, %s)", (worker_id, sha))
    return "created"


def pg_sleepy_dispatch_fixed(worker_id: str = "w1", sha: str = "abc") -> str:
    import psycopg

    time.sleep(random.uniform(0.02, 0.05))
    with psycopg.connect(os.environ[PG_ENV], autocommit=True) as conn:
        time.sleep(random.uniform(0.02, 0.05))
        row = conn.execute("INSERT INTO review_run_u (worker_id, sha) VALUES (%s, %s) "
                           "ON CONFLICT (worker_id, sha) DO NOTHING RETURNING run_id", (worker_id, sha)).fetchone()
        if row is None:
            return "existing"
        racecheck.effect("spawn", key=(worker_id, sha))
    return "created"


def pg_reset() -> None:
    import psycopg

    with psycopg.connect(os.environ[PG_ENV], autocommit=True) as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS review_run (worker_id text, sha text, run_id serial)")
        conn.execute("CREATE TABLE IF NOT EXISTS review_run_u (worker_id text, sha text, run_id serial, "
                     "UNIQUE (worker_id, sha))")
        conn.execute("TRUNCATE review_run, review_run_u")


def count_is_n(n: int):  # noqa: ANN201 - an invariant callable
    def check(history: object) -> bool | str:
        got = memtargets.COUNTER.count
        return True if got == n else f"counter is {got} after {n} increments: an update was lost"

    return check


def incr(worker: int) -> None:
    memtargets.COUNTER.incr()


def incr_locked(worker: int) -> None:
    memtargets.COUNTER.incr_locked()


def add_once(worker: int) -> None:
    if memtargets.REGISTRY.add_once("k"):
        racecheck.effect("spawn", key="k")


def add_once_locked(worker: int) -> None:
    if memtargets.REGISTRY.add_once_locked("k"):
        racecheck.effect("spawn", key="k")


# -- asyncio: the same check-then-set, separated by asyncio.sleep -------------------------------
ALOCK: list[asyncio.Lock] = []


def reset_async() -> None:
    _store.clear()
    ALOCK[:] = [asyncio.Lock()]


async def async_sleepy_claim(worker: int, key: str = "job") -> bool:
    """Check, sleep, set and spawn. In real time worker 0 sets (at 21 ms) long before worker 1
    checks (at 50 ms), and the loop fires timers in deadline order, so no free run races."""
    await asyncio.sleep(0.001 if worker == 0 else 0.05)
    if key in _store:
        return False
    await asyncio.sleep(0.02)
    _store[key] = worker
    racecheck.effect("spawn", key=key)
    return True


async def async_sleepy_claim_locked(worker: int, key: str = "job") -> bool:
    """The twin: check and set under one asyncio.Lock (the sleep inside it)."""
    await asyncio.sleep(0.001 if worker == 0 else 0.05)
    async with ALOCK[0]:
        if key in _store:
            return False
        await asyncio.sleep(0.02)
        _store[key] = worker
        racecheck.effect("spawn", key=key)
        return True
