"""Drivers: what instrumentation costs per statement/command, for every registered driver.

For each driver, in one process and one sitting: the same trivial call (``SELECT 1`` /
``GET``) on a connection the driver made,

- *plain*: nothing instrumented (psycopg2: a connection from the unpatched ``connect``);
- *outside a run*: the driver instrumented, no run active (the wrappers' pass-through);
- *inside a run*: as a racecheck worker (stress, noise 0: no scheduling, the hook itself:
  point, event, fault matching).

The three are measured in alternation, ``--rounds`` times, best loop of each kept, and
reported as ratios to *plain* (and µs per call), so server noise hits all three alike.
Uses 127.0.0.1:5432 (``SELECT 1`` on the ``postgres`` database) and Redis 6379 (``GET`` of
a key that does not exist): it reads nothing and writes nothing. Writes a section of
benchmarks/RESULTS.md and benchmarks/results/drivers.json.

``python benchmarks/bench_drivers.py [--quick] [--no-write]``
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import racecheck  # noqa: E402
from racecheck import drivers  # noqa: E402

PG = "postgresql://postgres@127.0.0.1:5432/postgres"
REDIS = "redis://127.0.0.1:6379/0"
KEY = "racecheck:bench-drivers:absent"
SECTION = "## Drivers: per-statement overhead (bench_drivers.py)"

Sync = Callable[[], Any]
Async = Callable[[], Awaitable[Any]]


def _loop_ns(call: Sync, calls: int) -> float:
    t0 = time.perf_counter_ns()
    for _ in range(calls):
        call()
    return (time.perf_counter_ns() - t0) / calls


async def _aloop_ns(call: Async, calls: int) -> float:
    t0 = time.perf_counter_ns()
    for _ in range(calls):
        await call()
    return (time.perf_counter_ns() - t0) / calls


# -- the calls, per driver: (make a connection + the call, close) --------------------------------
def _psycopg(plain: bool) -> tuple[Sync, Sync]:
    import psycopg

    conn = psycopg.connect(PG, autocommit=True)
    return (lambda: conn.execute("SELECT 1")), conn.close


def _psycopg2(plain: bool) -> tuple[Sync, Sync]:
    import psycopg2

    connect = getattr(psycopg2.connect, "__wrapped__", psycopg2.connect) if plain else psycopg2.connect
    conn = connect(PG)
    conn.autocommit = True
    cur = conn.cursor()
    return (lambda: cur.execute("SELECT 1")), conn.close


def _redis(plain: bool) -> tuple[Sync, Sync]:
    import redis

    c = redis.Redis.from_url(REDIS)
    return (lambda: c.get(KEY)), c.close


def _valkey(plain: bool) -> tuple[Sync, Sync]:
    import valkey

    c = valkey.Valkey.from_url(REDIS)
    return (lambda: c.get(KEY)), c.close


async def _asyncpg() -> tuple[Async, Async]:
    import asyncpg

    conn = await asyncpg.connect(PG)
    return (lambda: conn.execute("SELECT 1")), conn.close


async def _aredis() -> tuple[Async, Async]:
    import redis.asyncio

    c = redis.asyncio.Redis.from_url(REDIS)
    return (lambda: c.get(KEY)), c.aclose


async def _avalkey() -> tuple[Async, Async]:
    import valkey.asyncio

    c = valkey.asyncio.Valkey.from_url(REDIS)
    return (lambda: c.get(KEY)), c.aclose


SYNC: dict[str, tuple[str, Callable[[bool], tuple[Sync, Sync]]]] = {
    "psycopg": ("psycopg 3 SELECT 1", _psycopg),
    "psycopg2": ("psycopg2 SELECT 1", _psycopg2),
    "redis": ("redis-py GET", _redis),
    "valkey": ("valkey-py GET", _valkey),
}
ASYNC: dict[str, tuple[str, str, Callable[[], Awaitable[tuple[Async, Async]]]]] = {
    "asyncpg": ("asyncpg", "asyncpg SELECT 1", _asyncpg),
    "redis.asyncio": ("redis", "redis.asyncio GET", _aredis),
    "valkey.asyncio": ("valkey", "valkey.asyncio GET", _avalkey),
}


# -- measuring ------------------------------------------------------------------------------------
def _sync_one(name: str, make: Callable[[bool], tuple[Sync, Sync]], calls: int) -> dict[str, float]:
    call, close = make(True)
    try:
        plain = _loop_ns(call, calls)
    finally:
        close()
    undo = drivers.install_drivers([name])
    try:
        call, close = make(False)
        try:
            outside = _loop_ns(call, calls)
        finally:
            close()
    finally:
        undo()
    box: dict[str, float] = {}

    def target() -> None:
        c, cl = make(False)
        try:
            box["inside"] = _loop_ns(c, calls)
        finally:
            cl()

    racecheck.run(target, n=1, trials=1, noise=0.0, invariants=[], drivers=(name,)).assert_ok()
    return {"plain": plain, "outside": outside, "inside": box["inside"]}


def _async_one(driver: str, make: Callable[[], Awaitable[tuple[Async, Async]]], calls: int) -> dict[str, float]:
    async def measure() -> float:
        call, close = await make()
        try:
            return await _aloop_ns(call, calls)
        finally:
            await close()

    plain = asyncio.run(measure())
    undo = drivers.install_drivers([driver])
    try:
        outside = asyncio.run(measure())
    finally:
        undo()
    box: dict[str, float] = {}

    async def target() -> None:
        box["inside"] = await measure()

    racecheck.run(target, n=1, trials=1, mode="asyncio", noise=0.0, invariants=[],
                  drivers=(driver,)).assert_ok()
    return {"plain": plain, "outside": outside, "inside": box["inside"]}


def measure(rounds: int, calls: int) -> dict[str, dict[str, Any]]:
    best: dict[str, dict[str, float]] = {}
    labels: dict[str, str] = {}

    def keep(key: str, got: dict[str, float]) -> None:
        cur = best.setdefault(key, dict(got))
        for k, v in got.items():
            cur[k] = min(cur[k], v)

    for _ in range(rounds):
        for name, (label, make) in SYNC.items():
            labels[name] = label
            keep(name, _sync_one(name, make, calls))
        for key, (driver, label, amake) in ASYNC.items():
            labels[key] = label
            keep(key, _async_one(driver, amake, calls))
    out: dict[str, dict[str, Any]] = {}
    for key, b in best.items():
        out[key] = {"call": labels[key], **b, "outside_ratio": b["outside"] / b["plain"],
                    "inside_ratio": b["inside"] / b["plain"]}
    return out


def table(results: dict[str, dict[str, Any]], rounds: int, calls: int) -> str:
    lines = [
        SECTION, "",
        f"`python benchmarks/bench_drivers.py` ({rounds} rounds of {calls} calls per cell, best loop of "
        "each; the three columns of a row measured in alternation in one process). *plain*: nothing "
        "instrumented; *outside a run*: the driver instrumented, no run active; *inside a run*: as a "
        "worker (stress, noise 0: point + event + fault matching, no scheduling). Postgres "
        "127.0.0.1:5432, Redis 127.0.0.1:6379, both local.", "",
        "| driver | call | plain | outside a run | inside a run | outside ÷ plain | inside ÷ plain "
        "| inside − plain |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for key, r in results.items():
        lines.append(
            f"| {key} | {r['call']} | {r['plain'] / 1000:.1f} µs | {r['outside'] / 1000:.1f} µs | "
            f"{r['inside'] / 1000:.1f} µs | {r['outside_ratio']:.2f} | {r['inside_ratio']:.2f} | "
            f"{(r['inside'] - r['plain']) / 1000:+.1f} µs |")
    return "\n".join(lines) + "\n"


def write(text: str, results: dict[str, dict[str, Any]]) -> None:
    md = ROOT / "benchmarks" / "RESULTS.md"
    body = md.read_text() if md.exists() else ""
    pattern = re.compile(re.escape(SECTION) + r".*?(?=^## |\Z)", re.S | re.M)
    body = pattern.sub(lambda _m: text + "\n", body) if pattern.search(body) else body.rstrip() + "\n\n" + text
    md.write_text(body)
    out = ROOT / "benchmarks" / "results" / "drivers.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="1 round of 200 calls")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--calls", type=int, default=2000)
    ap.add_argument("--no-write", action="store_true", help="print only")
    args = ap.parse_args(argv)
    rounds, calls = (1, 200) if args.quick else (args.rounds, args.calls)
    results = measure(rounds, calls)
    text = table(results, rounds, calls)
    print(text)
    if not args.no_write:
        write(text, results)


if __name__ == "__main__":
    main()
