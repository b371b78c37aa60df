"""Backend timings: session-ready and per-trial reset for Postgres and Redis, per provider.

Run: /work/venv/bin/python benchmarks/bench_backends.py [--trials 30] [--cold]

Targets (issue 3): Postgres ready <= 1.5 s, fresh db per trial <= 100 ms,
Redis ready <= 0.3 s, Redis reset <= 5 ms. No assertions: numbers only.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from typing import Any

SCHEMA = """
create table review_run (id serial primary key, session_id text, target_sha text,
                         state text default 'pending', unique (session_id, target_sha));
create table claims (worker text, sha text, primary key (worker, sha));
"""


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 2)


def _median(xs: list[float]) -> float:
    return _ms(statistics.median(xs)) if xs else float("nan")


def _p90(xs: list[float]) -> float:
    return _ms(sorted(xs)[int(len(xs) * 0.9) - 1]) if xs else float("nan")


def bench_postgres(provider: str, trials: int, trial_ms: float, url: str | None = None) -> dict[str, Any]:
    from racecheck.backends import provide_postgres

    t0 = time.perf_counter()
    srv = provide_postgres(providers=[provider], url=url)
    ready = time.perf_counter() - t0
    try:
        t0 = time.perf_counter()
        db = srv.database(SCHEMA)
        first_db = time.perf_counter() - t0
        paced, burst = [], []
        for i in range(trials):
            db.execute("insert into claims values ('w', %s)", (str(i),))
            time.sleep(trial_ms / 1000)  # the trial itself
            t0 = time.perf_counter()
            db.reset()
            paced.append(time.perf_counter() - t0)
        for _ in range(max(5, trials // 3)):
            t0 = time.perf_counter()
            db.reset()
            burst.append(time.perf_counter() - t0)
        ready_resets, clones = [], []
        for _ in range(max(5, trials // 3)):
            for fut in list(srv._pending.values()):  # let the spare clone finish: long trials
                fut.result(timeout=60)
            t0 = time.perf_counter()
            db.reset()
            ready_resets.append(time.perf_counter() - t0)
        for i in range(max(5, trials // 3)):
            name = f"{db.dbname}_bench{i}"
            t0 = time.perf_counter()
            srv._create_db(name, db.template or "")
            clones.append(time.perf_counter() - t0)
            srv._drop_db(name)
        return {
            "provider": provider, "version": srv.version,
            "pg_ready_ms": _ms(ready),
            "pg_first_db_ms": _ms(first_db),
            "pg_reset_median_ms": _median(paced), "pg_reset_p90_ms": _p90(paced),
            "pg_reset_backtoback_median_ms": _median(burst),
            "pg_reset_spare_ready_median_ms": _median(ready_resets),
            "pg_create_database_template_median_ms": _median(clones),
        }
    finally:
        srv.close()


def bench_postgres_cold(provider: str) -> float:
    """Session ready with an empty initdb cache (first run on a machine)."""
    from racecheck.backends import provide_postgres

    old = os.environ.get("RACECHECK_CACHE_DIR")
    with tempfile.TemporaryDirectory(prefix="racecheck-bench-cache-") as d:
        os.environ["RACECHECK_CACHE_DIR"] = d
        try:
            t0 = time.perf_counter()
            srv = provide_postgres(providers=[provider])
            cold = time.perf_counter() - t0
            srv.close()
        finally:
            if old is None:
                os.environ.pop("RACECHECK_CACHE_DIR", None)
            else:
                os.environ["RACECHECK_CACHE_DIR"] = old
    return _ms(cold)


def bench_redis(provider: str, trials: int, url: str | None = None) -> dict[str, Any]:
    from racecheck.backends import provide_redis

    t0 = time.perf_counter()
    srv = provide_redis(providers=[provider], url=url, allow_reset=False)
    ready = time.perf_counter() - t0
    try:
        rdb = srv.database()
        c = rdb.client()
        resets = []
        for i in range(trials * 5):
            c.set(f"k{i}", "v")
            t0 = time.perf_counter()
            rdb.reset()
            resets.append(time.perf_counter() - t0)
        return {"provider": provider, "version": srv.version, "emulated": srv.emulated,
                "redis_ready_ms": _ms(ready), "redis_reset_median_ms": _median(resets),
                "redis_reset_p90_ms": _p90(resets)}
    finally:
        srv.close()


def main(argv: list[str] | None = None) -> dict[str, Any]:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--trials", type=int, default=30)
    ap.add_argument("--trial-ms", type=float, default=50.0, help="simulated trial length between resets")
    ap.add_argument("--cold", action="store_true", help="also time a cold start (empty initdb cache)")
    ap.add_argument("--shared-pg-url", default=os.environ.get("RACECHECK_BENCH_SHARED_PG",
                                                            "postgresql://postgres@127.0.0.1:5432/postgres"))
    a = ap.parse_args(argv)
    out: dict[str, Any] = {"load_avg_1m": round(os.getloadavg()[0], 2)}
    for p in ("local", "embedded"):
        out[f"postgres_{p}"] = bench_postgres(p, a.trials, a.trial_ms)
        out[f"redis_{p}"] = bench_redis(p, a.trials)
        if a.cold:
            out[f"postgres_{p}"]["pg_ready_cold_ms"] = bench_postgres_cold(p)
    try:
        out["postgres_url_shared"] = bench_postgres("url", a.trials, a.trial_ms, url=a.shared_pg_url)
    except Exception as e:  # noqa: BLE001 - the shared server is optional
        out["postgres_url_shared"] = {"error": str(e)}
    out["redis_fakeredis"] = bench_redis("fakeredis", a.trials)
    lp, ep = out["postgres_local"], out["postgres_embedded"]
    lr, er = out["redis_local"], out["redis_embedded"]
    out["ratios_embedded_over_local"] = {
        "pg_ready": round(ep["pg_ready_ms"] / lp["pg_ready_ms"], 2),
        "pg_reset": round(ep["pg_reset_median_ms"] / lp["pg_reset_median_ms"], 2),
        "redis_ready": round(er["redis_ready_ms"] / lr["redis_ready_ms"], 2),
        "redis_reset": round(er["redis_reset_median_ms"] / lr["redis_reset_median_ms"], 2),
    }
    print(f"load average (1 min) at start: {out['load_avg_1m']}")
    for key, val in out.items():
        if isinstance(val, dict):
            print(f"{key}:")
            for k, v in val.items():
                print(f"    {k:<32} {v}")
    out["load_avg_1m_end"] = round(os.getloadavg()[0], 2)
    print(f"load average (1 min) at end: {out['load_avg_1m_end']}")
    return out


if __name__ == "__main__":
    main()
