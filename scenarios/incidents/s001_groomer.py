"""Incident 001: a groomer run with no run-level lock, and the first-writer-wins lock that fixed it.

``run_groomer_buggy`` selects the first ungroomed issue and grooms it: two concurrent
runs select and groom the same issue (a duplicate LLM call and label writes).

``run_groomer_fixed`` takes the ``sync_lock`` row ``id='groomer'`` first: a stale row
(older than ``STALE_SECONDS`` by the caller's clock) is deleted by its own token, then a
transaction double-checks and inserts (the primary key makes the first writer win); on
conflict the run bails with ``None``, like an empty tick, and releases in ``finally`` only
with its own token.

``run_groomer_tokenless_release`` is the same lock released by id alone: a run paused
past the stale window frees the lock that another run reclaimed, letting a third in while
the second still grooms.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any

import racecheck

from ._conn import connect, run_sql, sql_file

SCHEMA = sql_file("s001_schema.sql")
LOCK_ID = "groomer"
STALE_SECONDS = 30 * 60


def groom_issue(issue_id: int) -> None:
    """The side effect: an LLM call plus label writes for one issue."""


def setup(url: str | None = None, issues: int = 3) -> None:
    """Create the tables (idempotent), free the lock and make ``issues`` ungroomed issues."""
    run_sql(SCHEMA + "\nDELETE FROM sync_lock; DELETE FROM issue;", url)
    with connect(url) as conn:
        conn.execute("INSERT INTO issue (id) SELECT generate_series(1, %s)", (issues,))


# -- grooming ------------------------------------------------------------------------------


def _groom_next(conn: Any) -> int | None:
    row = conn.execute("SELECT id FROM issue WHERE NOT groomed ORDER BY id LIMIT 1").fetchone()
    if row is None:
        return None
    issue_id = int(row[0])
    groom_issue(issue_id)
    conn.execute("UPDATE issue SET groomed = true WHERE id = %s", (issue_id,))
    return issue_id


def run_groomer_buggy(url: str | None = None) -> int | None:
    """Select a candidate and groom it, with no run-level lock."""
    with connect(url) as conn, racecheck.section("groomer", LOCK_ID):
        return _groom_next(conn)


# -- the lock ----------------------------------------------------------------------------


def now() -> float:
    """The app's clock (looked up at call time, so racecheck's ``clock`` fault can shift it)."""
    return time.time()


def acquire_groomer_lock(conn: Any) -> str | None:
    """First writer wins: reclaim a stale row by its token, then double-check and insert in a transaction."""
    import psycopg

    row = conn.execute("SELECT sync_run_id, acquired_at FROM sync_lock WHERE id = %s", (LOCK_ID,)).fetchone()
    if row is not None and now() - float(row[1]) > STALE_SECONDS:
        conn.execute("DELETE FROM sync_lock WHERE id = %s AND sync_run_id = %s", (LOCK_ID, row[0]))
    token = str(uuid.uuid4())
    try:
        with conn.transaction():
            held = conn.execute("SELECT 1 FROM sync_lock WHERE id = %s", (LOCK_ID,)).fetchone()
            if held is not None:
                return None
            conn.execute(
                "INSERT INTO sync_lock (id, sync_run_id, acquired_at) VALUES (%s, %s, %s)",
                (LOCK_ID, token, now()),
            )
    except psycopg.errors.UniqueViolation:
        return None  # another run inserted between our check and our insert
    return token


def release_groomer_lock(conn: Any, token: str) -> None:
    """Release only our own lock: a reclaimed lock now carries another run's token."""
    conn.execute("DELETE FROM sync_lock WHERE id = %s AND sync_run_id = %s", (LOCK_ID, token))


def release_groomer_lock_tokenless(conn: Any, token: str) -> None:
    """The buggy release: frees whatever lock row is there, even another run's."""
    conn.execute("DELETE FROM sync_lock WHERE id = %s", (LOCK_ID,))


def _run_locked(url: str | None, release: Callable[[Any, str], None]) -> int | None:
    with connect(url) as conn:
        token = acquire_groomer_lock(conn)
        if token is None:
            return None  # another run holds the lock: bail like an empty tick
        try:
            with racecheck.section("groomer", LOCK_ID):
                groomed = _groom_next(conn)
            racecheck.point("groomer:release")
            return groomed
        finally:
            release(conn, token)


def run_groomer_fixed(url: str | None = None) -> int | None:
    """Lock up front, bail on conflict, groom, release with our own token."""
    return _run_locked(url, release_groomer_lock)


def run_groomer_tokenless_release(url: str | None = None) -> int | None:
    """The lock with a release by id alone (frees another run's reclaimed lock)."""
    return _run_locked(url, release_groomer_lock_tokenless)
