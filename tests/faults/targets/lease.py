"""Seed 003: a lease with a TTL, a holder paused past it, and fencing tokens.

``trigger_redis_lease`` takes ``lease:<r>`` with ``SET NX PX`` and a token from
``INCR fence:<r>``; a holder paused past the TTL loses the lease to the next one and
then writes anyway. ``store="naive"`` accepts the stale write; ``store="fenced"``
rejects writes whose token is not above the highest seen (a Lua compare-and-set).
``trigger_pg_lock`` holds a row lock instead: a paused holder keeps it, nobody steals.
"""

from __future__ import annotations

import time

import psycopg
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

import racecheck

FENCED_WRITE = """
local top = tonumber(redis.call('GET', KEYS[1]) or '0')
if tonumber(ARGV[1]) <= top then return 0 end
redis.call('SET', KEYS[1], ARGV[1])
redis.call('SET', KEYS[2], ARGV[2])
return 1
"""
RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


def _acquire(r: redis.Redis, resource: str, me: str, ttl_ms: int, wait: float) -> int | None:
    deadline = time.monotonic() + wait
    while True:
        token = int(r.incr(f"fence:{resource}"))
        if r.set(f"lease:{resource}", f"{me}:{token}", nx=True, px=ttl_ms):
            return token
        if time.monotonic() > deadline:
            return None
        time.sleep(0.01)


def trigger_redis_lease(url: str, me: str, second: bool = False, store: str = "naive",
                        resource: str = "r1", ttl_ms: int = 100) -> str:
    """Take the lease, work (a point where a pause may hit), write with the fencing token.

    ``second``: start contending only once someone holds the lease (makes the order certain).
    """
    r = redis.Redis.from_url(url, retry=Retry(NoBackoff(), 0))
    try:
        deadline = time.monotonic() + 5
        while second and not r.exists(f"lease:{resource}") and time.monotonic() < deadline:
            time.sleep(0.005)
        token = _acquire(r, resource, me, ttl_ms, wait=2.0)
        if token is None:
            return "gave up"
        with racecheck.section("lease", key=resource):
            racecheck.point("lease:work")
            if store == "fenced":
                accepted = bool(r.eval(FENCED_WRITE, 2, f"top:{resource}", f"data:{resource}", token, me))
            else:
                r.set(f"data:{resource}", me)
                accepted = True
            if accepted:
                racecheck.effect("write", key=resource, token=token, by=me)
        r.eval(RELEASE, 1, f"lease:{resource}", f"{me}:{token}")
        return "wrote" if accepted else "rejected as stale"
    finally:
        r.close()


LOCK_SCHEMA = "CREATE TABLE resources (id text PRIMARY KEY, holder text); INSERT INTO resources VALUES ('r1', NULL);"


def trigger_pg_lock(url: str, me: str, second: bool = False, resource: str = "r1") -> str:
    """Hold a row lock for the whole critical section: a pause cannot hand it to anyone else."""
    if second:
        time.sleep(0.05)
    with psycopg.connect(url) as conn, conn.transaction():
        conn.execute("SELECT id FROM resources WHERE id = %s FOR UPDATE", (resource,))
        with racecheck.section("lease", key=resource):
            racecheck.point("lease:work")
            conn.execute("UPDATE resources SET holder = %s WHERE id = %s", (me, resource))
    return "wrote"
