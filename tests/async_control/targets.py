"""Async targets for controlled asyncio scheduling: buggy check-then-act and its locked twin,
a lock held across a point, and Redis GET-then-SET / SET NX locks with explicit points."""

from __future__ import annotations

import asyncio
from typing import Any

import racecheck

STATE: dict[str, int] = {}
LOCK: list[asyncio.Lock] = []  # one fresh lock per trial (a Lock binds to the loop that used it)


def reset() -> None:
    STATE.clear()
    LOCK[:] = [asyncio.Lock()]


async def check_then_act(key: str = "k") -> str:
    """Buggy: another task may run between the check and the act."""
    if key in STATE:
        return "existing"
    await racecheck.apoint("checked")
    racecheck.effect("spawn", key=key)
    STATE[key] = 1
    return "created"


async def check_then_act_locked(key: str = "k") -> str:
    """Correct twin: the check and the act happen under one asyncio.Lock, the point in between."""
    async with LOCK[0]:
        await racecheck.apoint("locked")
        if key in STATE:
            return "existing"
        await racecheck.apoint("checked")
        racecheck.effect("spawn", key=key)
        STATE[key] = 1
        return "created"


async def two_steps(key: str = "k") -> None:
    """No bug: two points per task, for counting schedules."""
    await racecheck.apoint("one")
    await racecheck.apoint("two")


async def sleepy_check_then_act(key: str = "k") -> str:
    """Buggy, with unrelated asyncio.sleep work between the check and the act."""
    if key in STATE:
        return "existing"
    await asyncio.sleep(0.001)
    await racecheck.apoint("checked")
    racecheck.effect("spawn", key=key)
    STATE[key] = 1
    return "created"


async def sync_point_in_task(key: str = "k") -> str:
    """A synchronous racecheck.point() inside a task: recorded, cannot yield, so no race here."""
    if key in STATE:
        return "existing"
    racecheck.point("sync-checked")
    racecheck.effect("spawn", key=key)
    STATE[key] = 1
    return "created"


async def release_in_finally(key: str = "k") -> str:
    """Releases in ``finally``; the survivor records how many releases it saw. A crash at the point
    must skip the crashed task's release for the rest of the trial, as a kill would."""
    try:
        await racecheck.apoint("claimed")
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        racecheck.effect("saw", key=STATE.get("released", 0))
        return "done"
    finally:
        STATE["released"] = STATE.get("released", 0) + 1


async def delayed(key: str = "k") -> str:
    """One point, where a delay fault may hold this task (while the others run)."""
    await racecheck.apoint("slow")
    racecheck.effect("passed", key=key)
    return "done"


# -- real Redis --------------------------------------------------------------------------------


async def redis_get_then_set(url: str, key: str) -> str:
    """Buggy lock: GET to see whether it is free, then SET it; both may see it free."""
    import redis.asyncio

    r: Any = redis.asyncio.Redis.from_url(url, decode_responses=True)
    try:
        await racecheck.apoint("redis:get")
        if await r.get(key) is not None:
            return "busy"
        await racecheck.apoint("redis:set")
        await r.set(key, str(racecheck.current_worker()), px=10_000)
        with racecheck.section("locked", key=key):
            await racecheck.apoint("critical")
        return "held"
    finally:
        await r.aclose()


async def redis_set_nx(url: str, key: str) -> str:
    """Correct lock: one atomic SET NX."""
    import redis.asyncio

    r: Any = redis.asyncio.Redis.from_url(url, decode_responses=True)
    try:
        await racecheck.apoint("redis:set")
        if not await r.set(key, str(racecheck.current_worker()), nx=True, px=10_000):
            return "busy"
        with racecheck.section("locked", key=key):
            await racecheck.apoint("critical")
        return "held"
    finally:
        await r.aclose()


# -- deadlock ----------------------------------------------------------------------------------

LOCKS: list[asyncio.Lock] = []


def reset_two_locks() -> None:
    LOCKS[:] = [asyncio.Lock(), asyncio.Lock()]


async def opposite_order(key: str = "k") -> None:
    """Worker 0 takes lock A then B, the others B then A, with a point in between: a deadlock."""
    w = racecheck.current_worker() or 0
    first, second = (LOCKS[0], LOCKS[1]) if w == 0 else (LOCKS[1], LOCKS[0])
    async with first:
        await racecheck.apoint("first")
        async with second:
            await racecheck.apoint("second")


async def _half(key: str, part: str) -> None:
    await racecheck.apoint(f"{part}:1")
    await asyncio.sleep(0)
    await racecheck.apoint(f"{part}:2")
    racecheck.effect("part", key=f"{key}:{racecheck.current_worker()}:{part}")


async def gathered(key: str = "k") -> str:
    """A trigger whose work runs in two gathered helper tasks, each with its own points."""
    await racecheck.apoint("before")
    await asyncio.gather(_half(key, "a"), _half(key, "b"))
    await racecheck.apoint("after")
    return "done"


HANDOFF: list[asyncio.Future[int] | None] = [None]


def reset_handoff() -> None:
    HANDOFF[0] = None


async def handoff(key: str = "k") -> None:
    """Worker 1 awaits a plain future (to the gate: the outside world) that only worker 0 resolves."""
    if HANDOFF[0] is None:
        HANDOFF[0] = asyncio.get_running_loop().create_future()
    fut = HANDOFF[0]
    if racecheck.current_worker() == 0:
        await racecheck.apoint("before-resolve")
        fut.set_result(1)
    else:
        await racecheck.apoint("before-wait")
        await fut
        racecheck.effect("got", key=key)
