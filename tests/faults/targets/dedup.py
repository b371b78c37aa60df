"""Seed 002's follow-up bug: the worker scrubs REDIS_URL at startup, a lazy client reads it later.

Both triggers claim ``dedup:<key>`` with ``SET NX EX`` and fail closed on Redis errors.
``trigger_lazy`` builds its client on first use from the environment: once REDIS_URL is
gone it talks to the library default (nothing listens there), every claim fails, and
the trigger logs a warning and reports "skipped as duplicate": real work silently
skipped. ``trigger_captured`` read the URL at import, before the scrub, and works.
"""

from __future__ import annotations

import logging
import os

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

import racecheck

log = logging.getLogger(__name__)

# Stands for the client library's default (localhost:6379 in production, where nothing
# listens); port 1 so the test can never reach a real server by accident.
DEFAULT_URL = "redis://127.0.0.1:1/0"
URL_AT_IMPORT = os.environ.get("REDIS_URL")

_lazy: redis.Redis | None = None


def _client(url: str) -> redis.Redis:
    return redis.Redis.from_url(url, retry=Retry(NoBackoff(), 0), socket_connect_timeout=1)


def _claim(client: redis.Redis, key: str) -> bool:
    try:
        return bool(client.set(f"dedup:{key}", "1", nx=True, ex=300))
    except redis.RedisError as exc:
        log.warning("dedup claim for %s failed (%s); treating it as a duplicate", key, exc)
        return False


def _dispatch(client: redis.Redis, key: str) -> str:
    if not _claim(client, key):
        return "skipped as duplicate"
    racecheck.effect("dispatch", key=key)
    return "dispatched"


def trigger_lazy(key: str) -> str:
    """Buggy: the client reads REDIS_URL when first used."""
    global _lazy
    if _lazy is None:
        _lazy = _client(os.environ.get("REDIS_URL", DEFAULT_URL))
    return _dispatch(_lazy, key)


def trigger_captured(key: str) -> str:
    """Correct: the URL was captured at import."""
    return _dispatch(_client(URL_AT_IMPORT or DEFAULT_URL), key)
