"""Incident 002: review-dispatch dedup, per process in memory, then in Redis, then the env scrub.

Two processes (the router on ``check-suite-success``, a worker's post-completion hook)
both claim the dedup key (project, PR, sha) and dispatch a review.

- ``dispatch_memory``: the claim is a module-level map: correct within one process (the
  map is guarded, as a single-threaded Node process would be), blind across processes.
- ``dispatch_redis_lazy``: the claim is ``SET <prefix><key> 1 NX EX 300`` on a lazily
  created client that reads ``REDIS_URL`` at the first claim; any Redis error fails closed
  (logged at ERROR, treated as already dispatched). Correct across processes, but a worker
  that scrubs ``REDIS_URL`` from its environment after startup makes every claim fail
  closed: real work is skipped with a log line that looks like a normal dedup.
- ``dispatch_redis``: the same claim with the URL captured when the module is imported
  (the router config), before any scrub.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from typing import Any

from ._conn import redis_client

log = logging.getLogger("incidents.s002_dedup")

PREFIX = "cascade:review-dedup:"
TTL_SECONDS = 300
PROJECT = "ucho"

# Captured at import: the config a process reads at startup, before it scrubs its env.
STARTUP_REDIS_URL = os.environ.get("REDIS_URL")


def dispatch_review(pr: int, sha: str) -> None:
    """The side effect: a review run that burns LLM tokens."""


def dedup_key(pr: int, sha: str) -> str:
    return f"{PROJECT}:{pr}:{sha}"


# -- in memory (per process) --------------------------------------------------------------

_recently: dict[str, float] = {}
_recently_lock = threading.Lock()


def claim_in_memory(key: str) -> bool:
    with _recently_lock:
        now = time.monotonic()
        seen = _recently.get(key)
        if seen is not None and now - seen < TTL_SECONDS:
            return False
        _recently[key] = now
        return True


def reset_memory() -> None:
    with _recently_lock:
        _recently.clear()


# -- Redis ---------------------------------------------------------------------------------

_client: Any = None
_client_lock = threading.Lock()


def _lazy_client() -> Any:
    """The lazy singleton: connects on first use, reading REDIS_URL only then."""
    global _client
    with _client_lock:
        if _client is None:
            url = os.environ.get("REDIS_URL")
            if not url:
                raise RuntimeError("REDIS_URL is required for review-dispatch dedup")
            _client = redis_client(url)
        return _client


def reset_client() -> None:
    global _client
    with _client_lock:
        _client = None


def configure(url: str | None = None) -> None:
    """Startup: capture the Redis URL (from ``url`` or ``REDIS_URL``) before anything scrubs the env."""
    global STARTUP_REDIS_URL
    STARTUP_REDIS_URL = url or os.environ.get("REDIS_URL")


def _startup_client() -> Any:
    if not STARTUP_REDIS_URL:
        raise RuntimeError("REDIS_URL was not set when incidents.s002_dedup was imported")
    return redis_client(STARTUP_REDIS_URL)


def claim_redis(key: str, client: Any) -> bool:
    """SET NX EX: the first claimer across all processes wins."""
    return bool(client.set(PREFIX + key, "1", nx=True, ex=TTL_SECONDS))


def _claim_fail_closed(key: str, get_client: Any) -> bool:
    try:
        return claim_redis(key, get_client())
    except Exception as exc:  # noqa: BLE001 - any failure fails closed, loudly
        log.error("Review-dispatch dedup Redis call failed - failing closed: %s", exc)
        return False


# -- the trigger variants -------------------------------------------------------------------


def _dispatch(pr: int, sha: str, claimed: bool) -> bool:
    if not claimed:
        log.info("Skipping review: already dispatched for %s", dedup_key(pr, sha))
        return False
    dispatch_review(pr, sha)
    return True


def dispatch_memory(pr: int = 194, sha: str = "9ed4dfcc") -> bool:
    """Claim in this process's map, then dispatch (the pre-#1248 dedup)."""
    return _dispatch(pr, sha, claim_in_memory(dedup_key(pr, sha)))


def dispatch_redis_lazy(pr: int = 194, sha: str = "9ed4dfcc") -> bool:
    """Claim in Redis through a client that reads REDIS_URL lazily (PR #1248)."""
    return _dispatch(pr, sha, _claim_fail_closed(dedup_key(pr, sha), _lazy_client))


def dispatch_redis(pr: int = 194, sha: str = "9ed4dfcc") -> bool:
    """Claim in Redis through a client built from the URL captured at import (PR #1250)."""
    return _dispatch(pr, sha, _claim_fail_closed(dedup_key(pr, sha), _startup_client))


def dispatch_redis_fail_open(pr: int = 194, sha: str = "9ed4dfcc") -> bool:
    """A fail-open variant for contrast: a Redis error is taken as 'not a duplicate'."""
    try:
        claimed = claim_redis(dedup_key(pr, sha), _startup_client())
    except Exception as exc:  # noqa: BLE001
        log.warning("dedup unavailable, dispatching anyway: %s", exc)
        claimed = True
    return _dispatch(pr, sha, claimed)


def setup(url: str | None = None) -> None:
    """Process startup before a trial: capture the Redis URL, forget in-memory claims, delete the dedup keys."""
    reset_memory()
    reset_client()
    target = url or os.environ.get("REDIS_URL")
    if not target:
        return
    configure(target)  # captured now, before any scrub of the environment
    client = redis_client(target)
    try:
        keys = list(client.scan_iter(match=PREFIX + "*"))
        if keys:
            client.delete(*keys)
    finally:
        client.close()
