"""Connections for the incident systems: URL from an argument or the environment."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent


def pg_url(url: str | None = None) -> str:
    """The Postgres URL: ``url`` if given, else ``DATABASE_URL``."""
    found = url or os.environ.get("DATABASE_URL")
    if not found:
        raise RuntimeError("no Postgres URL: pass url=... or set DATABASE_URL")
    return found


def redis_url(url: str | None = None) -> str:
    """The Redis URL: ``url`` if given, else ``REDIS_URL``."""
    found = url or os.environ.get("REDIS_URL")
    if not found:
        raise RuntimeError("no Redis URL: pass url=... or set REDIS_URL")
    return found


def connect(url: str | None = None, autocommit: bool = True) -> Any:
    """A fresh psycopg 3 connection (one per trigger, as a request handler would open)."""
    import psycopg

    return psycopg.connect(pg_url(url), autocommit=autocommit)


def redis_client(url: str | None = None) -> Any:
    """A redis-py client with retries off, so an injected fault is seen, not retried away."""
    import redis
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    return redis.Redis.from_url(redis_url(url), retry=Retry(NoBackoff(), 0),
                                socket_connect_timeout=2, socket_timeout=5)


def sql_file(name: str) -> str:
    """The text of a schema file shipped next to the modules."""
    return (HERE / name).read_text()


def run_sql(sql: str, url: str | None = None) -> None:
    """Run a script (several statements) on its own autocommit connection."""
    with connect(url) as conn:
        conn.execute(sql)
