"""Targets for the verdict tests: each blind or buggy form next to its correct twin."""

from __future__ import annotations

import asyncio
import threading

import racecheck

STATE: dict[str, int] = {}
LOCK = threading.Lock()


def reset() -> None:
    STATE.clear()


def spawn_reviewer(key: str) -> None:
    """The side effect (spied)."""


def blind_check_then_act() -> None:
    """Check-then-act on a dict with no point inside: a controlled strategy runs it atomically."""
    if "k" not in STATE:
        STATE["k"] = 1
        racecheck.effect("spawn", key="k")


def check_then_act() -> None:
    """The same bug with points: a controlled strategy can switch between the check and the act."""
    racecheck.point("check")
    if "k" not in STATE:
        racecheck.point("act")
        STATE["k"] = 1
        racecheck.effect("spawn", key="k")


def check_then_act_locked() -> None:
    with LOCK:
        check_then_act()


def spawn_once() -> None:
    """Calls the spied effect once per key, under a lock (correct)."""
    with LOCK:
        racecheck.point("check")
        if "k" in STATE:
            return
        STATE["k"] = 1
    spawn_reviewer("k")


def psycopg2_check_then_act(url: str) -> None:
    """Check-then-act on Postgres through psycopg2, which racecheck does not instrument."""
    import psycopg2

    conn = psycopg2.connect(url)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute("select count(*) from claims where k = 'k'")
            row = cur.fetchone()
            if row is not None and row[0] == 0:
                cur.execute("insert into claims (k) values ('k')")
                racecheck.effect("spawn", key="k")
    finally:
        conn.close()


async def async_check_then_act() -> str:
    """An async def target: in thread mode it runs on an event loop in its worker thread."""
    racecheck.point("check")
    if "k" not in STATE:
        await asyncio.sleep(0)
        racecheck.point("act")
        STATE["k"] = 1
        racecheck.effect("spawn", key="k")
    return "done"


async def async_check_then_act_locked() -> str:
    with LOCK:
        racecheck.point("check")
        if "k" not in STATE:
            STATE["k"] = 1
            racecheck.effect("spawn", key="k")
    return "done"


def generator_target():  # noqa: ANN201 - deliberately a generator
    racecheck.effect("spawn", key="k")
    yield 1


def raises_type_error() -> None:
    raise TypeError("trigger() missing 1 required positional argument: 'url'")


def raises_in_worker_one() -> None:
    """Worker 1 refuses; the others do the effect (so the invariants had something to check)."""
    if racecheck.current_worker() == 1:
        raise ValueError("busy")
    racecheck.effect("spawn", key=str(racecheck.current_worker()))


def with_prepare(fail: bool):  # noqa: ANN201
    def target() -> None:
        racecheck.effect("spawn", key=str(racecheck.current_worker()))

    def prepare(worker: int) -> None:
        if fail:
            raise ConnectionRefusedError("cannot open the connection")

    target.racecheck_prepare = prepare  # type: ignore[attr-defined]
    return target


def effect_per_worker() -> None:
    racecheck.point("work")
    racecheck.effect("spawn", key=str(racecheck.current_worker()))


def recover() -> None:
    racecheck.point("recover:scan")


def spied_spawn() -> None:
    racecheck.point("work")
    spawn_reviewer(str(racecheck.current_worker()))


def redis_claim() -> None:
    """SET NX claim in Redis (correct): one spawn per key."""
    import os

    import redis

    client = redis.Redis.from_url(os.environ["REDIS_URL"])
    try:
        if client.set("verdicts:claim:k", "1", nx=True):
            racecheck.effect("spawn", key="k")
    finally:
        client.close()


def redis_reset() -> None:
    import os

    import redis

    client = redis.Redis.from_url(os.environ["REDIS_URL"])
    client.delete("verdicts:claim:k")
    client.close()


async def async_effect_per_worker() -> str:
    await asyncio.sleep(0)
    racecheck.effect("spawn", key=str(racecheck.current_worker()))
    return "done"
