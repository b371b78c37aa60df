"""Seed 004: a job's status is set before it is dispatched.

``trigger_queue_first`` marks the row ``queued`` and then dispatches: a crash in between
leaves the row queued forever, and the poller (``recover_pending_only``) only looks at
``pending`` rows. ``trigger_dispatch_first`` claims atomically, dispatches, and only then
marks the row; ``recover_reclaim_stale`` reclaims claims older than the stale window and
dispatches them (dispatch is idempotent per job, so a reclaim cannot run a job twice).
"""

from __future__ import annotations

import psycopg

SCHEMA = """
CREATE TABLE jobs (id text PRIMARY KEY, status text NOT NULL, claimed_at timestamptz);
CREATE TABLE dispatched (job text PRIMARY KEY, worker text NOT NULL);
"""
STUCK = "SELECT id, status FROM jobs WHERE status <> 'dispatched' ORDER BY id"


def seed(url: str, jobs: tuple[str, ...] = ("j1",)) -> None:
    """Setup: one pending row per job, nothing dispatched."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("TRUNCATE jobs, dispatched")
        for job in jobs:
            conn.execute("INSERT INTO jobs (id, status) VALUES (%s, 'pending')", (job,))


def dispatch(url: str, job: str, worker: str = "trigger") -> None:
    """Hand the job to the queue (idempotent per job: a second dispatch is a no-op)."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("INSERT INTO dispatched (job, worker) VALUES (%s, %s) ON CONFLICT (job) DO NOTHING",
                     (job, worker))


def trigger_queue_first(url: str, job: str = "j1") -> str:
    """Buggy: status='queued' is committed before the dispatch."""
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute("UPDATE jobs SET status = 'queued' WHERE id = %s AND status = 'pending' RETURNING id",
                           (job,)).fetchone()
        if row is None:
            return "already queued"
        dispatch(url, job)
        conn.execute("UPDATE jobs SET status = 'dispatched' WHERE id = %s", (job,))
    return "dispatched"


def recover_pending_only(url: str) -> None:
    """The buggy system's poller: dispatches rows still pending, never looks at queued ones."""
    with psycopg.connect(url, autocommit=True) as conn:
        for (job,) in conn.execute("SELECT id FROM jobs WHERE status = 'pending'").fetchall():
            dispatch(url, job, "poller")
            conn.execute("UPDATE jobs SET status = 'dispatched' WHERE id = %s", (job,))


def trigger_dispatch_first(url: str, job: str = "j1") -> str:
    """Correct: atomic claim with a timestamp, dispatch, then mark dispatched."""
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute("UPDATE jobs SET status = 'claimed', claimed_at = now() "
                           "WHERE id = %s AND status = 'pending' RETURNING id", (job,)).fetchone()
        if row is None:
            return "already claimed"
        dispatch(url, job)
        conn.execute("UPDATE jobs SET status = 'dispatched' WHERE id = %s", (job,))
    return "dispatched"


def recover_reclaim_stale(url: str, stale_seconds: float = 0.0) -> None:
    """Reclaim claims older than the stale window (and pending rows) and dispatch them."""
    with psycopg.connect(url, autocommit=True) as conn:
        rows = conn.execute(
            "UPDATE jobs SET status = 'claimed', claimed_at = now() WHERE status = 'pending' "
            "OR (status = 'claimed' AND claimed_at <= now() - make_interval(secs => %s)) RETURNING id",
            (stale_seconds,)).fetchall()
        for (job,) in rows:
            dispatch(url, job, "reclaim")
            conn.execute("UPDATE jobs SET status = 'dispatched' WHERE id = %s", (job,))
