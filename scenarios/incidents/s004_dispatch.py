"""Incident 004: dispatching pending code reviews to a worker.

``dispatch_pending_buggy`` sets a review to ``queued`` and then dispatches it: a crash in
between leaves it ``queued`` forever (the dispatcher only picks ``pending`` rows), and two
dispatchers can both pick and dispatch one review.

``dispatch_pending_claim`` is the first fix: claim each review atomically
(``UPDATE ... WHERE id = %s AND (status = 'pending' OR (status = 'queued' AND updated_at <
cutoff)) RETURNING id``) right before dispatching, and reclaim ``queued`` rows older than
``STALE_SECONDS`` (abandoned by a crashed dispatcher) on a later cycle. Its own race: the
worker's status write ``running`` can fail while the review goes on; the live review then
looks stale, the reclaim dispatches it again, and the worker's unguarded ``start``
resets its state and runs the review a second time.

``dispatch_pending_fixed`` adds the guard in the worker: a start for a review whose
worker state already exists is a no-op that re-syncs the status (it never resets live state).

Dispatch can run serially or in parallel (``parallel=True``: a thread pool, each task
with its own connection and the caller's racecheck context).
"""

from __future__ import annotations

import contextvars
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from ._conn import connect, run_sql, sql_file

log = logging.getLogger("incidents.s004_dispatch")

SCHEMA = sql_file("s004_schema.sql")
STALE_SECONDS = 300.0
DISPATCH_LATENCY = 0.0  # seconds a dispatch takes (the benchmark makes it slow)
PARALLELISM = 10


def now(offset: float = 0.0) -> float:
    return time.time() + offset


def setup(url: str | None = None, pending: int = 3) -> None:
    """Create the tables (idempotent) and make ``pending`` reviews waiting for dispatch."""
    run_sql(SCHEMA + "\nDELETE FROM code_reviews; DELETE FROM review_worker_state;"
            "\nSELECT setval(pg_get_serial_sequence('code_reviews', 'id'), 1, false);", url)
    with connect(url) as conn:
        conn.execute(
            "INSERT INTO code_reviews (status, updated_at) SELECT 'pending', %s FROM generate_series(1, %s)",
            (now(), pending),
        )


def setup_one(url: str | None = None) -> None:
    """One pending review."""
    setup(url, pending=1)


def setup_many(url: str | None = None) -> None:
    """Six pending reviews (for parallel dispatch)."""
    setup(url, pending=6)


def stuck_reviews(url: str | None = None) -> list[tuple[Any, ...]]:
    """Reviews left pending or queued (nothing will ever run them without another dispatch)."""
    with connect(url) as conn:
        return conn.execute(
            "SELECT id, status FROM code_reviews WHERE status IN ('pending', 'queued') ORDER BY id"
        ).fetchall()


# -- the worker (one Durable Object per review) -------------------------------------------------


def run_review(review_id: int) -> None:
    """The side effect: the review itself (an LLM session that posts comments)."""


def _mark_running(conn: Any, review_id: int) -> None:
    """The worker's status callback; a failure is logged and the review goes on (as in the incident)."""
    try:
        conn.execute("UPDATE code_reviews SET status = 'running', updated_at = %s WHERE id = %s",
                     (now(), review_id))
    except Exception as exc:  # noqa: BLE001 - the orchestrator continues on a failed status write
        log.warning("status update to running failed for review %s, continuing: %s", review_id, exc)


def worker_start(review_id: int, url: str | None = None, guard: bool = True) -> str:
    """``start()`` of the review's worker: record its state, report running, run the review."""
    with connect(url) as conn:
        if guard:
            fresh = conn.execute(
                "INSERT INTO review_worker_state (review_id, status) VALUES (%s, 'running') "
                "ON CONFLICT (review_id) DO NOTHING RETURNING review_id", (review_id,)
            ).fetchone()
            if fresh is None:
                _mark_running(conn, review_id)  # a duplicate start: re-sync the status, run nothing
                return "duplicate"
        else:
            conn.execute(
                "INSERT INTO review_worker_state (review_id, status) VALUES (%s, 'queued') "
                "ON CONFLICT (review_id) DO UPDATE SET status = 'queued'", (review_id,)
            )
        _mark_running(conn, review_id)
        run_review(review_id)
        return "started"


def dispatch(review_id: int, url: str | None = None, guard: bool = True) -> str:
    """The side effect of the dispatcher: the HTTP call that starts the review's worker."""
    if DISPATCH_LATENCY:
        time.sleep(DISPATCH_LATENCY)
    return worker_start(review_id, url, guard)


# -- dispatchers ---------------------------------------------------------------------------


def dispatch_pending_buggy(url: str | None = None, clock_offset: float = 0.0) -> int:
    """Mark each pending review queued, then dispatch it (a crash in between strands it)."""
    with connect(url) as conn:
        ids = [r[0] for r in conn.execute(
            "SELECT id FROM code_reviews WHERE status = 'pending' ORDER BY id").fetchall()]
        for review_id in ids:
            conn.execute("UPDATE code_reviews SET status = 'queued', updated_at = %s WHERE id = %s",
                         (now(clock_offset), review_id))
            dispatch(review_id, url, guard=False)
    return len(ids)


def _claim(conn: Any, review_id: int, clock_offset: float) -> bool:
    t = now(clock_offset)
    row = conn.execute(
        "UPDATE code_reviews SET status = 'queued', updated_at = %s WHERE id = %s AND "
        "(status = 'pending' OR (status = 'queued' AND updated_at < %s)) RETURNING id",
        (t, review_id, t - STALE_SECONDS),
    ).fetchone()
    return row is not None


def _claim_and_dispatch(review_id: int, url: str | None, guard: bool, clock_offset: float) -> bool:
    with connect(url) as conn:
        if not _claim(conn, review_id, clock_offset):
            return False  # another dispatcher claimed it first
    try:
        dispatch(review_id, url, guard)
    except Exception as exc:  # noqa: BLE001 - ambiguous: leave it queued for the stale reclaim
        log.error("dispatch of review %s failed, leaving it queued: %s", review_id, exc)
        return False
    return True


def _dispatch_pending(url: str | None, guard: bool, parallel: bool, clock_offset: float) -> int:
    cutoff = now(clock_offset) - STALE_SECONDS
    with connect(url) as conn:
        ids = [r[0] for r in conn.execute(
            "SELECT id FROM code_reviews WHERE status = 'pending' OR (status = 'queued' AND updated_at < %s) "
            "ORDER BY id", (cutoff,)).fetchall()]
    if not parallel:
        return sum(_claim_and_dispatch(i, url, guard, clock_offset) for i in ids)
    with ThreadPoolExecutor(max_workers=PARALLELISM) as pool:
        futures = [pool.submit(contextvars.copy_context().run, _claim_and_dispatch, i, url, guard, clock_offset)
                   for i in ids]
        return sum(f.result() for f in futures)


def dispatch_pending_claim(url: str | None = None, parallel: bool = False, clock_offset: float = 0.0) -> int:
    """Atomic claim and stale-queued reclaim, with the worker's unguarded start."""
    return _dispatch_pending(url, False, parallel, clock_offset)


def dispatch_pending_fixed(url: str | None = None, parallel: bool = False, clock_offset: float = 0.0) -> int:
    """Atomic claim, stale-queued reclaim, and a worker that ignores a duplicate start."""
    return _dispatch_pending(url, True, parallel, clock_offset)


# -- recovery: the next dispatch cycle, after the stale window ------------------------------------

NEXT_CYCLE = STALE_SECONDS + 60.0


def recover_buggy(url: str | None = None) -> int:
    return dispatch_pending_buggy(url, clock_offset=NEXT_CYCLE)


def recover_claim(url: str | None = None) -> int:
    return dispatch_pending_claim(url, clock_offset=NEXT_CYCLE)


def recover_fixed(url: str | None = None) -> int:
    return dispatch_pending_fixed(url, clock_offset=NEXT_CYCLE)
