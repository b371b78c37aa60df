"""Narrow-window targets: races whose window is a few bytecodes or one round trip, with triggers that drift apart.

``claim_memory_buggy`` checks a dict and then sets it, with a ``racecheck.point`` in
between: outside a run the point is a no-op, so the window is a few bytecodes and the
GIL (5 ms switch interval) almost never lands in it. ``claim_pg_buggy`` does 20–50 ms
of unrelated work (a sleep of random length: parsing, an HTTP call) and then, in one
READ COMMITTED transaction, ``SELECT owner`` and ``UPDATE ... SET owner`` as two
statements: the window is one round trip, and the random work spreads the triggers'
arrival over 30 ms. Fixed twins: ``dict.setdefault`` (atomic under the GIL) and
``UPDATE ... WHERE owner IS NULL RETURNING``.
"""

from __future__ import annotations

import random
import threading
import time
from typing import Any

import racecheck

PG_SCHEMA = "CREATE TABLE jobs (id int PRIMARY KEY, owner int);"
PG_TABLES = ("jobs",)
WORK_S = (0.020, 0.050)

_store: dict[str, int] = {}
_lock = threading.Lock()
SPAWNED: list[str] = []
_conns: list[Any] = []


def spawn(key: str) -> None:
    """The side effect that must happen once per key."""
    with _lock:
        SPAWNED.append(key)


def clear() -> None:
    with _lock:
        SPAWNED.clear()
        _store.clear()


def duplicates() -> int:
    with _lock:
        return len(SPAWNED) - len(set(SPAWNED))


def claim_memory_buggy(worker: int, key: str = "job-1") -> bool:
    if key in _store:
        return False
    racecheck.point("claim:checked")
    _store[key] = worker
    spawn(key)
    return True


def claim_memory_fixed(worker: int, key: str = "job-1") -> bool:
    racecheck.point("claim:before")
    if _store.setdefault(key, worker) != worker:
        return False
    spawn(key)
    return True


def configure_pg(url: str, n: int) -> None:
    """Open ``n`` pooled connections (READ COMMITTED, explicit transactions)."""
    import psycopg

    close_pg()
    for _ in range(n):
        _conns.append(psycopg.connect(url, autocommit=True))


def close_pg() -> None:
    while _conns:
        _conns.pop().close()


def reset_pg(conn: Any) -> None:
    conn.execute("DELETE FROM jobs; INSERT INTO jobs (id, owner) VALUES (1, NULL)")


def unrelated_work() -> None:
    """20–50 ms of work that has nothing to do with the claim (and desynchronises the triggers)."""
    time.sleep(random.uniform(*WORK_S))


def claim_pg_buggy(worker: int) -> bool:
    unrelated_work()
    conn = _conns[worker]
    with conn.transaction():
        row = conn.execute("SELECT owner FROM jobs WHERE id = 1").fetchone()
        if row is None or row[0] is not None:
            return False
        conn.execute("UPDATE jobs SET owner = %s WHERE id = 1", (worker,))
    spawn("job-1")
    return True


def claim_pg_fixed(worker: int) -> bool:
    unrelated_work()
    conn = _conns[worker]
    with conn.transaction():
        row = conn.execute("UPDATE jobs SET owner = %s WHERE id = 1 AND owner IS NULL RETURNING id",
                           (worker,)).fetchone()
    if row is None:
        return False
    spawn("job-1")
    return True
