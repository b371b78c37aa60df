"""Search: virtual time, ``instrument``, resource-aware dfs/pct/random, side by side with frontrun 0.7.

Cases: the sleep-separated check-then-set (in memory) and the Postgres claim after 20-50 ms
of work (``benchmarks.targets.narrow``), the in-memory lost update and check-then-add found
through ``instrument=[...]`` (no racecheck.point), their locked twins for 1,000 trials, the
lease split brain of incident 003 without its delay fault, and dfs exhausting the N=2 correct
twins. frontrun runs its own driver scripts under its wrapper on the same cases.

Run alone: ``python benchmarks/bench_search.py [--quick]``; writes benchmarks/results/search.json
and prints the Markdown section pasted into benchmarks/RESULTS.md.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import racecheck  # noqa: E402
from benchmarks.bench_detection import frontrun_runs, frontrun_summary  # noqa: E402
from benchmarks.targets import infra, narrow, scenarios  # noqa: E402
from benchmarks.targets import search_targets as st  # noqa: E402
from benchmarks.targets.stats import median  # noqa: E402

STRATEGIES = ("random", "pct", "dfs", "hypothesis")


def count_runs(fn: Any, runs: int, trials: int, strategy: str, **kw: Any) -> dict[str, Any]:
    """``runs`` runs of ``trials`` trials each: how many found a violation, median trials and wall."""
    found, tt, walls, errors = 0, [], [], []
    for r in range(runs):
        t0 = time.perf_counter()
        try:
            res = racecheck.run(fn, trials=trials, strategy=strategy, seed=1000 + r, timeout=20, **kw)
        except Exception as exc:  # noqa: BLE001 - recorded in the results
            errors.append(f"{type(exc).__name__}: {exc}")
            continue
        walls.append(time.perf_counter() - t0)
        if not res.ok:
            found += 1
            tt.append(res.trials_to_detection)
    return {"runs": runs, "found": found, "median_trials": median(tt), "median_wall_s": median(walls),
            "errors": errors[:2]}


def memory_cases(runs: int) -> list[dict[str, Any]]:
    base = dict(n=2, setup=st.reset, worker_args=lambda i: (i,))
    cases = [
        ("sleep-separated check-then-set (memory, 2 x 20-50 ms sleep)", st.sleepy_claim,
         dict(invariants=[racecheck.at_most_once("spawn")])),
        ("lost update `self.count += 1` (instrument)", st.incr,
         dict(invariants=[racecheck.custom(st.count_is(2), "count")], instrument=[st.MODULE])),
        ("check-then-add on a set (instrument)", st.add_once,
         dict(invariants=[racecheck.at_most_once("spawn")], instrument=[st.MODULE])),
        ("lost update, not instrumented (control)", st.incr,
         dict(invariants=[racecheck.custom(st.count_is(2), "count")])),
    ]
    out = []
    for name, fn, kw in cases:
        row: dict[str, Any] = {"case": name, "trials": 5, "strategies": {}}
        for s in STRATEGIES:
            row["strategies"][s] = count_runs(fn, runs, 5, s, **base, **kw)
            print(f"  {name} {s}: {row['strategies'][s]}", flush=True)
        out.append(row)
    return out


def locked_twins(trials: int) -> list[dict[str, Any]]:
    base = dict(n=2, setup=st.reset, worker_args=lambda i: (i,), instrument=[st.MODULE], stop_on_failure=False)
    out = []
    for name, fn, inv in (("lost update, under threading.Lock", st.incr_locked,
                           [racecheck.custom(st.count_is(2), "count")]),
                          ("check-then-add, under threading.Lock", st.add_once_locked,
                           [racecheck.at_most_once("spawn")])):
        for s in ("random", "pct", "dfs"):
            t0 = time.perf_counter()
            res = racecheck.run(fn, trials=trials, strategy=s, seed=7, invariants=inv, **base)
            rec = {"case": name, "strategy": s, "trials": res.trials_run, "violating": len(res.failing),
                   "exhausted": res.exhausted, "wall_s": time.perf_counter() - t0}
            print(f"  {rec}", flush=True)
            out.append(rec)
    return out


def pg_claim(runs: int) -> dict[str, Any]:
    with infra.postgres(narrow.PG_SCHEMA, narrow.PG_TABLES) as pg:
        import psycopg

        admin = psycopg.connect(pg.url, autocommit=True)
        narrow.configure_pg(pg.url, 2)

        def setup() -> None:
            narrow.reset_pg(admin)
            narrow.clear()

        kw = dict(n=2, setup=setup, worker_args=lambda i: (i,), spies=[racecheck.spy(
            "benchmarks.targets.narrow:spawn", key="key")], invariants=[racecheck.at_most_once("spawn")])
        row: dict[str, Any] = {"case": "Postgres claim after 20-50 ms of work (SELECT, UPDATE)", "trials": 5,
                               "strategies": {}}
        try:
            for s in STRATEGIES:
                row["strategies"][s] = count_runs(narrow.claim_pg_buggy, runs, 5, s, **kw)
                print(f"  pg claim {s}: {row['strategies'][s]}", flush=True)
            ex = []
            for reduce in (True, False):
                t0 = time.perf_counter()
                res = racecheck.run(narrow.claim_pg_fixed, trials=500, strategy="dfs", seed=1, timeout=20,
                                    **kw) if reduce else _dfs_no_reduction(narrow.claim_pg_fixed, **kw)
                ex.append({"reduce": reduce, "ok": res.ok, "exhausted": res.exhausted, "interleavings": res.trials_run,
                           "wall_s": time.perf_counter() - t0, "summary": res.summary()})
                print(f"  pg fixed dfs: {ex[-1]}", flush=True)
            row["dfs_exhaust_fixed"] = ex
            fr = {}
            for label, variant in (("buggy", "pg"), ("fixed", "pg-fixed")):
                fr[label] = frontrun_summary(frontrun_runs(pg.url, variant, runs if label == "buggy" else 5,
                                                           "frontrun_narrow.py"), label == "buggy")
                print(f"  frontrun pg {label}: {fr[label]}", flush=True)
            row["frontrun"] = fr
        finally:
            narrow.close_pg()
            admin.close()
    return row


def _dfs_no_reduction(fn: Any, **kw: Any) -> Any:
    """The same dfs without partial-order reduction (every preemption branch), for comparison."""
    from racecheck.config import RunConfig
    from racecheck.runner import Runner
    from racecheck.scheduling.strategies import DFS

    runner = Runner(RunConfig(target=fn, trials=500, strategy="dfs", seed=1, timeout=20, **kw))
    strategy = DFS(2, reduce=False)
    trials = []
    t0 = time.monotonic()
    with runner._instrumented():
        for i in range(500):
            trials.append(runner.run_trial(i, strategy))
            if strategy.exhausted():
                break
    return runner.result(trials, time.monotonic() - t0, strategy.exhausted(), None)


def memory_dfs_exhaust() -> list[dict[str, Any]]:
    out = []
    base = dict(n=2, setup=st.reset, worker_args=lambda i: (i,))
    for name, fn, kw in (("sleep-separated claim, setdefault twin", st.sleepy_claim_fixed,
                          dict(invariants=[racecheck.at_most_once("spawn")])),
                         ("check-then-add twin under Lock (instrument)", st.add_once_locked,
                          dict(invariants=[racecheck.at_most_once("spawn")], instrument=[st.MODULE]))):
        t0 = time.perf_counter()
        res = racecheck.run(fn, trials=500, strategy="dfs", seed=1, **base, **kw)
        rec = {"case": name, "ok": res.ok, "exhausted": res.exhausted, "interleavings": res.trials_run,
               "wall_s": time.perf_counter() - t0, "summary": res.summary()}
        print(f"  {rec}", flush=True)
        out.append(rec)
    return out


def split_brain(runs: int) -> dict[str, Any]:
    with scenarios.incident_003_lease(2) as sc:
        row: dict[str, Any] = {"case": sc.name, "trials": 30, "strategies": {}}
        for s in STRATEGIES:
            row["strategies"][s] = count_runs(sc.buggy, runs, 30, s, n=2, setup=sc.setup, spies=sc.spies,
                                              invariants=sc.invariants, worker_args=sc.args)
            print(f"  split brain {s}: {row['strategies'][s]}", flush=True)
    return row


def frontrun_memory(runs: int) -> dict[str, Any]:
    out = {}
    for variant, bug in (("sleepy", True), ("sleepy-fixed", False), ("counter", True), ("counter-locked", False),
                         ("set-add", True), ("set-add-locked", False)):
        out[variant] = frontrun_summary(frontrun_runs("-", variant, runs if bug else 5, "frontrun_search.py"), bug)
        print(f"  frontrun {variant}: {out[variant]}", flush=True)
    return out


def run(quick: bool = False) -> dict[str, Any]:
    runs = 5 if quick else 20
    out: dict[str, Any] = {"runs": runs}
    out["memory"] = memory_cases(runs)
    out["frontrun_memory"] = frontrun_memory(runs)
    out["locked_twins"] = locked_twins(100 if quick else 1000)
    out["memory_dfs_exhaust"] = memory_dfs_exhaust()
    out["pg_claim"] = pg_claim(runs)
    out["split_brain"] = split_brain(runs)
    return out


def _cell(s: dict[str, Any]) -> str:
    med = s.get("median_trials")
    return f"{s['found']}/{s['runs']}" + (f" (median {med:g} trials)" if med is not None else "") + (
        f" error: {s['errors'][0]}" if s.get("errors") else "")


def _fr(s: dict[str, Any], bug: bool) -> str:
    if s.get("errors") and not s.get("runs"):
        return f"error: {s['errors'][0]}"
    if bug:
        ex = s.get("median_executions")
        return f"{s['found']}/{s['runs']}" + (f" (median {ex:g} executions)" if ex is not None else "")
    out = f"{s['holds']}/{s['runs']} hold"
    if s.get("inconclusive"):
        out += f", {s['inconclusive']} inconclusive ({(s.get('inconclusive_reasons') or [''])[0][:90]}...)"
    return out + (f", median {s['median_wall_s']:.2f} s" if s.get("median_wall_s") else "")


def markdown(res: dict[str, Any]) -> str:
    lines = [f"Runs per cell: {res['runs']}; a run is one `racecheck.run` (N=2, its own seed) with the trial budget "
             "shown; the cell counts runs that found the violation.", "",
             "| case | budget | " + " | ".join(STRATEGIES) + " | frontrun 0.7 |", "|---|---|" + "---|" * 5]
    fr = res.get("frontrun_memory", {})
    frmap = {0: fr.get("sleepy"), 1: fr.get("counter"), 2: fr.get("set-add")}
    for i, row in enumerate(res["memory"]):
        f = frmap.get(i)
        lines.append(f"| {row['case']} | {row['trials']} trials | "
                     + " | ".join(_cell(row["strategies"][s]) for s in STRATEGIES)
                     + f" | {_fr(f, True) if f else 'n/a (instrumentation is its default)'} |")
    pg = res["pg_claim"]
    lines.append(f"| {pg['case']} | 5 trials | " + " | ".join(_cell(pg["strategies"][s]) for s in STRATEGIES)
                 + f" | {_fr(pg['frontrun']['buggy'], True)} |")
    sb = res["split_brain"]
    lines.append(f"| {sb['case']} | 30 trials | " + " | ".join(_cell(sb["strategies"][s]) for s in STRATEGIES)
                 + " | not run (no Redis driver script) |")
    lines += ["", "Correct twins (no violation expected):", "", "| twin | strategy | trials | violating | wall |",
              "|---|---|---|---|---|"]
    for r in res["locked_twins"]:
        lines.append(f"| {r['case']} | {r['strategy']} | {r['trials']}{' (exhausted)' if r['exhausted'] else ''} "
                     f"| {r['violating']} | {r['wall_s']:.2f} s |")
    lines += ["", "dfs exhausting the N=2 correct twins (partial-order reduction on, and off for the Postgres twin):", "",
              "| twin | dfs | frontrun 0.7 |", "|---|---|---|"]
    for r in res["memory_dfs_exhaust"]:
        lines.append(f"| {r['case']} | {r['summary'].split(': ', 1)[1]} in {r['wall_s']:.2f} s | — |")
    for r in pg["dfs_exhaust_fixed"]:
        lines.append(f"| Postgres claim, guarded UPDATE twin, reduction {'on' if r['reduce'] else 'off'} "
                     f"| {r['summary'].split(': ', 1)[1]} in {r['wall_s']:.2f} s "
                     f"| {_fr(pg['frontrun']['fixed'], False) if r['reduce'] else ''} |")
    lines += ["", "frontrun on the in-memory twins: " + "; ".join(
        f"{k}: {_fr(v, False)}" for k, v in fr.items() if k.endswith(("-fixed", "-locked")))]
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    out = ROOT / "benchmarks" / "results" / "search.json"
    if "--from-json" in argv:  # re-render the table of the last run
        print(markdown(json.loads(out.read_text())))
        return 0
    quick = "--quick" in argv
    res = run(quick)
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(res, indent=1, default=str))
    print(markdown(res))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
