"""Targets for the backend scenario tests: they find their servers through DATABASE_URL and REDIS_URL."""

from __future__ import annotations

import os


def request_review(sha: str = "abc") -> None:
    """Check, then insert: two requests can both see no review and both insert one."""
    import psycopg

    with psycopg.connect(os.environ["DATABASE_URL"], autocommit=True) as conn:
        if conn.execute("select id from review where sha = %s", (sha,)).fetchone() is None:
            conn.execute("insert into review (sha, status) values (%s, 'done')", (sha,))


def request_review_fixed(sha: str = "abc") -> None:
    """One statement, backed by a unique index: at most one review per sha."""
    import psycopg

    with psycopg.connect(os.environ["DATABASE_URL"], autocommit=True) as conn:
        conn.execute("insert into review (sha, status) values (%s, 'done') on conflict (sha) do nothing", (sha,))


def take_lock_leaky(job: str = "j", redis_url: str = "") -> None:
    """Takes a lock and forgets to release it."""
    import redis

    r = redis.Redis.from_url(redis_url)
    try:
        r.set(f"lock:{job}", "1", nx=True, px=60_000)
    finally:
        r.close()


def take_lock(job: str = "j", redis_url: str = "") -> None:
    """Takes a lock and releases it."""
    import redis

    r = redis.Redis.from_url(redis_url)
    try:
        if r.set(f"lock:{job}", "1", nx=True, px=60_000):
            r.delete(f"lock:{job}")
    finally:
        r.close()
