"""Drivers: how many trials pct and random need to find each driver's races (``bench_drivers.py``).

The races are those of ``tests/drivers/`` (``tests/drivers/scenarios.py``), written with each
driver as its users would: check-then-insert (check-then-set), lost update (SELECT then UPDATE;
GET then SET) and a claim without a row lock (LINDEX then LREM). Each cell is 20 runs (seeds
0-19) of up to 30 trials at N = 2. Servers come from racecheck's provider chain: a throwaway
PostgreSQL database and an isolated Redis db (keys under a prefix of their own).
"""

from __future__ import annotations

import statistics
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
for p in (ROOT, ROOT / "tests"):
    if str(p) not in sys.path:
        sys.path.insert(0, str(p))

from drivers import scenarios  # noqa: E402  (tests/drivers/scenarios.py)
from drivers.targets import kv, schema  # noqa: E402

SECTION = "## Drivers: detection under controlled strategies (bench_drivers.py)"
STRATEGIES = ("pct", "random")


def _sql_cells(url: str) -> list[tuple[str, str, Callable[..., Any], tuple[Any, ...], Callable[[], None],
                                       list[Any], dict[str, Any]]]:
    from drivers.targets import apg, pg2, pg3

    cells = []
    for driver, mod, mode in (("psycopg", pg3, "threads"), ("psycopg2", pg2, "threads"),
                              ("asyncpg", apg, "asyncio")):
        for case, (target, invariants) in scenarios.buggy(mod).items():
            cells.append((driver, case, target, (url,), schema.reset(url), invariants(url, 2), {"mode": mode}))
    return cells


def _kv_cells(url: str, prefix: str) -> list[tuple[str, str, Callable[..., Any], tuple[Any, ...],
                                                    Callable[[], None], list[Any], dict[str, Any]]]:
    cells = []
    for lib in ("redis", "valkey"):
        for case, (sync, atarget, effect) in scenarios.KV_BUGGY.items():
            inv = scenarios.kv_invariants(effect, url, prefix, 2)
            cells.append((lib, case, sync, (url, prefix, lib), kv.reset(url, prefix), inv, {"mode": "threads"}))
            cells.append((f"{lib}.asyncio", case, atarget, (url, prefix, lib), kv.reset(url, prefix), inv,
                          {"mode": "asyncio"}))
    return cells


def _cell(target: Callable[..., Any], args: tuple[Any, ...], setup: Callable[[], None], invariants: list[Any],
          options: dict[str, Any], strategy: str, seeds: range) -> dict[str, Any]:
    t0 = time.perf_counter()
    needed = scenarios.needed(target, args, setup, invariants, seeds=seeds, strategy=strategy, **options)
    found = [t for t in needed if t is not None]
    return {"needed": needed, "runs": len(needed), "found": len(found), "within_10": scenarios.within(needed, 10),
            "median": statistics.median(found) if found else None, "max": max(found) if found else None,
            "wall_s": time.perf_counter() - t0}


def measure(seeds: range = scenarios.SEEDS) -> list[dict[str, Any]]:
    from racecheck.backends.providers import provide_postgres, provide_redis

    out: list[dict[str, Any]] = []
    pg = provide_postgres()
    rd = provide_redis(require_real=True)
    db = pg.database()
    rdb = rd.database()
    prefix = rdb.key(f"bench-drv-{uuid.uuid4().hex[:8]}:")
    try:
        for driver, case, target, args, setup, invariants, options in (
                _sql_cells(db.url) + _kv_cells(rdb.url, prefix)):
            for strategy in STRATEGIES:
                r = _cell(target, args, setup, invariants, options, strategy, seeds)
                out.append({"driver": driver, "case": case, "mode": options["mode"], "strategy": strategy, **r})
                print(f"{driver:15} {case:28} {strategy:6} {r['needed']}", file=sys.stderr, flush=True)
    finally:
        kv.reset(rdb.url, prefix)()
        from drivers.targets import pg2

        for pool in pg2._pools.values():
            pool.closeall()
        pg2._pools.clear()
        db.close()
        rdb.close()
        pg.close()
        rd.close()
    return out


def table(rows: list[dict[str, Any]]) -> str:
    runs = rows[0]["runs"] if rows else 0
    lines = [
        SECTION, "",
        f"`python benchmarks/bench_drivers.py --only detection`: each cell is {runs} runs (seeds 0-{runs - 1}) of "
        "up to 30 trials at N = 2 on the races of `tests/drivers/` written with that driver "
        "(`tests/drivers/scenarios.py`); it gives how many runs found the violation, how many within 10 "
        "trials, and the median / worst trials-to-find. Own PostgreSQL database and Redis db from the "
        "provider chain; the machine was shared with other jobs (asyncio cells over Postgres can vary when "
        "a row lock held by a parked task outlasts the gate's grace period).", "",
        "| driver | mode | case | pct: found / within 10 | pct: median / worst | random: found / within 10 "
        "| random: median / worst |",
        "|---|---|---|---|---|---|---|",
    ]
    by_key: dict[tuple[str, str], dict[str, dict[str, Any]]] = {}
    for r in rows:
        by_key.setdefault((r["driver"], r["case"]), {})[r["strategy"]] = r
    for (driver, case), cells in by_key.items():
        parts = []
        for strategy in STRATEGIES:
            c = cells.get(strategy)
            if c is None:
                parts += ["not run", ""]
                continue
            parts += [f"{c['found']}/{c['runs']} / {c['within_10']}/{c['runs']}",
                      f"{c['median'] if c['median'] is not None else '—'} / {c['max'] if c['max'] is not None else '—'}"]
        mode = next(iter(cells.values()))["mode"]
        lines.append(f"| {driver} | {mode} | {case} | " + " | ".join(parts) + " |")
    return "\n".join(lines) + "\n"
