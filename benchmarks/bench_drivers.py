"""Drivers: what instrumentation costs per statement/command, and how fast each driver's races are found.

For each driver, in one process and one sitting: the same trivial call (``SELECT 1`` /
``GET``) on a connection the driver made,

- *plain*: the driver's own method, racecheck's wrapper bypassed (psycopg2: a connection
  from the unpatched ``connect``);
- *outside a run*: the instrumented call made by a caller that is not a worker: the
  pass-through every call outside a run takes (plus one check, as a run is active);
- *inside a run*: as a racecheck worker (stress, noise 0: no scheduling, the hook itself:
  point, event, fault matching).

The three calls alternate one by one, inside one run on one connection; the median of
each is reported, with ratios to *plain*, so server and machine noise hit all three alike.
Uses 127.0.0.1:5432 (``SELECT 1`` on the ``postgres`` database) and Redis 6379 (``GET`` of
a key that does not exist): it reads nothing and writes nothing.

*Detection* (``bench_drivers_detection.py``): for each driver, each race of
``tests/drivers/`` (check-then-insert, lost update, a claim without a lock) under pct and
random, 20 runs (seeds 0-19) of up to 30 trials: how many found it, how many within 10
trials, the median and the worst trials-to-find. It runs on servers of its own (racecheck's
provider chain: a throwaway database, an isolated Redis db).

Writes sections of benchmarks/RESULTS.md and benchmarks/results/drivers.json
(drivers_detection.json).

``python benchmarks/bench_drivers.py [--quick] [--no-write] [--only overhead|detection]``
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import racecheck  # noqa: E402
from racecheck import _runtime  # noqa: E402

PG = "postgresql://postgres@127.0.0.1:5432/postgres"
REDIS = "redis://127.0.0.1:6379/0"
KEY = "racecheck:bench-drivers:absent"
SECTION = "## Drivers: per-statement overhead (bench_drivers.py)"

Sync = Callable[[], Any]
Async = Callable[[], Awaitable[Any]]


# -- the calls, per driver: (plain call, instrumented call, close) ------------------------------
# *plain* calls the driver's original method (``__wrapped__`` of racecheck's wrapper; psycopg2:
# a cursor of a connection from the unpatched ``connect``) on the same kind of connection.
def _psycopg() -> tuple[Sync, Sync, Sync]:
    import psycopg

    conn = psycopg.connect(PG, autocommit=True)
    cur = conn.cursor()
    original = psycopg.Cursor.execute.__wrapped__  # type: ignore[attr-defined]
    return (lambda: original(cur, "SELECT 1")), (lambda: cur.execute("SELECT 1")), conn.close


def _psycopg2() -> tuple[Sync, Sync, Sync]:
    import psycopg2

    plain = psycopg2.connect.__wrapped__(PG)  # type: ignore[attr-defined]
    conn = psycopg2.connect(PG)
    plain.autocommit = conn.autocommit = True
    pcur, cur = plain.cursor(), conn.cursor()

    def close() -> None:
        plain.close()
        conn.close()

    return (lambda: pcur.execute("SELECT 1")), (lambda: cur.execute("SELECT 1")), close


def _kv(cls: Any) -> tuple[Sync, Sync, Sync]:
    c = cls.from_url(REDIS)
    original = cls.execute_command.__wrapped__
    return (lambda: original(c, "GET", KEY)), (lambda: c.execute_command("GET", KEY)), c.close


def _redis() -> tuple[Sync, Sync, Sync]:
    import redis

    return _kv(redis.Redis)


def _valkey() -> tuple[Sync, Sync, Sync]:
    import valkey

    return _kv(valkey.Valkey)


async def _asyncpg() -> tuple[Async, Async, Async]:
    import asyncpg

    conn = await asyncpg.connect(PG)
    original = asyncpg.connection.Connection.execute.__wrapped__  # type: ignore[attr-defined]
    return (lambda: original(conn, "SELECT 1")), (lambda: conn.execute("SELECT 1")), conn.close


async def _akv(cls: Any) -> tuple[Async, Async, Async]:
    c = cls.from_url(REDIS)
    original = cls.execute_command.__wrapped__
    return (lambda: original(c, "GET", KEY)), (lambda: c.execute_command("GET", KEY)), c.aclose


async def _aredis() -> tuple[Async, Async, Async]:
    import redis.asyncio

    return await _akv(redis.asyncio.Redis)


async def _avalkey() -> tuple[Async, Async, Async]:
    import valkey.asyncio

    return await _akv(valkey.asyncio.Valkey)


SYNC: dict[str, tuple[str, str, Callable[[], tuple[Sync, Sync, Sync]]]] = {
    "psycopg": ("psycopg", "psycopg 3 SELECT 1", _psycopg),
    "psycopg2": ("psycopg2", "psycopg2 SELECT 1", _psycopg2),
    "redis": ("redis", "redis-py GET", _redis),
    "valkey": ("valkey", "valkey-py GET", _valkey),
}
ASYNC: dict[str, tuple[str, str, Callable[[], Awaitable[tuple[Async, Async, Async]]]]] = {
    "asyncpg": ("asyncpg", "asyncpg SELECT 1", _asyncpg),
    "redis.asyncio": ("redis", "redis.asyncio GET", _aredis),
    "valkey.asyncio": ("valkey", "valkey.asyncio GET", _avalkey),
}


# -- measuring: inside one run, a plain call, a call as nobody and a call as the worker in turn ---
def _as_nobody() -> Callable[[], None]:
    token = _runtime.set_worker(None)
    prev = _runtime._PROCESS_WORKER
    _runtime.set_process_worker(None)

    def restore() -> None:
        _runtime._worker.reset(token)
        _runtime.set_process_worker(prev)

    return restore


def _medians(samples: dict[str, list[int]]) -> dict[str, float]:
    return {k: float(statistics.median(v)) for k, v in samples.items()}


def _sync_one(driver: str, make: Callable[[], tuple[Sync, Sync, Sync]], calls: int) -> dict[str, float]:
    samples: dict[str, list[int]] = {"plain": [], "outside": [], "inside": []}
    clock = time.perf_counter_ns

    def target() -> None:
        plain, call, close = make()
        try:
            for _ in range(calls):  # one call of each in turn: load bursts hit all three alike
                t0 = clock()
                plain()
                samples["plain"].append(clock() - t0)
                restore = _as_nobody()
                t0 = clock()
                call()
                samples["outside"].append(clock() - t0)
                restore()
                t0 = clock()
                call()
                samples["inside"].append(clock() - t0)
        finally:
            close()

    racecheck.run(target, n=1, trials=1, noise=0.0, invariants=[], drivers=(driver,)).assert_ok()
    return _medians(samples)


def _async_one(driver: str, make: Callable[[], Awaitable[tuple[Async, Async, Async]]],
               calls: int) -> dict[str, float]:
    samples: dict[str, list[int]] = {"plain": [], "outside": [], "inside": []}
    clock = time.perf_counter_ns

    async def target() -> None:
        plain, call, close = await make()
        try:
            for _ in range(calls):
                t0 = clock()
                await plain()
                samples["plain"].append(clock() - t0)
                restore = _as_nobody()
                t0 = clock()
                await call()
                samples["outside"].append(clock() - t0)
                restore()
                t0 = clock()
                await call()
                samples["inside"].append(clock() - t0)
        finally:
            await close()

    racecheck.run(target, n=1, trials=1, mode="asyncio", noise=0.0, invariants=[],
                  drivers=(driver,)).assert_ok()
    return _medians(samples)


def measure(calls: int) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for key, (driver, label, make) in SYNC.items():
        out[key] = {"call": label, **_sync_one(driver, make, calls)}
    for key, (driver, label, amake) in ASYNC.items():
        out[key] = {"call": label, **_async_one(driver, amake, calls)}
    for r in out.values():
        r["outside_ratio"] = r["outside"] / r["plain"]
        r["inside_ratio"] = r["inside"] / r["plain"]
    return out


def table(results: dict[str, dict[str, Any]], calls: int) -> str:
    lines = [
        SECTION, "",
        f"`python benchmarks/bench_drivers.py` (median of {calls} calls per cell; the three calls of a "
        "row alternate one by one on one connection inside one run, so server and machine noise hit "
        "them alike). *plain*: the driver's own method (racecheck's wrapper "
        "bypassed; psycopg2: a connection from the unpatched `connect`); *outside a run*: the "
        "instrumented call when the caller is not a worker, the pass-through every call outside a "
        "run takes (plus one check: a run is active); *inside a run*: as a worker (stress, noise 0: "
        "point + event + fault matching, no scheduling). Postgres 127.0.0.1:5432, Redis "
        "127.0.0.1:6379, both local; the machine was shared with other jobs.", "",
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


def write(section: str, text: str, results: Any, json_name: str) -> None:
    md = ROOT / "benchmarks" / "RESULTS.md"
    body = md.read_text() if md.exists() else ""
    pattern = re.compile(re.escape(section) + r".*?(?=^## |\Z)", re.S | re.M)
    body = pattern.sub(lambda _m: text + "\n", body) if pattern.search(body) else body.rstrip() + "\n\n" + text
    md.write_text(body)
    out = ROOT / "benchmarks" / "results" / json_name
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="300 calls per cell; detection: 5 seeds")
    ap.add_argument("--calls", type=int, default=5000)
    ap.add_argument("--only", choices=["overhead", "detection"], default=None)
    ap.add_argument("--no-write", action="store_true", help="print only")
    args = ap.parse_args(argv)
    if args.only != "detection":
        calls = 300 if args.quick else args.calls
        results = measure(calls)
        text = table(results, calls)
        print(text)
        if not args.no_write:
            write(SECTION, text, results, "drivers.json")
    if args.only != "overhead":
        from benchmarks import bench_drivers_detection as detection

        found = detection.measure(seeds=range(5) if args.quick else range(20))
        text = detection.table(found)
        print(text)
        if not args.no_write:
            write(detection.SECTION, text, found, "drivers_detection.json")


if __name__ == "__main__":
    main()
