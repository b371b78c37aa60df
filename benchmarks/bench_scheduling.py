"""Trials and wall time to first detection of the check-then-act dispatcher on real Postgres.

The dispatcher SELECTs for an existing run, spawns, then INSERTs, with no unique
constraint. For N = 2, 4, 8 and strategies stress, random and pct: 20 runs each (seeds
1..20, up to 200 trials per run); prints a table and writes
benchmarks/results/scheduling.json. Needs a Postgres it may create a database on
(RACECHECK_BENCH_PG, default postgresql://postgres@127.0.0.1:5432/postgres); the
database is created with a racecheck_bench_ prefix and dropped at the end.

    /work/venv/bin/python benchmarks/bench_scheduling.py [--runs 20] [--trials 200]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
import uuid
from typing import Any

import racecheck

ADMIN_URL = os.environ.get("RACECHECK_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
URL = ""


def dispatch(worker_id: str = "w1", sha: str = "abc") -> str:
    import psycopg

    with psycopg.connect(URL, autocommit=True) as conn:
        row = conn.execute("SELECT run_id FROM runs WHERE worker_id = %s AND sha = %s", (worker_id, sha)).fetchone()
        if row is not None:
            return "existing"
        racecheck.effect("spawn", key=(worker_id, sha))
        conn.execute("INSERT INTO runs (worker_id, sha) VALUES (%s, %s)", (worker_id, sha))
    return "created"


def reset() -> None:
    import psycopg

    with psycopg.connect(URL, autocommit=True) as conn:
        conn.execute("TRUNCATE runs")


def measure(n: int, strategy: str, runs: int, trials: int) -> dict[str, Any]:
    found: list[int] = []
    walls: list[float] = []
    for r in range(runs):
        t0 = time.monotonic()
        res = racecheck.run(dispatch, n=n, trials=trials, strategy=strategy, seed=1 + r, setup=reset,
                            invariants=[racecheck.exactly_once("spawn")], timeout=20)
        if res.trials_to_detection is not None:
            found.append(res.trials_to_detection)
            walls.append(time.monotonic() - t0)
    return {
        "n": n, "strategy": strategy, "runs": runs, "max_trials": trials,
        "detected_runs": len(found),
        "median_trials": statistics.median(found) if found else None,
        "max_trials_seen": max(found) if found else None,
        "median_wall_s": round(statistics.median(walls), 3) if walls else None,
        "max_wall_s": round(max(walls), 3) if walls else None,
    }


def main(argv: list[str] | None = None) -> int:
    global URL
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--trials", type=int, default=200)
    ap.add_argument("--n", type=int, nargs="*", default=[2, 4, 8])
    ap.add_argument("--strategies", nargs="*", default=["stress", "random", "pct"])
    args = ap.parse_args(argv)
    import psycopg

    name = f"racecheck_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    URL = ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    rows = []
    try:
        with psycopg.connect(URL, autocommit=True) as conn:
            conn.execute("CREATE TABLE runs (worker_id text, sha text, run_id serial)")
        for n in args.n:
            for strategy in args.strategies:
                row = measure(n, strategy, args.runs, args.trials)
                rows.append(row)
                print(f"  measured n={n} {strategy}: {row['detected_runs']}/{row['runs']}", flush=True)
    finally:
        with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    print(f"{'N':>3}  {'strategy':<9}{'detected':>10}{'median trials':>15}{'max trials':>12}"
          f"{'median wall s':>15}{'max wall s':>12}")
    for r in rows:
        def f(v: Any) -> str:
            return "-" if v is None else f"{v:g}"
        print(f"{r['n']:>3}  {r['strategy']:<9}{r['detected_runs']:>6}/{r['runs']:<3}{f(r['median_trials']):>15}"
              f"{f(r['max_trials_seen']):>12}{f(r['median_wall_s']):>15}{f(r['max_wall_s']):>12}")
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results", "scheduling.json")
    os.makedirs(os.path.dirname(out), exist_ok=True)
    with open(out, "w") as fh:
        json.dump({"benchmark": "check-then-act dispatcher on Postgres", "rows": rows}, fh, indent=2)
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
