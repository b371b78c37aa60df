"""Controlled asyncio: what a controlled trial costs next to a stress (free-running) one.

Run alone: ``python benchmarks/bench_async_control.py [--quick] [--write]``. Prints a
markdown table; ``--write`` also puts it into its own section of ``benchmarks/RESULTS.md``
(between marker comments, replacing an older copy). Asserts nothing.

Each trigger is a coroutine with four ``await racecheck.apoint()`` calls and an
``await asyncio.sleep(0)`` after each (in memory), or a Redis GET then SET with a point
before each (``redis.asyncio`` on 127.0.0.1:6379, keys under a unique prefix, deleted
after; the row is skipped when no server answers). Stress runs the N tasks freely on the
loop; random, pct and dfs run them one at a time through the asyncio gate. Every cell
is the median per-trial wall time of 7 runs (a fresh event loop per trial, setup included),
measured side by side in one process, so the ratios are the figure to read.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import platform
import statistics
import sys
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import racecheck  # noqa: E402

POINTS = 4
STRATEGIES = ("stress", "random", "pct", "dfs")
BEGIN, END = "<!-- bench_async_control:begin -->", "<!-- bench_async_control:end -->"
REDIS_URL = "redis://127.0.0.1:6379/0"


async def in_memory(_key: str = "") -> None:
    for i in range(POINTS):
        await racecheck.apoint(f"p{i}")
        await asyncio.sleep(0)


async def redis_get_set(url: str, key: str) -> None:
    import redis.asyncio

    r: Any = redis.asyncio.Redis.from_url(url)
    try:
        await racecheck.apoint("get")
        await r.get(key)
        await racecheck.apoint("set")
        await r.set(key, "x", px=5000)
    finally:
        await r.aclose()


def trial_ms(target: Any, n: int, strategy: str, trials: int, seed: int, args: tuple[Any, ...] = ()) -> float:
    t0 = time.perf_counter()
    res = racecheck.run(target, n=n, trials=trials, mode="asyncio", strategy=strategy, seed=seed,
                        args=args, invariants=[], stop_on_failure=False, timeout=60)
    return (time.perf_counter() - t0) / res.trials_run * 1000


def cells(target: Any, n: int, trials: int, repeats: int, args: tuple[Any, ...] = ()) -> dict[str, float]:
    """Median ms per trial for each strategy; the strategies take turns within each repeat, so a
    burst of load on the machine hits them alike."""
    samples: dict[str, list[float]] = {s: [] for s in STRATEGIES}
    for seed in range(1, repeats + 1):
        for s in STRATEGIES:
            samples[s].append(trial_ms(target, n, s, trials, seed, args))
    return {s: statistics.median(v) for s, v in samples.items()}


def redis_available() -> bool:
    try:
        import redis

        return bool(redis.Redis.from_url(REDIS_URL, socket_timeout=1).ping())
    except Exception:  # noqa: BLE001 - no server: the row is skipped
        return False


def measure(quick: bool) -> list[tuple[str, int, dict[str, float]]]:
    rows: list[tuple[str, int, dict[str, float]]] = []
    repeats = 3 if quick else 7
    for s in STRATEGIES:  # warm up imports and caches so the first cell is not penalised
        trial_ms(in_memory, 2, s, 3, 1)
    for n in (2, 8, 64):
        trials = (5 if quick else 20) if n == 64 else (10 if quick else 50)
        rows.append((f"in memory, {POINTS} apoints per task", n, cells(in_memory, n, trials, repeats)))
        print(f"  measured in-memory n={n}", file=sys.stderr)
    if redis_available():
        import redis

        prefix = f"racecheck-bench-async-{uuid.uuid4().hex}:"
        try:
            for n in (2, 8, 64):
                trials = (3 if quick else 10) if n == 64 else (5 if quick else 20)
                rows.append(("real Redis, GET then SET (redis.asyncio)", n,
                             cells(redis_get_set, n, trials, repeats, (REDIS_URL, prefix + "k"))))
                print(f"  measured redis n={n}", file=sys.stderr)
        finally:
            client = redis.Redis.from_url(REDIS_URL)
            for k in client.scan_iter(match=prefix + "*"):
                client.delete(k)
    return rows


def table(rows: list[tuple[str, int, dict[str, float]]]) -> str:
    head = "| target | N | stress ms/trial | " + " | ".join(
        f"{s} ms/trial (x stress)" for s in STRATEGIES[1:]) + " |"
    lines = [head, "|" + "---|" * (3 + len(STRATEGIES) - 1)]
    for name, n, cells in rows:
        base = cells["stress"]
        lines.append(f"| {name} | {n} | {base:.2f} | " + " | ".join(
            f"{cells[s]:.2f} ({cells[s] / base:.1f}x)" for s in STRATEGIES[1:]) + " |")
    return "\n".join(lines)


def section(rows: list[tuple[str, int, dict[str, float]]], quick: bool, elapsed: float,
            load: tuple[tuple[float, ...], tuple[float, ...]]) -> str:
    la = [", ".join(f"{x:.2f}" for x in triple) for triple in load]
    when = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    return "\n".join([
        BEGIN,
        "## Controlled asyncio: cost of a controlled trial",
        "",
        f"Generated by `python benchmarks/bench_async_control.py{' --quick' if quick else ''} --write` on {when} "
        f"in {elapsed:.0f} s (Python {platform.python_version()}, {platform.machine()}). Median per-trial wall "
        "time of 7 runs (3 with `--quick`), the strategies taking turns within each run; a fresh event "
        "loop per trial. The ratio is to stress in the same row. "
        f"Load average {la[0]} at the start, {la[1]} at the end (other jobs share the machine: read the ratios).",
        "",
        table(rows),
        "",
        "Under control each point is one decision and one future handed to the chosen task, and every "
        "task first waits at `start`; stress runs the tasks freely, so the difference is the price of "
        "choosing the interleaving (and of a schedule that replays). With Redis the reply of a command is "
        "waited for inside the chosen task's turn (an await on the outside world keeps the turn), so the "
        "tasks' round trips are serial under control and overlap under stress.",
        END,
        "",
    ])


def write(text: str) -> None:
    path = ROOT / "benchmarks" / "RESULTS.md"
    old = path.read_text() if path.exists() else ""
    if BEGIN in old and END in old:
        a, b = old.index(BEGIN), old.index(END) + len(END)
        new = old[:a] + text.rstrip("\n") + old[b:]
    else:
        new = old.rstrip("\n") + "\n\n" + text
    path.write_text(new)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    quick = "--quick" in args
    t0, load0 = time.monotonic(), os.getloadavg()
    rows = measure(quick)
    text = section(rows, quick, time.monotonic() - t0, (load0, os.getloadavg()))
    print(table(rows))
    if "--write" in args:
        write(text)
        print("wrote benchmarks/RESULTS.md (section 'Controlled asyncio')")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
