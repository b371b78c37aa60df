"""Serial against parallel dispatch of pending reviews (incident 004), on real Postgres.

    python benchmarks/bench_dispatch.py [--items 20] [--latency 0.1] [--repeats 3]

``incidents.s004_dispatch.dispatch_pending_fixed`` claims each pending review
(``UPDATE ... WHERE status = 'pending' RETURNING``) and dispatches it; the dispatch (the
HTTP call to the review worker) is made slow by ``DISPATCH_LATENCY``. Serial dispatch
costs about items x latency; parallel dispatch (a pool of ``PARALLELISM`` threads, each
claim on its own connection) about ceil(items / pool) x latency. Every repeat starts from
``items`` pending reviews and checks that each was dispatched exactly once.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scenarios"))


def _measure(m: Any, url: str, items: int, parallel: bool) -> float:
    m.setup(url, pending=items)
    t0 = time.perf_counter()
    done = m.dispatch_pending_fixed(url, parallel=parallel)
    elapsed = time.perf_counter() - t0
    if done != items or m.stuck_reviews(url):
        raise RuntimeError(f"dispatched {done} of {items} reviews; the benchmark's dispatcher is broken")
    return elapsed


def main(argv: list[str] | None = None) -> dict[str, Any]:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--items", type=int, default=20)
    ap.add_argument("--latency", type=float, default=0.1, help="seconds one dispatch takes")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--json", default=str(ROOT / "benchmarks" / "results" / "dispatch.json"))
    args = ap.parse_args(argv)

    from incidents import s004_dispatch as m

    from racecheck.backends import provide_postgres

    server = provide_postgres()
    db = server.database(schema=m.SCHEMA)
    old_latency = m.DISPATCH_LATENCY
    m.DISPATCH_LATENCY = args.latency
    try:
        serial = [_measure(m, db.url, args.items, parallel=False) for _ in range(args.repeats)]
        parallel = [_measure(m, db.url, args.items, parallel=True) for _ in range(args.repeats)]
    finally:
        m.DISPATCH_LATENCY = old_latency
        db.close()
        close = getattr(server, "close", None)
        if callable(close):
            close()
    out = {
        "items": args.items, "latency_s": args.latency, "repeats": args.repeats, "pool": m.PARALLELISM,
        "serial_s": statistics.median(serial), "parallel_s": statistics.median(parallel),
        "serial_all": serial, "parallel_all": parallel,
    }
    out["speedup"] = out["serial_s"] / out["parallel_s"]
    print(f"| dispatch of {args.items} pending reviews ({args.latency * 1000:.0f} ms each) | median of {args.repeats} |")
    print("|---|---|")
    print(f"| serial | {out['serial_s']:.2f} s |")
    print(f"| parallel (pool of {m.PARALLELISM}) | {out['parallel_s']:.2f} s |")
    print(f"| speedup | {out['speedup']:.1f}x |")
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(out, indent=2) + "\n")
    return out


if __name__ == "__main__":
    main()
