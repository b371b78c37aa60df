"""Trials to detection of a two-command Redis lock under every controlled strategy.

The buggy lock checks then sets (GET, then SET if empty) around a ``racecheck.section``;
the correct one takes ``SET NX PX`` and releases with a compare-and-delete script. For
each strategy (random, pct, dfs, hypothesis): ``--runs`` runs of the buggy lock (seeds
0..runs-1, at most ``--trials`` trials each, n=2) and one run of the correct lock of
``--correct-trials`` trials. Prints a table and writes it into benchmarks/RESULTS.md
(section "Mutual exclusion under controlled strategies"). Needs a real Redis
(RACECHECK_BENCH_REDIS, default redis://127.0.0.1:6379/0); keys carry a unique prefix
and are deleted at the end.

    /work/venv/bin/python benchmarks/bench_mutex_controlled.py [--runs 20] [--trials 10]
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import sys
import time
import uuid
from typing import Any

import racecheck

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tests"))
from verdicts_semantics import locks  # noqa: E402

URL = os.environ.get("RACECHECK_BENCH_REDIS", "redis://127.0.0.1:6379/0")
STRATEGIES = ("random", "pct", "dfs", "hypothesis")
HEADING = "## Mutual exclusion under controlled strategies"
RESULTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "RESULTS.md")


def one_run(r: Any, fn: Any, strategy: str, seed: int, trials: int, key: str) -> racecheck.RunResult:
    return racecheck.run(fn, n=2, trials=trials, strategy=strategy, seed=seed, args=(r, key),
                         setup=lambda: r.delete(key), invariants=[racecheck.mutual_exclusion("job")])


def main() -> None:
    import redis

    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--trials", type=int, default=10)
    ap.add_argument("--correct-trials", type=int, default=200)
    ap.add_argument("--no-write", action="store_true", help="print only; leave RESULTS.md alone")
    args = ap.parse_args()
    r = redis.Redis.from_url(URL, decode_responses=True)
    prefix = f"racecheck_bench_mutex:{uuid.uuid4().hex}:"
    rows = []
    try:
        for strategy in STRATEGIES:
            found: list[int] = []
            walls: list[float] = []
            for seed in range(args.runs):
                t = time.monotonic()
                res = one_run(r, locks.naive, strategy, seed, args.trials, f"{prefix}{strategy}:{seed}")
                walls.append(time.monotonic() - t)
                if res.trials_to_detection is not None:
                    found.append(res.trials_to_detection)
            t = time.monotonic()
            ok = one_run(r, locks.correct, strategy, 0, args.correct_trials, f"{prefix}{strategy}:correct")
            rows.append({
                "strategy": strategy, "detected": len(found), "median": statistics.median(found) if found else None,
                "max": max(found) if found else None, "median_wall": statistics.median(walls),
                "correct_ok": ok.ok, "correct_trials": ok.trials_run, "exhausted": ok.exhausted,
                "correct_wall": time.monotonic() - t,
            })
            print(f"measured {strategy}: {len(found)}/{args.runs}", flush=True)
    finally:
        for k in r.scan_iter(prefix + "*"):
            r.delete(k)
    lines = [f"{'strategy':<11} {'buggy detected':>14} {'median trials':>13} {'max trials':>10} "
             f"{'median wall s':>13}  correct lock"]
    for row in rows:
        correct = (f"no violation in {row['correct_trials']} trials"
                   + (" (schedule space exhausted)" if row["exhausted"] else "")) if row["correct_ok"] else "VIOLATION"
        lines.append(f"{row['strategy']:<11} {str(row['detected']) + '/' + str(args.runs):>14} "
                     f"{row['median'] if row['median'] is not None else '-':>13} "
                     f"{row['max'] if row['max'] is not None else '-':>10} {row['median_wall']:>13.3f}  {correct}")
    table = "\n".join(lines)
    print(table)
    if not args.no_write:
        write_results(table, args)


def write_results(table: str, args: argparse.Namespace) -> None:
    body = (f"{HEADING}\n\nA Redis lock whose check and set are two commands (GET, then SET if empty) "
            f"around `racecheck.section('job')`, n=2: {args.runs} runs per strategy (seeds 0..{args.runs - 1}, "
            f"at most {args.trials} trials each), and the correct lock (SET NX PX, compare-and-delete "
            f"release) for {args.correct_trials} trials. `python benchmarks/bench_mutex_controlled.py`\n\n"
            f"```\n{table}\n```\n")
    text = open(RESULTS, encoding="utf-8").read() if os.path.exists(RESULTS) else ""
    pattern = re.compile(re.escape(HEADING) + r"\n.*?(?=\n## |\Z)", re.S)
    text = pattern.sub(body.rstrip("\n"), text) if pattern.search(text) else text.rstrip("\n") + "\n\n" + body
    with open(RESULTS, "w", encoding="utf-8") as fh:
        fh.write(text if text.endswith("\n") else text + "\n")


if __name__ == "__main__":
    main()
