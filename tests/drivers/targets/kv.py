"""The Redis scenarios written once per client library (redis-py / valkey-py, sync and asyncio).

Each target takes ``(url, prefix, lib)``: ``lib`` is ``"redis"`` or ``"valkey"``; keys live
under ``prefix`` so tests never touch anything else on a shared server.
"""

from __future__ import annotations

import importlib
from typing import Any

import racecheck

JOBS = 4
INCR = "return redis.call('INCR', KEYS[1])"


def client(lib: str, url: str) -> Any:
    mod = importlib.import_module(lib)
    cls = mod.Valkey if lib == "valkey" else mod.Redis
    return cls.from_url(url, decode_responses=True)


def aclient(lib: str, url: str) -> Any:
    mod = importlib.import_module(f"{lib}.asyncio")
    cls = mod.Valkey if lib == "valkey" else mod.Redis
    return cls.from_url(url, decode_responses=True)


def reset(url: str, prefix: str) -> Any:
    def setup() -> None:
        c = client("redis", url)
        c.delete(prefix + "user", prefix + "counter", prefix + "jobs", prefix + "t")
        c.rpush(prefix + "jobs", *range(1, JOBS + 1))
        c.set(prefix + "counter", 0)
        c.close()

    return setup


# -- sync --------------------------------------------------------------------------------------
def signup(url: str, prefix: str, lib: str) -> None:
    c = client(lib, url)
    if c.get(prefix + "user") is None:
        c.set(prefix + "user", "me")
        racecheck.effect("created", key="user")


def signup_fixed(url: str, prefix: str, lib: str) -> None:
    c = client(lib, url)
    if c.set(prefix + "user", "me", nx=True):
        racecheck.effect("created", key="user")


def increment(url: str, prefix: str, lib: str) -> None:
    c = client(lib, url)
    v = int(c.get(prefix + "counter"))
    c.set(prefix + "counter", v + 1)


def increment_fixed(url: str, prefix: str, lib: str) -> None:
    """A Lua script (register_script: EVALSHA, EVAL on NOSCRIPT) increments atomically."""
    c = client(lib, url)
    c.register_script(INCR)(keys=[prefix + "counter"])


def claim(url: str, prefix: str, lib: str) -> None:
    c = client(lib, url)
    job = c.lindex(prefix + "jobs", 0)
    if job is not None:
        c.lrem(prefix + "jobs", 1, job)
        racecheck.effect("claimed", key=job)


def claim_fixed(url: str, prefix: str, lib: str) -> None:
    """WATCH the queue, MULTI/EXEC the removal; retry when another claimer changed it."""
    c = client(lib, url)
    watch_error = importlib.import_module(f"{lib}.exceptions").WatchError
    with c.pipeline() as pipe:
        while True:
            try:
                pipe.watch(prefix + "jobs")
                job = pipe.lindex(prefix + "jobs", 0)
                if job is None:
                    return
                pipe.multi()
                pipe.lrem(prefix + "jobs", 1, job)
                pipe.execute()
                racecheck.effect("claimed", key=job)
                return
            except watch_error:
                continue


def write(url: str, prefix: str, lib: str) -> None:
    c = client(lib, url)
    c.set(prefix + "t", "written")
    pipe = c.pipeline(transaction=False)
    pipe.get(prefix + "t")
    pipe.strlen(prefix + "t")
    pipe.execute()
    c.eval("return 1", 0)


def count_visit(url: str, prefix: str, lib: str, idempotent: bool) -> None:
    """Count one visit, retrying on a connection error: INCR (not idempotent) or SET of the count."""
    c = client(lib, url)
    error = importlib.import_module(f"{lib}.exceptions").ConnectionError
    for attempt in range(3):
        try:
            if idempotent:
                c.set(prefix + "counter", 1)
            else:
                c.incr(prefix + "counter")
            return
        except error:
            if attempt == 2:
                raise


# -- asyncio -----------------------------------------------------------------------------------
async def asignup(url: str, prefix: str, lib: str) -> None:
    c = aclient(lib, url)
    try:
        if await c.get(prefix + "user") is None:
            await c.set(prefix + "user", "me")
            racecheck.effect("created", key="user")
    finally:
        await c.aclose()


async def asignup_fixed(url: str, prefix: str, lib: str) -> None:
    c = aclient(lib, url)
    try:
        if await c.set(prefix + "user", "me", nx=True):
            racecheck.effect("created", key="user")
    finally:
        await c.aclose()


async def aincrement(url: str, prefix: str, lib: str) -> None:
    c = aclient(lib, url)
    try:
        v = int(await c.get(prefix + "counter"))
        await c.set(prefix + "counter", v + 1)
    finally:
        await c.aclose()


async def aincrement_fixed(url: str, prefix: str, lib: str) -> None:
    c = aclient(lib, url)
    try:
        await c.register_script(INCR)(keys=[prefix + "counter"])
    finally:
        await c.aclose()


async def aclaim(url: str, prefix: str, lib: str) -> None:
    c = aclient(lib, url)
    try:
        job = await c.lindex(prefix + "jobs", 0)
        if job is not None:
            await c.lrem(prefix + "jobs", 1, job)
            racecheck.effect("claimed", key=job)
    finally:
        await c.aclose()


async def aclaim_fixed(url: str, prefix: str, lib: str) -> None:
    c = aclient(lib, url)
    watch_error = importlib.import_module(f"{lib}.exceptions").WatchError
    try:
        async with c.pipeline() as pipe:
            while True:
                try:
                    await pipe.watch(prefix + "jobs")
                    job = await pipe.lindex(prefix + "jobs", 0)
                    if job is None:
                        return
                    pipe.multi()
                    pipe.lrem(prefix + "jobs", 1, job)
                    await pipe.execute()
                    racecheck.effect("claimed", key=job)
                    return
                except watch_error:
                    continue
    finally:
        await c.aclose()


async def awrite(url: str, prefix: str, lib: str) -> None:
    c = aclient(lib, url)
    try:
        await c.set(prefix + "t", "written")
        pipe = c.pipeline(transaction=False)
        pipe.get(prefix + "t")
        await pipe.execute()
        await c.eval("return 1", 0)
    finally:
        await c.aclose()


async def acount_visit(url: str, prefix: str, lib: str, idempotent: bool) -> None:
    c = aclient(lib, url)
    error = importlib.import_module(f"{lib}.exceptions").ConnectionError
    try:
        for attempt in range(3):
            try:
                if idempotent:
                    await c.set(prefix + "counter", 1)
                else:
                    await c.incr(prefix + "counter")
                return
            except error:
                if attempt == 2:
                    raise
    finally:
        await c.aclose()


def hold(url: str, prefix: str, lib: str, name: str) -> None:
    """SET then GET on a client named ``name`` (a crash at the GET must disconnect it)."""
    mod = importlib.import_module(lib)
    c = (mod.Valkey if lib == "valkey" else mod.Redis).from_url(url, client_name=name)
    c.set(prefix + "t", "held")
    c.get(prefix + "t")


async def ahold(url: str, prefix: str, lib: str, name: str) -> None:
    """The asyncio form, with no ``aclose()``: only the crash's disconnect can close the socket."""
    mod = importlib.import_module(f"{lib}.asyncio")
    c = (mod.Valkey if lib == "valkey" else mod.Redis).from_url(url, client_name=name)
    await c.set(prefix + "t", "held")
    await c.get(prefix + "t")
