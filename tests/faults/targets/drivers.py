"""Triggers that touch Postgres and Redis through connections they open themselves."""

from __future__ import annotations

from typing import Any

import psycopg
import redis
import redis.asyncio
from redis.backoff import NoBackoff
from redis.retry import Retry


def pg_sync(url: str) -> Any:
    """Open a connection, run two statements and commit."""
    with psycopg.connect(url) as conn:
        conn.execute("SELECT 1 AS sync_probe")
        with conn.cursor() as cur:
            cur.executemany("SELECT %s::int AS many_probe", [(1,), (2,)])
            cur.execute("SELECT %s::int AS param_probe", (7,))
            return cur.fetchone()


async def pg_async(url: str) -> Any:
    """The same through psycopg's AsyncConnection."""
    async with await psycopg.AsyncConnection.connect(url) as conn:
        await conn.execute("SELECT 2 AS async_probe")
        cur = await conn.execute("SELECT %s::int AS param_probe", (8,))
        return await cur.fetchone()


def redis_sync(url: str) -> Any:
    """SET and GET on a client the trigger makes, plus a pipeline."""
    r = redis.Redis.from_url(url, retry=Retry(NoBackoff(), 0))
    try:
        r.set("probe:sync", "1")
        with r.pipeline() as p:
            p.incr("probe:count")
            p.get("probe:sync")
            p.execute()
        return r.get("probe:sync")
    finally:
        r.close()


async def redis_async(url: str) -> Any:
    """The same through redis.asyncio."""
    r = redis.asyncio.Redis.from_url(url, retry=Retry(NoBackoff(), 0))
    try:
        await r.set("probe:async", "1")
        async with r.pipeline() as p:
            p.incr("probe:acount")
            p.get("probe:async")
            await p.execute()
        return await r.get("probe:async")
    finally:
        await r.aclose()
