"""A claim against a backend that may be down: swallowed, surfaced, or failed open."""

from __future__ import annotations

import logging
import time

import psycopg
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

import racecheck

log = logging.getLogger(__name__)


def _client(url: str) -> redis.Redis:
    return redis.Redis.from_url(url, retry=Retry(NoBackoff(), 0), socket_connect_timeout=1)


def redis_claim(url: str, key: str, on_error: str) -> str:
    """Claim ``key`` with SET NX, then spawn. ``on_error``: "swallow" (skip as duplicate), "raise", "open" (spawn anyway)."""
    r = _client(url)
    try:
        racecheck.point("claim")
        try:
            claimed = bool(r.set(f"claim:{key}", "1", nx=True, ex=60))
        except redis.RedisError:
            if on_error == "raise":
                log.error("claim for %s failed: Redis is unreachable", key)
                raise
            if on_error == "swallow":
                log.info("claim for %s failed; skipping as duplicate", key)
                return "skipped as duplicate"
            claimed = True  # "open": better run twice than not at all
        if not claimed:
            return "duplicate"
        racecheck.effect("spawn", key=key)
        return "spawned"
    finally:
        r.close()


def pg_claim(url: str, key: str, on_error: str) -> str:
    """Claim ``key`` with an INSERT on a connection opened before the claim point; same ``on_error`` choices."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("SELECT 1")
        racecheck.point("claim")
        try:
            conn.execute("INSERT INTO claims (key) VALUES (%s)", (key,))
        except psycopg.OperationalError:
            if on_error == "raise":
                raise
            return "skipped as duplicate"
        racecheck.effect("spawn", key=key)
        return "spawned"


def read_after_outage(url: str) -> str:
    """Reach ``probe`` (where the server may be stopped), then wait for Redis and read ``k``."""
    racecheck.point("probe")
    r = _client(url)
    deadline = time.monotonic() + 5
    try:
        while True:
            try:
                value = r.get("k")
                break
            except redis.ConnectionError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.02)
        racecheck.effect("value", key=str(value))
        return str(value)
    finally:
        r.close()


def ping_then_get(url: str) -> str:
    """PING, reach ``between`` (where connections may be killed), then GET on the same client."""
    r = _client(url)
    try:
        r.ping()
        racecheck.point("between")
        return str(r.get("x"))
    finally:
        r.close()
