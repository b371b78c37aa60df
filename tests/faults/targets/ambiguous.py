"""Seed 000's record step under an ambiguous write: the INSERT committed, the ack was lost.

``record_naive`` retries a failed write blindly and records the run twice;
``record_idempotent`` retries with ``ON CONFLICT DO NOTHING`` on a unique key.
"""

from __future__ import annotations

import psycopg

SCHEMA = "CREATE TABLE runs (id serial PRIMARY KEY, job text NOT NULL);"
SCHEMA_UNIQUE = SCHEMA + " CREATE UNIQUE INDEX runs_job ON runs (job);"
DUPLICATES = "SELECT job, count(*) FROM runs GROUP BY job HAVING count(*) > 1"


def _with_retries(url: str, sql: str, job: str, attempts: int = 3) -> int:
    for attempt in range(1, attempts + 1):
        conn = psycopg.connect(url)
        try:
            with conn.transaction():
                conn.execute(sql, (job,))
            return attempt
        except psycopg.OperationalError:
            if attempt == attempts:
                raise
        finally:
            conn.close()
    raise AssertionError("unreachable")


def record_naive(url: str, job: str = "j1") -> int:
    """Buggy: a failed write is retried as if it had not happened."""
    return _with_retries(url, "INSERT INTO runs (job) VALUES (%s)", job)


def record_idempotent(url: str, job: str = "j1") -> int:
    """Correct: the retry is a no-op when the first attempt did commit."""
    return _with_retries(url, "INSERT INTO runs (job) VALUES (%s) ON CONFLICT (job) DO NOTHING", job)
