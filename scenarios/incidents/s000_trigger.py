"""Incident 000: a review trigger that is a read-then-write (check, spawn, insert).

``trigger_buggy`` reads the run for (session, sha), spawns a reviewer if there is none
and inserts a ``running`` run, with no serialisation and no constraint: two
near-simultaneous triggers both pass the read, both spawn and both insert.

``trigger_fixed`` holds a per-session keyed mutex across the whole body (the loser
re-reads the freshly recorded run and returns it with ``created=False``), backed by the
partial unique index of migration 0013; a unique violation on insert (a trigger in
another daemon) is a fallback that re-reads and returns the existing run, not an error.
``trigger_no_fallback`` is the fix without that fallback: across daemons the loser raises.

``migrate_buggy`` builds the unique index directly and fails (wedging startup) on a table
that already holds duplicates; ``migrate_fixed`` collapses duplicate groups first
(completed over running, then newest), under an advisory lock so two daemons starting at
once do not race on the index build.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

from ._conn import connect, run_sql, sql_file

SCHEMA = sql_file("s000_schema.sql")
MIGRATION_0013 = sql_file("s000_migration_0013.sql")
BUGGY_MIGRATION_0013 = (
    "CREATE UNIQUE INDEX IF NOT EXISTS review_run_session_sha "
    "ON review_run (session_id, target_sha) WHERE target_sha <> ''"
)
MIGRATION_LOCK = 13  # advisory lock id held while migration 0013 runs


@dataclass(frozen=True)
class TriggerResult:
    run_id: int
    created: bool


def spawn_reviewer(session_id: str, sha: str) -> str:
    """The side effect: launch a reviewer against the deterministic handle review-<session>."""
    return f"review-{session_id}"


# -- setup -------------------------------------------------------------------------------


def setup(url: str | None = None, unique_index: bool = False) -> None:
    """Create the table if missing and empty it; with ``unique_index`` the index of migration 0013 exists.

    The DDL is a no-op when the table is already in the wanted shape, so a trial's reset is cheap.
    """
    index = (BUGGY_MIGRATION_0013 if unique_index else "DROP INDEX IF EXISTS review_run_session_sha")
    run_sql(f"{SCHEMA}\nDELETE FROM review_run;\n{index};", url)


def setup_fixed(url: str | None = None) -> None:
    """Setup for the fixed trigger: table plus the partial unique index."""
    setup(url, unique_index=True)


def seed_duplicates(url: str | None = None) -> None:
    """A pre-#242 table: duplicate groups for one (session, sha), plus empty-sha rows."""
    setup(url)
    run_sql(
        "INSERT INTO review_run (session_id, target_sha, status, created_at) VALUES "
        "('w1', 'abc', 'running',   now() - interval '3 min'),"
        "('w1', 'abc', 'completed', now() - interval '2 min'),"
        "('w1', 'abc', 'running',   now() - interval '1 min'),"
        "('w2', 'def', 'running',   now() - interval '2 min'),"
        "('w2', 'def', 'running',   now() - interval '1 min'),"
        "('w3', '',    'running',   now()),"
        "('w3', '',    'running',   now())",
        url,
    )


def duplicate_runs(url: str | None = None) -> list[tuple[Any, ...]]:
    """(session, sha, count) for every non-empty sha recorded more than once."""
    with connect(url) as conn:
        return conn.execute(
            "SELECT session_id, target_sha, count(*) FROM review_run WHERE target_sha <> '' "
            "GROUP BY 1, 2 HAVING count(*) > 1"
        ).fetchall()


# -- the buggy trigger -------------------------------------------------------------------


def _find(conn: Any, session_id: str, sha: str) -> int | None:
    row = conn.execute(
        "SELECT id FROM review_run WHERE session_id = %s AND target_sha = %s ORDER BY id LIMIT 1",
        (session_id, sha),
    ).fetchone()
    return None if row is None else int(row[0])


def _insert(conn: Any, session_id: str, sha: str) -> int:
    row = conn.execute(
        "INSERT INTO review_run (session_id, target_sha, status) VALUES (%s, %s, 'running') RETURNING id",
        (session_id, sha),
    ).fetchone()
    return int(row[0])


def trigger_buggy(session_id: str = "w1", sha: str = "abc", url: str | None = None) -> TriggerResult:
    """Idempotency read -> spawn -> insert, unserialised: concurrent triggers both spawn."""
    with connect(url) as conn:
        existing = _find(conn, session_id, sha)
        if existing is not None:
            return TriggerResult(existing, False)
        spawn_reviewer(session_id, sha)
        return TriggerResult(_insert(conn, session_id, sha), True)


# -- the fixed trigger -------------------------------------------------------------------

_registry_lock = threading.Lock()
_worker_locks: dict[tuple[int, str], threading.Lock] = {}


def lock_worker(session_id: str, daemon: int = 0) -> threading.Lock:
    """The per-worker keyed mutex (lockWorker) of one daemon: distinct sessions never contend.

    ``daemon`` stands for the process holding the mutex: triggers given different daemon
    numbers in one test process do not share it, as two daemons (or a restart) would not.
    """
    with _registry_lock:
        lock = _worker_locks.get((daemon, session_id))
        if lock is None:
            lock = _worker_locks[(daemon, session_id)] = threading.Lock()
        return lock


def _trigger_locked(session_id: str, sha: str, url: str | None, fallback: bool, daemon: int) -> TriggerResult:
    import psycopg

    with lock_worker(session_id, daemon), connect(url) as conn:
        existing = _find(conn, session_id, sha)
        if existing is not None:
            return TriggerResult(existing, False)
        spawn_reviewer(session_id, sha)
        try:
            return TriggerResult(_insert(conn, session_id, sha), True)
        except psycopg.errors.UniqueViolation:
            if not fallback:
                raise
            # Another daemon recorded this (session, sha) first: return its run.
            again = _find(conn, session_id, sha)
            if again is None:
                raise
            return TriggerResult(again, False)


def trigger_fixed(session_id: str = "w1", sha: str = "abc", url: str | None = None,
                  daemon: int = 0) -> TriggerResult:
    """Keyed mutex over the whole body, unique index behind it, unique violation -> existing run."""
    return _trigger_locked(session_id, sha, url, True, daemon)


def trigger_no_fallback(session_id: str = "w1", sha: str = "abc", url: str | None = None,
                        daemon: int = 0) -> TriggerResult:
    """The fix without the fallback: a unique violation surfaces as a raw error."""
    return _trigger_locked(session_id, sha, url, False, daemon)


# -- migration 0013 ----------------------------------------------------------------------


def migrate_buggy(url: str | None = None) -> None:
    """Build the unique index straight away: fails on a table that already holds duplicates."""
    with connect(url) as conn:
        conn.execute(BUGGY_MIGRATION_0013)


def migrate_fixed(url: str | None = None) -> None:
    """Collapse duplicate groups, then build the index, in one transaction under an advisory lock."""
    with connect(url, autocommit=False) as conn:
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK,))
        conn.execute(MIGRATION_0013)
        conn.commit()
