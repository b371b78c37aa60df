"""The fail_closed motivating case: a lazily built Redis client reads REDIS_URL at first use.

With ``REDIS_URL`` scrubbed, building the client raises before any Redis command.
``silent`` swallows that and reports "already dispatched" (no effect, no error, no log);
``loud`` does the same but logs a warning; ``raising`` lets it propagate.
"""

from __future__ import annotations

import logging
import os

import racecheck

log = logging.getLogger(__name__)


def _client() -> object:
    import redis

    return redis.Redis.from_url(os.environ["REDIS_URL"], socket_connect_timeout=1)


def _claim_and_dispatch(key: str) -> str:
    client = _client()
    if client.set(f"{key}:claim", "1", nx=True, ex=60):  # type: ignore[attr-defined]
        racecheck.effect("dispatch", key=key)
        return "dispatched"
    return "already dispatched"


def silent(key: str) -> str:
    try:
        return _claim_and_dispatch(key)
    except Exception:  # noqa: BLE001 - the bug: the failure is swallowed
        return "already dispatched"


def loud(key: str) -> str:
    try:
        return _claim_and_dispatch(key)
    except Exception as exc:  # noqa: BLE001
        log.warning("dedup claim for %s failed (%s); not dispatching", key, exc)
        return "not dispatched"


def raising(key: str) -> str:
    return _claim_and_dispatch(key)
