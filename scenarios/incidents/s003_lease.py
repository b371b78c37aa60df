"""Incident 003: a per-session lease for approval wakes, on a store with an atomic increment.

Two ``approval::resolve`` writes for one session wake two turn steps at once; each loads
the parked turn and runs every call in it, so the side-effecting call runs twice unless
the wakes are serialised by a lease.

Buggy lease (``wake_buggy``): ``INCR lease:<s>`` acquires when the prior count was 0, and
*then* publishes ``lease_at:<s>``; a contender whose increment was not first reads
``lease_at``, and if it is older than the TTL, resets the counter and increments again
(the stale steal). A contender that runs between the holder's increment and its
timestamp write reads the previous lease's (stale) timestamp and steals a live lease: two
holders, the side effect twice. Release resets the counter.

Fixed lease (``wake_fixed``): ``SET lease:<s> <token> NX PX <ttl>``, a fencing token from
``INCR fence:<s>`` that the store checks before accepting the turn's write, and a
compare-and-delete release (only the owner's token deletes the key).

The retry loop around a wake: ``on_approval_buggy`` returns normally after exhausting its
attempts (the wake is silently dropped); ``on_approval_fixed`` raises ``RetriesExhausted``.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Callable
from typing import Any

import racecheck

from ._conn import redis_client

LEASE_TTL = 30.0
ATTEMPTS = 100
RETRY_SLEEP = 0.01
SESSION = "s1"

_RELEASE = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end"
_FENCED_WRITE = (
    "local cur = tonumber(redis.call('GET', KEYS[1]) or '0') "
    "if tonumber(ARGV[1]) > cur then redis.call('SET', KEYS[1], ARGV[1]) return 1 else return 0 end"
)


class TransientError(Exception):
    """The lease is held by another wake: retry later."""


class RetriesExhausted(Exception):
    """Every attempt found the lease held: the wake was not processed."""


def run_side_effect(session_id: str, fence: int = 0) -> None:
    """The side-effecting call of the parked turn (e.g. shell::run)."""


def now() -> float:
    return time.time()


def setup(url: str | None = None) -> None:
    """Before a trial: a parked turn, a free lease and a stale timestamp left by an earlier lease."""
    r = redis_client(url)
    try:
        s = SESSION
        r.delete(f"lease:{s}", f"fence:{s}", f"fence_max:{s}")
        r.set(f"lease_at:{s}", now() - 3600)
        r.set(f"turn:{s}", "parked")
    finally:
        r.close()


# -- buggy lease: increment + TTL steal -------------------------------------------------------


def acquire_buggy(r: Any, s: str, ttl: float) -> bool:
    if r.incr(f"lease:{s}") == 1:
        racecheck.point("lease:acquired")
        r.set(f"lease_at:{s}", now())  # published after the counter: the split-brain window
        return True
    at = r.get(f"lease_at:{s}")
    if at is not None and now() - float(at) > ttl:  # recover a lease abandoned by a crashed holder
        r.set(f"lease:{s}", 0)
        if r.incr(f"lease:{s}") == 1:
            racecheck.point("lease:stolen")
            r.set(f"lease_at:{s}", now())
            return True
    return False


def wake_buggy(s: str = SESSION, ttl: float = LEASE_TTL, url: str | None = None) -> str:
    """One turn step behind the increment lease."""
    r = redis_client(url)
    try:
        if not acquire_buggy(r, s, ttl):
            raise TransientError(f"lease for {s} is held")
        try:
            with racecheck.section("turn", s):
                if r.get(f"turn:{s}") != b"parked":
                    return "stale"
                run_side_effect(s)
                r.set(f"turn:{s}", "done")
                return "done"
        finally:
            r.set(f"lease:{s}", 0)
    finally:
        r.close()


# -- fixed lease: SET NX PX, fencing token, compare-and-delete ------------------------------------


def acquire_fixed(r: Any, s: str, ttl: float) -> tuple[str, int] | None:
    token = str(uuid.uuid4())
    if not r.set(f"lease:{s}", token, nx=True, px=int(ttl * 1000)):
        return None
    racecheck.point("lease:acquired")
    return token, int(r.incr(f"fence:{s}"))


def wake_fixed(s: str = SESSION, ttl: float = LEASE_TTL, url: str | None = None) -> str:
    """One turn step behind an owner-token lease; the turn's write is fenced."""
    r = redis_client(url)
    try:
        got = acquire_fixed(r, s, ttl)
        if got is None:
            raise TransientError(f"lease for {s} is held")
        token, fence = got
        try:
            with racecheck.section("turn", s):
                if r.get(f"turn:{s}") != b"parked":
                    return "stale"
                racecheck.point("turn:write")
                if not r.eval(_FENCED_WRITE, 1, f"fence_max:{s}", fence):
                    return "fenced"  # a newer holder wrote first: our lease had expired
                racecheck.effect("fenced_write", key=s, token=fence)
                run_side_effect(s, fence)
                r.set(f"turn:{s}", "done")
                return "done"
        finally:
            r.eval(_RELEASE, 1, f"lease:{s}", token)
    finally:
        r.close()


# -- the retry loop around a wake -------------------------------------------------------------


def _retry(wake: Callable[..., str], s: str, ttl: float, url: str | None, attempts: int, strict: bool) -> str | None:
    for _ in range(attempts):
        try:
            return wake(s, ttl, url)
        except TransientError:
            time.sleep(RETRY_SLEEP)
            continue
    if strict:
        raise RetriesExhausted(f"wake for {s}: lease still held after {attempts} attempts")
    return None  # falls through: the wake is dropped and the caller sees success


def on_approval_buggy(s: str = SESSION, ttl: float = LEASE_TTL, url: str | None = None,
                      attempts: int = ATTEMPTS) -> str | None:
    """Buggy lease, and a retry loop that returns normally when its attempts run out."""
    return _retry(wake_buggy, s, ttl, url, attempts, strict=False)


def on_approval_fixed(s: str = SESSION, ttl: float = LEASE_TTL, url: str | None = None,
                      attempts: int = ATTEMPTS) -> str | None:
    """Fixed lease, and a retry loop that raises RetriesExhausted when its attempts run out."""
    return _retry(wake_fixed, s, ttl, url, attempts, strict=True)


def on_approval_fixed_lease_silent_retry(s: str = SESSION, ttl: float = LEASE_TTL, url: str | None = None,
                                         attempts: int = ATTEMPTS) -> str | None:
    """Fixed lease with the buggy retry loop: isolates the retry bug from the lease bug."""
    return _retry(wake_fixed, s, ttl, url, attempts, strict=False)


# -- invariant ----------------------------------------------------------------------------------


def no_silent_drop(history: Any) -> str | None:
    """Custom invariant: if the turn is still parked after the trial, some wake must have raised."""
    r = redis_client(os.environ.get("REDIS_URL"))
    try:
        state = r.get(f"turn:{SESSION}")
    finally:
        r.close()
    if state != b"parked":
        return None
    if any(e.kind == "error" for e in history):
        return None
    return f"turn {SESSION} is still parked, yet every wake returned normally: a wake was dropped silently"
