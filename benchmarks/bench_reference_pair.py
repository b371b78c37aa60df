"""The issue's reference measurement: how fast each strategy catches the check-then-insert dispatcher.

A dispatcher asks "is there a run for this key?", spawns a reviewer, then inserts the run,
over shared in-memory state, raced by 8 threads. For each strategy: 20 runs of 50 trials;
prints the detection rate (runs that caught the double spawn) and the median number of
trials to detection. Its lock-protected twin is run too (must never fail).

    /work/venv/bin/python benchmarks/bench_reference_pair.py
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import threading
import time
from typing import Any

import racecheck

RUNS: dict[str, int] = {}
SPAWNED: list[str] = []
LOCK = threading.Lock()


def reset() -> None:
    RUNS.clear()
    SPAWNED.clear()


def spawn_reviewer(key: str) -> int:
    SPAWNED.append(key)
    return len(SPAWNED)


def dispatch(key: str = "w1,sha1") -> str:
    if RUNS.get(key) is not None:
        return "existing"
    RUNS[key] = spawn_reviewer(key)
    return "created"


def dispatch_locked(key: str = "w1,sha1") -> str:
    with LOCK:
        return dispatch(key)


def measure(target: Any, strategy: str, runs: int = 20, trials: int = 50, n: int = 8) -> dict[str, Any]:
    found: list[int] = []
    t0 = time.monotonic()
    for r in range(runs):
        res = racecheck.run(target, n=n, trials=trials, strategy=strategy, seed=1 + r, setup=reset,
                            spies=[racecheck.spy(f"{__name__}:spawn_reviewer", key="key")],
                            invariants=[racecheck.exactly_once("spawn_reviewer")], timeout=10)
        if res.trials_to_detection is not None:
            found.append(res.trials_to_detection)
    return {
        "strategy": strategy,
        "target": target.__name__,
        "n": n,
        "runs": runs,
        "trials_per_run": trials,
        "detected_runs": len(found),
        "detection_rate": len(found) / runs,
        "median_trials_to_detection": statistics.median(found) if found else None,
        "max_trials_to_detection": max(found) if found else None,
        "wall_s": round(time.monotonic() - t0, 2),
    }


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    rows = [measure(dispatch, s) for s in ("stress", "random", "pct", "dfs")]
    rows.append(measure(dispatch_locked, "stress", runs=1, trials=500))
    print(f"{'target':<16}{'strategy':<10}{'detected':>10}{'rate':>7}{'median':>8}{'max':>6}{'wall s':>8}")
    for r in rows:
        med = "-" if r["median_trials_to_detection"] is None else f"{r['median_trials_to_detection']:g}"
        mx = "-" if r["max_trials_to_detection"] is None else str(r["max_trials_to_detection"])
        print(f"{r['target']:<16}{r['strategy']:<10}{r['detected_runs']:>5}/{r['runs']:<4}{r['detection_rate']:>7.0%}"
              f"{med:>8}{mx:>6}{r['wall_s']:>8}")
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results", "reference_pair.json")
    os.makedirs(os.path.dirname(out), exist_ok=True)
    with open(out, "w") as fh:
        json.dump(rows, fh, indent=2)
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
