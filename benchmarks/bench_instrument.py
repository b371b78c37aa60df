"""Overhead of ``instrument=[module]``: per-line points in a worker, against the same work uninstrumented.

One worker (N=1) runs ``instrument_work.work(ITER)`` (two lines per iteration: the loop
and ``acc.total += i``, whose store is a point too), under ``stress`` (points recorded, no
scheduler) and under ``random`` (every point a scheduling decision), instrumented or not.

Run alone: ``python benchmarks/bench_instrument.py [--quick]``.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import racecheck  # noqa: E402
from benchmarks.targets import instrument_work  # noqa: E402

MODULE = "benchmarks.targets.instrument_work"


def once(iterations: int, strategy: str, instrument: bool) -> tuple[float, int]:
    t0 = time.perf_counter()
    res = racecheck.run(instrument_work.work, n=1, trials=1, strategy=strategy, seed=1, args=(iterations,),
                        instrument=[MODULE] if instrument else [], timeout=300)
    wall = time.perf_counter() - t0
    return wall, len(res.trials[0].history)


def main(argv: list[str]) -> int:
    iterations = 2_000 if "--quick" in argv else 20_000
    t0 = time.perf_counter()
    instrument_work.work(iterations)
    bare = time.perf_counter() - t0
    print(f"iterations: {iterations}; bare call (no racecheck): {bare * 1e3:.2f} ms")
    print("| strategy | instrumented | wall | history events | per instrumented line |")
    print("|---|---|---|---|---|")
    for strategy in ("stress", "random"):
        base, _ = once(iterations, strategy, False)
        wall, events = once(iterations, strategy, True)
        lines = 3 * iterations  # loop line, the += line and its store point
        print(f"| {strategy} | no | {base * 1e3:.1f} ms | — | — |")
        print(f"| {strategy} | yes | {wall * 1e3:.1f} ms | {events} | {(wall - base) / lines * 1e6:.1f} µs |")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
