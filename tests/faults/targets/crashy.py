"""Triggers for crash semantics: open transactions, finally blocks, spied effects."""

from __future__ import annotations

import atexit
import os

import psycopg

import racecheck

SCHEMA = "CREATE TABLE marks (worker int PRIMARY KEY);"


def insert_then_commit(url: str, worker: int) -> None:
    """Insert in an open transaction, reach ``before_commit``, then commit."""
    conn = psycopg.connect(url)
    try:
        conn.execute("INSERT INTO marks (worker) VALUES (%s)", (worker,))
        racecheck.point("before_commit")
        conn.commit()
        racecheck.point("after_commit")
    finally:
        conn.close()


def spawn(job: str) -> str:
    """The side effect (spied in tests)."""
    racecheck.point("spawn:inside")
    return f"spawned {job}"


def spawn_then_record(job: str, marker_dir: str) -> None:
    """Spawn, then reach ``recorded``; a finally block and an atexit hook leave marker files."""
    atexit.register(lambda: open(os.path.join(marker_dir, f"atexit-{os.getpid()}"), "w").close())
    try:
        spawn(job)
        racecheck.point("recorded")
    finally:
        open(os.path.join(marker_dir, f"finally-{os.getpid()}"), "w").close()


def insert_commit_in_finally(url: str, worker: int) -> None:
    """Careless code: commits in ``finally``, so only a severed connection keeps a crash from committing."""
    conn = psycopg.connect(url)
    try:
        conn.execute("INSERT INTO marks (worker) VALUES (%s)", (worker,))
        racecheck.point("before_commit")
    finally:
        try:
            conn.commit()
        finally:
            conn.close()


async def insert_commit_in_finally_async(url: str, worker: int) -> None:
    """The asyncio twin of :func:`insert_commit_in_finally`."""
    conn = await psycopg.AsyncConnection.connect(url)
    try:
        await conn.execute("INSERT INTO marks (worker) VALUES (%s)", (worker,))
        racecheck.point("before_commit")
    finally:
        try:
            await conn.commit()
        finally:
            await conn.close()
