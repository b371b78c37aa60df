"""Postgres per-trial reset: re-clone from the template against the fast path (pg_reset), in one run.

- *reset, back to back*: ``PostgresDB.reset()`` after a trial-sized write (8 rows, two
  sequences advanced), the re-clone and the fast path in turn (A B A B ...), medians;
- *trials per second, N = 8, stress*: the dispatcher target (unique index + ON CONFLICT)
  with ``db.reset()`` as the setup of every trial. The fast path keeps the target's idle
  pooled connections; the re-clone terminates them, so that arm reconnects its pool after
  each reset (what a target must do against it). The same interleaving and medians.
- the floor, in the same rounds: the same eight statements from eight plain threads
  (started, released by one event, joined) with the same fast reset between loops, and no
  racecheck at all; the same plain threads with no reset (what this machine's Postgres and
  threads allow for the statement alone); and racecheck's stress trials without any reset.

Run alone: ``python benchmarks/bench_pg_reset.py [--quick]``.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import racecheck  # noqa: E402
from benchmarks.targets import dispatcher  # noqa: E402
from benchmarks.targets.stats import median  # noqa: E402
from racecheck.backends import PostgresDB, pg_reset  # noqa: E402

N = 8


def _force_clone(db: PostgresDB, on: bool) -> None:
    st = pg_reset.state_of(db)
    if on:
        st.plan = pg_reset.Plan(unsupported="benchmark: the re-clone arm")
    else:
        st.plan = None  # the next reset re-clones once and learns the plan


def _dirty(db: PostgresDB) -> None:
    db.execute("INSERT INTO runs (key, worker) SELECT 'k' || g, g FROM generate_series(1, 8) g")
    db.execute("INSERT INTO runs_u (key, worker) VALUES ('k', 1)")


def reset_ms(db: PostgresDB, count: int) -> float:
    times = []
    for _ in range(count):
        _dirty(db)
        t0 = time.perf_counter()
        db.reset()
        times.append(time.perf_counter() - t0)
    return median(times) * 1000


def trials_per_s(db: PostgresDB, trials: int, reconnect: bool) -> dict[str, Any]:
    def setup() -> None:
        db.reset()
        dispatcher.clear()
        if reconnect:
            dispatcher.configure(db.url, N)

    dispatcher.configure(db.url, N)
    t0 = time.perf_counter()
    r = racecheck.run(dispatcher.dispatch_unique, n=N, trials=trials, strategy="stress", seed=3, setup=setup,
                      worker_args=lambda i: (i,), stop_on_failure=False, timeout=30)
    wall = time.perf_counter() - t0
    dispatcher.close()
    return {"trials": r.trials_run, "trials_per_s": r.trials_run / wall, "violating": len(r.failing),
            "verdict_ok": r.ok}


def plain_loops_per_s(db: PostgresDB, loops: int, reset: bool = True) -> float:
    """The floor: eight plain threads run the same statement, then the same reset (or none); no racecheck."""
    import threading

    dispatcher.configure(db.url, N)
    t0 = time.perf_counter()
    for _ in range(loops):
        go = threading.Event()
        threads = [threading.Thread(target=lambda i=i, go=go: (go.wait(), dispatcher.dispatch_unique(i)))
                   for i in range(N)]
        for t in threads:
            t.start()
        go.set()
        for t in threads:
            t.join()
        if reset:
            db.reset()
        dispatcher.clear()
    wall = time.perf_counter() - t0
    dispatcher.close()
    return loops / wall


def no_reset_per_s(db: PostgresDB, trials: int) -> float:
    dispatcher.configure(db.url, N)
    t0 = time.perf_counter()
    r = racecheck.run(dispatcher.dispatch_unique, n=N, trials=trials, strategy="stress", seed=3,
                      setup=dispatcher.clear, worker_args=lambda i: (i,), stop_on_failure=False, timeout=30)
    wall = time.perf_counter() - t0
    dispatcher.close()
    if r.trials_run != trials:
        raise RuntimeError("the no-reset arm stopped early")
    return trials / wall


def run(quick: bool = False, log: Any = print) -> dict[str, Any]:
    from racecheck.backends.providers import provide_postgres

    rounds = 3 if quick else 5
    resets = 10 if quick else 20
    trials = 100 if quick else 300
    server = provide_postgres()
    db = server.database(dispatcher.SCHEMA)
    raw: dict[str, dict[str, list[float]]] = {"re-clone": {}, "fast (pg_reset)": {}}
    floor: dict[str, list[float]] = {}
    try:
        for rnd in range(rounds):
            for arm, clone in (("re-clone", True), ("fast (pg_reset)", False)):
                _force_clone(db, clone)
                db.reset()  # the fast arm learns its plan here
                raw[arm].setdefault("reset_ms", []).append(reset_ms(db, resets))
                # the re-clone arm pays many seconds per 100 trials; a tenth of the trials gives its rate
                res = trials_per_s(db, max(20, trials // 10) if clone else trials, reconnect=clone)
                if not res["verdict_ok"]:
                    raise RuntimeError(f"{arm}: the fixed target failed ({res['violating']} trials)")
                raw[arm].setdefault("trials_per_s", []).append(res["trials_per_s"])
            floor.setdefault("plain threads, same reset", []).append(plain_loops_per_s(db, trials))
            floor.setdefault("racecheck stress, no reset", []).append(no_reset_per_s(db, trials))
            floor.setdefault("plain threads, no reset", []).append(plain_loops_per_s(db, trials, reset=False))
            log(f"  floor: plain threads + reset {floor['plain threads, same reset'][-1]:.0f}/s, "
                f"racecheck without reset {floor['racecheck stress, no reset'][-1]:.0f}/s, "
                f"plain threads without reset {floor['plain threads, no reset'][-1]:.0f}/s")
            log(f"  round {rnd + 1}/{rounds}: " + ", ".join(
                f"{arm}: reset {v['reset_ms'][-1]:.1f} ms, {v['trials_per_s'][-1]:.0f} trials/s"
                for arm, v in raw.items()))
    finally:
        db.close()
        server.close()
    return {"rounds": rounds, "resets": resets, "trials": trials, "n": N,
            "arms": {arm: {k: median(v) for k, v in series.items()} for arm, series in raw.items()},
            "floor": {k: median(v) for k, v in floor.items()}}


def markdown(res: dict[str, Any]) -> str:
    lines = [f"{res['rounds']} interleaved rounds; {res['resets']} back-to-back resets and one stress run "
             f"(N = {res['n']}, dispatcher with unique index + ON CONFLICT, `db.reset()` before every trial) "
             "per arm and round; medians.", "",
             "| reset | reset, back to back | trials/s, N = 8, stress, with reset |", "|---|---|---|"]
    for arm, row in res["arms"].items():
        lines.append(f"| {arm} | {row['reset_ms']:.2f} ms | {row['trials_per_s']:.0f} |")
    for arm, rate in res.get("floor", {}).items():
        lines.append(f"| {arm} | | {rate:.0f} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    argv = sys.argv[1:] if argv is None else argv
    res = run(quick="--quick" in argv)
    print(markdown(res))
    return res


if __name__ == "__main__":
    main()
