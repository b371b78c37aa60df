"""Triggers for the scheduling tests: in-memory, Redis-backed and Postgres-backed check-then-act."""

from __future__ import annotations

import os
import threading
from typing import Any

import racecheck

STATE: dict[str, int] = {}
LOCK = threading.Lock()


def reset() -> None:
    STATE.clear()


def check_then_act(key: str = "k") -> str:
    """Buggy: look, then act, then record; a switch between look and record spawns twice."""
    racecheck.point("check")
    if key in STATE:
        return "existing"
    racecheck.point("spawn")
    racecheck.effect("spawn", key=key)
    racecheck.point("insert")
    STATE[key] = 1
    return "created"


def check_then_act_locked(key: str = "k") -> str:
    """Correct: the same steps under one lock (a parked holder makes the other worker block)."""
    with LOCK:
        return check_then_act(key)


def two_points() -> None:
    """Two points per worker: a tiny schedule space."""
    racecheck.point("a")
    racecheck.point("b")


# -- Redis (fakeredis shared server) ------------------------------------------------------------

REDIS_SERVER: Any = None


def redis_check_then_act(key: str = "run:k") -> str:
    """GET then SET without NX: two workers can both see nothing and both spawn."""
    import fakeredis

    client = fakeredis.FakeRedis(server=REDIS_SERVER)
    if client.get(key) is not None:
        return "existing"
    racecheck.effect("spawn", key=key)
    client.set(key, str(racecheck.current_worker()))
    return "created"


# -- Postgres -----------------------------------------------------------------------------------

PG_ENV = "RACECHECK_TEST_PG_URL"
TABLE_SQL = "CREATE TABLE IF NOT EXISTS runs (worker_id text, sha text, run_id serial)"
TABLE_U_SQL = ("CREATE TABLE IF NOT EXISTS runs_u (worker_id text, sha text, run_id serial, "
               "UNIQUE (worker_id, sha))")


def pg_dispatch(worker_id: str = "w1", sha: str = "abc") -> str:
    """Buggy dispatcher on Postgres: SELECT for an existing run, spawn, INSERT; no unique constraint."""
    import psycopg

    with psycopg.connect(os.environ[PG_ENV], autocommit=True) as conn:
        row = conn.execute("SELECT run_id FROM runs WHERE worker_id = %s AND sha = %s",
                           (worker_id, sha)).fetchone()
        if row is not None:
            return "existing"
        racecheck.effect("spawn", key=(worker_id, sha))
        conn.execute("INSERT INTO runs (worker_id, sha) VALUES (%s, %s)", (worker_id, sha))
    return "created"


def pg_dispatch_fixed(worker_id: str = "w1", sha: str = "abc") -> str:
    """Correct: claim with INSERT ... ON CONFLICT DO NOTHING on a unique key; only the winner spawns."""
    import psycopg

    with psycopg.connect(os.environ[PG_ENV], autocommit=True) as conn:
        row = conn.execute("INSERT INTO runs_u (worker_id, sha) VALUES (%s, %s) "
                           "ON CONFLICT (worker_id, sha) DO NOTHING RETURNING run_id", (worker_id, sha)).fetchone()
        if row is None:
            return "existing"
        racecheck.effect("spawn", key=(worker_id, sha))
    return "created"


def pg_reset() -> None:
    import psycopg

    with psycopg.connect(os.environ[PG_ENV], autocommit=True) as conn:
        conn.execute(TABLE_SQL)
        conn.execute(TABLE_U_SQL)
        conn.execute("TRUNCATE runs, runs_u")


# -- files (process mode) -----------------------------------------------------------------------

FILE_ENV = "RACECHECK_TEST_STATE"


def file_check_then_act(key: str = "k") -> str:
    """Buggy across processes: read a file for the key, then spawn, then append it."""
    path = os.environ[FILE_ENV]
    racecheck.point("read")
    with open(path) as fh:
        seen = fh.read().split()
    if key in seen:
        return "existing"
    racecheck.point("spawn")
    racecheck.effect("spawn", key=key)
    racecheck.point("write")
    with open(path, "a") as fh:
        fh.write(key + "\n")
    return "created"


def starved(i: int, cpu: int, seconds: float = 0.15) -> None:
    """Worker 0 computes for ``seconds`` on ``cpu`` at nice 12 (another process spins there), off the
    interpreter lock as C extensions compute, so it is ready to run for most of a quantum, not running."""
    import hashlib
    import time

    racecheck.point("a")
    if i == 0:
        os.sched_setaffinity(0, {cpu})  # this thread (the worker process, in process mode) only
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 12)
        data = bytes(1 << 16)
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            hashlib.sha256(data).digest()
    racecheck.point("b")
