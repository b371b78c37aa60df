"""A check-then-insert dispatcher on real Postgres (incident 000's shape) and its fixed twins.

``dispatch_buggy`` reads for a run by key, spawns (an expensive side effect, spied by
the benchmarks) and INSERTs with no constraint: two near-simultaneous triggers for one
key both spawn. ``dispatch_advisory`` serialises the same steps with
``pg_advisory_xact_lock``; ``dispatch_unique`` claims with a unique index and
``INSERT ... ON CONFLICT DO NOTHING RETURNING`` and spawns only if it won.

Each trigger is called as ``dispatch_*(worker, key)`` and uses the worker's own pooled
autocommit connection (opened once by :func:`configure`), so a trial costs the queries,
not the connects.
"""

from __future__ import annotations

import threading
from typing import Any

SCHEMA = """
CREATE TABLE runs (id serial PRIMARY KEY, key text NOT NULL, worker int);
CREATE TABLE runs_u (id serial PRIMARY KEY, key text NOT NULL, worker int);
CREATE UNIQUE INDEX runs_u_key ON runs_u (key);
"""
TABLES = ("runs", "runs_u")

_conns: list[Any] = []
_url: list[str] = []
_lock = threading.Lock()
SPAWNED: list[str] = []


def configure(url: str, n: int) -> None:
    """Open ``n`` pooled autocommit connections to ``url`` (closing any previous pool)."""
    import psycopg

    close()
    _url[:] = [url]
    for _ in range(n):
        _conns.append(psycopg.connect(url, autocommit=True))


def close() -> None:
    while _conns:
        _conns.pop().close()


def clear() -> None:
    """Forget the spawns of the previous trial."""
    with _lock:
        SPAWNED.clear()


def duplicates() -> int:
    """How many spawns beyond one per key the last trial made."""
    with _lock:
        return len(SPAWNED) - len(set(SPAWNED))


def spawn(key: str) -> None:
    """The expensive side effect (a reviewer process, an agent turn): must happen once per key."""
    with _lock:
        SPAWNED.append(key)


def dispatch_buggy(worker: int, key: str = "repo@abc123") -> str:
    conn = _conns[worker]
    row = conn.execute("SELECT id FROM runs WHERE key = %s", (key,)).fetchone()
    if row is not None:
        return "existing"
    spawn(key)
    conn.execute("INSERT INTO runs (key, worker) VALUES (%s, %s)", (key, worker))
    return "created"


def dispatch_advisory(worker: int, key: str = "repo@abc123") -> str:
    conn = _conns[worker]
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (key,))
        row = conn.execute("SELECT id FROM runs WHERE key = %s", (key,)).fetchone()
        if row is not None:
            return "existing"
        spawn(key)
        conn.execute("INSERT INTO runs (key, worker) VALUES (%s, %s)", (key, worker))
    return "created"


def dispatch_unique(worker: int, key: str = "repo@abc123") -> str:
    conn = _conns[worker]
    row = conn.execute("INSERT INTO runs_u (key, worker) VALUES (%s, %s) ON CONFLICT (key) DO NOTHING RETURNING id",
                       (key, worker)).fetchone()
    if row is None:
        return "existing"
    spawn(key)
    return "created"


def dispatch_buggy_connect(worker: int, key: str = "repo@abc123") -> str:
    """The buggy dispatcher as usually written: each trigger opens its own connection first."""
    import psycopg

    with psycopg.connect(_url[0], autocommit=True) as conn:
        row = conn.execute("SELECT id FROM runs WHERE key = %s", (key,)).fetchone()
        if row is not None:
            return "existing"
        spawn(key)
        conn.execute("INSERT INTO runs (key, worker) VALUES (%s, %s)", (key, worker))
    return "created"


def dispatch_unique_connect(worker: int, key: str = "repo@abc123") -> str:
    import psycopg

    with psycopg.connect(_url[0], autocommit=True) as conn:
        row = conn.execute("INSERT INTO runs_u (key, worker) VALUES (%s, %s) ON CONFLICT (key) DO NOTHING "
                           "RETURNING id", (key, worker)).fetchone()
    if row is None:
        return "existing"
    spawn(key)
    return "created"


VARIANTS = {"buggy": dispatch_buggy, "advisory": dispatch_advisory, "unique": dispatch_unique}
