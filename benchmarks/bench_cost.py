"""Cost: trials per second at N = 8 on four backends, per-point instrumentation overhead, backend start/reset.

Run alone: ``python benchmarks/bench_cost.py [--quick]``.
"""

from __future__ import annotations

import contextlib
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import racecheck  # noqa: E402
from benchmarks.targets import dedup, dispatcher, infra  # noqa: E402
from benchmarks.targets.stats import fmt, median  # noqa: E402

N = 8


def barrier_loop(fn: Callable[[int], Any], n: int, trials: int, setup: Callable[[], None]) -> float:
    """Trials per second of the bare hand-written loop: n threads behind a barrier, join."""
    t0 = time.perf_counter()
    for _ in range(trials):
        setup()
        gate = threading.Barrier(n)

        def body(i: int, gate: threading.Barrier = gate) -> None:
            gate.wait()
            fn(i)

        threads = [threading.Thread(target=body, args=(i,)) for i in range(n)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    return trials / (time.perf_counter() - t0)


def rc_rate(fn: Callable[..., Any], trials: int, setup: Callable[[], None], strategy: str, n: int = N,
            **kw: Any) -> dict[str, Any]:
    t0 = time.perf_counter()
    try:
        r = racecheck.run(fn, n=n, trials=trials, strategy=strategy, seed=3, setup=setup,
                          worker_args=lambda i: (i,), stop_on_failure=False, timeout=30, **kw)
    except Exception as exc:  # noqa: BLE001 - recorded
        return {"error": f"{type(exc).__name__}: {exc}"}
    wall = time.perf_counter() - t0
    return {"trials": r.trials_run, "trials_per_s": r.trials_run / wall, "violating_trials": len(r.failing)}


@contextlib.contextmanager
def _memory() -> Iterator[tuple[Callable[..., Any], Callable[[], None], str]]:
    yield dedup.claim_memory, dedup.reset_memory, "in-process dict + lock"


@contextlib.contextmanager
def _fakeredis() -> Iterator[tuple[Callable[..., Any], Callable[[], None], str]]:
    import fakeredis

    server = fakeredis.FakeServer()
    clients = [fakeredis.FakeRedis(server=server) for _ in range(N)]
    dedup.configure_redis(clients)

    def reset() -> None:
        clients[0].flushall()
        dedup.SPAWNED.clear()

    yield dedup.claim_redis, reset, f"fakeredis {getattr(fakeredis, '__version__', '?')}, SET NX EX"


@contextlib.contextmanager
def _redis() -> Iterator[tuple[Callable[..., Any], Callable[[], None], str]]:
    import redis as redis_py

    with infra.redis() as be:
        clients = [redis_py.Redis.from_url(be.url) for _ in range(N)]
        dedup.configure_redis(clients)

        def reset() -> None:
            be.reset()
            dedup.SPAWNED.clear()

        try:
            yield dedup.claim_redis, reset, f"redis-server ({be.provider}), SET NX EX"
        finally:
            for c in clients:
                c.close()


@contextlib.contextmanager
def _postgres() -> Iterator[tuple[Callable[..., Any], Callable[[], None], str]]:
    with infra.postgres(dispatcher.SCHEMA, dispatcher.TABLES) as pg:
        dispatcher.configure(pg.url, N)

        def reset() -> None:
            pg.reset()
            dispatcher.clear()

        try:
            yield dispatcher.dispatch_unique, reset, f"Postgres ({pg.provider}), unique index + ON CONFLICT"
        finally:
            dispatcher.close()


BACKENDS = {"memory": _memory, "fakeredis": _fakeredis, "redis": _redis, "postgres": _postgres}


def trial_rates(trials: int, log: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, make in BACKENDS.items():
        try:
            with make() as (fn, setup, desc):
                row: dict[str, Any] = {"desc": desc}
                row["barrier_loop_trials_per_s"] = barrier_loop(fn, N, trials, setup)
                for s in ("stress", "random", "pct"):
                    row[s] = rc_rate(fn, trials, setup, s)
                out[name] = row
        except Exception as exc:  # noqa: BLE001 - a backend that cannot start is reported
            out[name] = {"error": f"{type(exc).__name__}: {exc}"}
        log(f"  trials/s {name}: {out[name]}")
    return out


def point_overhead(log: Any) -> dict[str, Any]:
    """ns per racecheck.point: outside a run, inside a run with noise off, with stress noise, under a controller."""
    count = 20000
    res: dict[str, Any] = {}
    t0 = time.perf_counter_ns()
    dedup.points(0, count)
    res["outside a run (no-op)"] = (time.perf_counter_ns() - t0) / count

    def timed(label: str, n: int, per: int, **kw: Any) -> None:
        starts: list[int] = []
        ends: list[int] = []

        def target(worker: int) -> None:
            starts.append(time.perf_counter_ns())
            dedup.points(worker, per)
            ends.append(time.perf_counter_ns())

        try:
            racecheck.run(target, n=n, trials=1, seed=1, worker_args=lambda i: (i,), timeout=120, **kw)
            res[label] = (max(ends) - min(starts)) / (per * n)
        except Exception as exc:  # noqa: BLE001 - recorded
            res[label] = f"{type(exc).__name__}: {exc}"

    timed("in a run, stress, noise=0 (record only)", 1, count, strategy="stress", noise=0.0)
    timed("in a run, stress, default noise 0.5 (record + maybe yield)", 1, count, strategy="stress")
    timed("in a run, random (controlled), N=2", 2, 2000, strategy="random")
    timed("in a run, pct (controlled), N=2", 2, 2000, strategy="pct")
    log(f"  point overhead ns: {res}")
    return res


def statement_overhead(log: Any) -> dict[str, Any]:
    """µs per psycopg statement and per redis command, outside a run vs inside one (drivers on)."""
    import psycopg
    import redis as redis_py

    res: dict[str, Any] = {}
    count = 400

    def measure(label: str, call: Callable[[], Any]) -> None:
        t0 = time.perf_counter_ns()
        for _ in range(count):
            call()
        outside = (time.perf_counter_ns() - t0) / count
        inside: list[float] = []

        def target() -> None:
            t = time.perf_counter_ns()
            for _ in range(count):
                call()
            inside.append((time.perf_counter_ns() - t) / count)

        try:
            racecheck.run(target, n=1, trials=1, seed=1, noise=0.0, timeout=120)
            res[label] = {"outside_ns": outside, "inside_ns": inside[0], "overhead_ns": inside[0] - outside}
        except Exception as exc:  # noqa: BLE001
            res[label] = {"error": f"{type(exc).__name__}: {exc}"}

    with infra.postgres(dispatcher.SCHEMA, dispatcher.TABLES) as pg:
        conn = psycopg.connect(pg.url, autocommit=True)
        measure("psycopg SELECT 1", lambda: conn.execute("SELECT 1").fetchone())
        conn.close()
    with infra.redis() as be:
        client = redis_py.Redis.from_url(be.url)
        measure("redis-py PING", client.ping)
        client.close()
    log(f"  statement overhead: {res}")
    return res


def backend_costs(log: Any, repeats: int) -> dict[str, Any]:
    res: dict[str, Any] = {}
    starts: list[float] = []
    resets: list[float] = []
    provider = ""
    for _ in range(3):
        with infra.postgres(dispatcher.SCHEMA, dispatcher.TABLES) as pg:
            starts.append(pg.start_s)
            provider = pg.provider
            for _ in range(repeats):
                t0 = time.perf_counter()
                pg.reset()
                resets.append(time.perf_counter() - t0)
            trunc: list[float] = []
            import psycopg

            with psycopg.connect(pg.url, autocommit=True) as conn:
                row = conn.execute("SHOW server_version").fetchone()
                res["postgres_version"] = str(row[0]) if row else "?"
                for _ in range(repeats):
                    t0 = time.perf_counter()
                    conn.execute("TRUNCATE " + ", ".join(dispatcher.TABLES) + " RESTART IDENTITY")
                    trunc.append(time.perf_counter() - t0)
            res["postgres TRUNCATE"] = {"median_s": median(trunc), "samples": len(trunc)}
            handle = pg.extra.get("handle")
            if handle is not None and hasattr(handle, "reset"):
                clone: list[float] = []
                for _ in range(2):
                    t0 = time.perf_counter()
                    handle.reset()
                    clone.append(time.perf_counter() - t0)
                res["postgres handle.reset() (template clone)"] = {"median_s": median(clone), "samples": len(clone)}
    res["postgres"] = {"provider": provider, "start_median_s": median(starts), "start_samples": len(starts),
                       "reset": "DELETE FROM runs; DELETE FROM runs_u", "reset_median_s": median(resets),
                       "reset_samples": len(resets)}
    starts, resets = [], []
    for _ in range(3):
        with infra.redis() as be:
            starts.append(be.start_s)
            provider = be.provider
            for _ in range(repeats):
                t0 = time.perf_counter()
                be.reset()
                resets.append(time.perf_counter() - t0)
    res["redis"] = {"provider": provider, "start_median_s": median(starts), "start_samples": len(starts),
                    "reset": "FLUSHALL", "reset_median_s": median(resets), "reset_samples": len(resets)}
    import fakeredis

    t0 = time.perf_counter()
    fr = fakeredis.FakeRedis(server=fakeredis.FakeServer())
    fr.ping()
    fstart = time.perf_counter() - t0
    fres = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fr.flushall()
        fres.append(time.perf_counter() - t0)
    res["fakeredis"] = {"provider": "in-process", "start_median_s": fstart, "start_samples": 1, "reset": "FLUSHALL",
                        "reset_median_s": median(fres), "reset_samples": len(fres)}
    res["servers"] = dict(infra.SERVER_STARTS)
    status = infra.docker_status()
    res["testcontainers"] = {"docker": status}
    if status == "ok":
        try:
            from testcontainers.postgres import PostgresContainer

            t0 = time.perf_counter()
            with PostgresContainer("postgres:16-alpine") as c:
                c.get_connection_url()
                res["testcontainers"]["postgres_start_s"] = time.perf_counter() - t0
        except Exception as exc:  # noqa: BLE001
            res["testcontainers"]["error"] = f"{type(exc).__name__}: {exc}"
    log(f"  backend costs: {res}")
    return res


def run(quick: bool = False, log: Any = print) -> dict[str, Any]:
    trials = 30 if quick else 200
    return {"n": N, "trials": trials, "trial_rates": trial_rates(trials, log), "points": point_overhead(log),
            "statements": statement_overhead(log), "backends": backend_costs(log, 10 if quick else 50)}


def markdown(res: dict[str, Any]) -> str:
    lines = [f"Trials per second, N = {res['n']} triggers, {res['trials']} trials each, one correct "
             "claim-then-spawn target per backend (no violations expected). *barrier loop* is the bare "
             "hand-written loop (threads behind a barrier, join) on the same target: the ratio is what "
             "racecheck's harness costs on top.", "",
             "| backend | target | barrier loop | racecheck stress | random | pct | stress ÷ barrier loop |",
             "|---|---|---|---|---|---|---|"]
    for name, row in res["trial_rates"].items():
        if "error" in row:
            lines.append(f"| {name} | error: {row['error']} | | | | | |")
            continue
        cells = []
        for s in ("stress", "random", "pct"):
            v = row[s]
            cells.append(f"error: {v['error']}" if "error" in v else
                         f"{v['trials_per_s']:.0f}/s" + (f" ({v['violating_trials']} violating!)" if v["violating_trials"] else ""))
        st = row["stress"].get("trials_per_s")
        ratio = f"{st / row['barrier_loop_trials_per_s']:.2f}" if st else "—"
        lines.append(f"| {name} | {row['desc']} | {row['barrier_loop_trials_per_s']:.0f}/s | " + " | ".join(cells)
                     + f" | {ratio} |")
    lines += ["", "Per-point instrumentation cost (`racecheck.point`), ns per call:", "", "| where | ns/point |", "|---|---|"]
    for k, v in res["points"].items():
        lines.append(f"| {k} | {v:.0f} |" if isinstance(v, float) else f"| {k} | {v} |")
    lines += ["", "Per-statement cost of the drivers (a statement/command becomes a point + an event), µs per call:", "",
              "| call | outside a run | inside a run | overhead |", "|---|---|---|---|"]
    for k, v in res["statements"].items():
        if "error" in v:
            lines.append(f"| {k} | error: {v['error']} | | |")
        else:
            flag = " (negative: below this run's noise; one sample of each under load)" if v["overhead_ns"] < 0 else ""
            lines.append(f"| {k} | {v['outside_ns'] / 1000:.1f} µs | {v['inside_ns'] / 1000:.1f} µs | "
                         f"{v['overhead_ns'] / 1000:.1f} µs{flag} |")
    b = res["backends"]
    lines += ["", "Backend start and per-trial reset (medians). *start* is a fresh database (Postgres: cloned from a "
              "template holding the schema; own fallback: CREATE DATABASE + schema) or db index (Redis) on a running "
              "server; the server's own start is listed separately.", "",
              "| backend | provider | start | reset | reset how |", "|---|---|---|---|---|"]
    for kind, v in b.get("servers", {}).items():
        lines.append(f"| {kind} server | racecheck.backends ({v['provider']}) | {fmt(v['start_s'], 'ms')} (n=1, "
                     "first provide_*() of the run) | | |")
    for k in ("postgres", "redis", "fakeredis"):
        v = b[k]
        lines.append(f"| {k} | {v['provider']} | {fmt(v['start_median_s'], 'ms')} (n={v['start_samples']}) | "
                     f"{fmt(v['reset_median_s'], 'ms')} (n={v['reset_samples']}) | {v['reset']} |")
    if "postgres TRUNCATE" in b:
        v = b["postgres TRUNCATE"]
        lines.append(f"| postgres | (same) | | {fmt(v['median_s'], 'ms')} (n={v['samples']}) | "
                     "TRUNCATE runs, runs_u RESTART IDENTITY (the alternative reset) |")
    if "postgres handle.reset() (template clone)" in b:
        v = b["postgres handle.reset() (template clone)"]
        lines.append(f"| postgres | racecheck.backends | | {fmt(v['median_s'], 'ms')} (n={v['samples']}) | "
                     "PostgresDB.reset(): re-clone from template |")
    tc = b["testcontainers"]
    if tc["docker"] == "ok":
        lines.append(f"| postgres | testcontainers | {fmt(tc.get('postgres_start_s'), 'ms')} | | "
                     f"{tc.get('error', '')} |")
    else:
        lines += ["", f"testcontainers: not measured — no Docker engine on this machine (`docker info`: {tc['docker']})."]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    argv = sys.argv[1:] if argv is None else argv
    res = run(quick="--quick" in argv)
    print(markdown(res))
    return res


if __name__ == "__main__":
    main()
