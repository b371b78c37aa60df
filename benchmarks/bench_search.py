"""Search: virtual time, ``instrument``, resource-aware dfs/pct/random, side by side with frontrun 0.7.

Cases: the sleep-separated check-then-set (in memory) and the Postgres claim after 20-50 ms
of work (``benchmarks.targets.narrow``), the in-memory lost update and check-then-add found
through ``instrument=[...]`` (no racecheck.point), their locked twins for 1,000 trials, the
lease split brain of incident 003 without its delay fault, and dfs exhausting the N=2 correct
twins. frontrun runs its own driver scripts under its wrapper on the same cases.

Also: pct on every driver's two-statement races (20 seeds each), controlled asyncio (the
redis.asyncio GET-then-SET lock, the asyncio.sleep-separated check-then-set and its twin), and
dfs vs frontrun on the check-then-insert twins side by side.

Run alone: ``python benchmarks/bench_search.py [--quick] [--only=drivers,asyncio,twins]``; writes
benchmarks/results/search.json (``--only`` keeps the other sections of the last run) and prints
the Markdown section pasted into benchmarks/RESULTS.md.
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


TESTS = ROOT / "tests"
SEEDS = 20


def _tests_on_path() -> None:
    if str(TESTS) not in sys.path:
        sys.path.insert(0, str(TESTS))  # tests/drivers, tests/async_control, tests/search targets


def _row(case: str, needed: list[int | None], budget: int, within: int) -> dict[str, Any]:
    found = [t for t in needed if t is not None]
    return {"case": case, "budget": budget, "within": within, "needed": needed, "found": len(found),
            "found_within": sum(t <= within for t in found), "max_trials": max(found, default=None)}


def _per_seed(fn: Any, budget: int, **kw: Any) -> list[int | None]:
    out: list[int | None] = []
    for seed in range(SEEDS):
        res = racecheck.run(fn, n=2, trials=budget, seed=seed, timeout=20, **kw)
        out.append(None if res.ok else len(res.trials))
    return out


def driver_races() -> list[dict[str, Any]]:
    """pct on every driver's check-then-insert, lost update and unlocked claim: trials needed per seed."""
    _tests_on_path()
    from drivers import scenarios as ds
    from drivers.targets import apg, kv, pg2, pg3, schema

    rows: list[dict[str, Any]] = []
    with infra.postgres("SELECT 1", ()) as pg:
        try:
            for family, mod, mode in (("psycopg2", pg2, "threads"), ("psycopg 3", pg3, "threads"),
                                      ("asyncpg (controlled asyncio)", apg, "asyncio")):
                for scen, (target, inv) in ds.buggy(mod).items():
                    needed = _per_seed(target, 30, args=(pg.url,), setup=schema.reset(pg.url),
                                       invariants=inv(pg.url, 2), strategy="pct", mode=mode)
                    rows.append(_row(f"{family}: {scen}", needed, 30, 10))
                    print(f"  {rows[-1]}", flush=True)
        finally:
            for pool in pg2._pools.values():
                pool.closeall()
            pg2._pools.clear()
    with infra.redis() as rd:
        prefix = "racecheck-bench-search:"

        def counter_is_2(_history: Any) -> str | None:
            c = kv.client("redis", rd.url)
            v = int(c.get(prefix + "counter"))
            c.close()
            return None if v == 2 else f"counter is {v} after 2 increments"

        cases = (("check-then-set", kv.signup, kv.asignup, racecheck.at_most_once("created")),
                 ("lost update", kv.increment, kv.aincrement, racecheck.custom(counter_is_2, "counter")),
                 ("claim by LINDEX then LREM", kv.claim, kv.aclaim, racecheck.at_most_once("claimed")))
        for lib in ("redis", "valkey"):
            for mode in ("threads", "asyncio"):
                for scen, sync_fn, async_fn, inv in cases:
                    needed = _per_seed(async_fn if mode == "asyncio" else sync_fn, 30, args=(rd.url, prefix, lib),
                                       setup=kv.reset(rd.url, prefix), invariants=[inv], strategy="pct", mode=mode)
                    label = f"{lib}{'.asyncio (controlled)' if mode == 'asyncio' else '-py'}"
                    rows.append(_row(f"{label}: {scen}", needed, 30, 10))
                    print(f"  {rows[-1]}", flush=True)
    return rows


def async_cases() -> dict[str, Any]:
    """Controlled asyncio: the redis.asyncio GET-then-SET lock, and the asyncio.sleep-separated check-then-set."""
    _tests_on_path()
    from async_control import targets as at
    from search import targets as stt

    out: dict[str, Any] = {"lock": [], "sleep": [], "twins": []}
    with infra.redis() as rd:
        import redis

        client = redis.Redis.from_url(rd.url)
        key = "racecheck-bench-search:lock"
        try:
            for s in STRATEGIES:
                needed = _per_seed(at.redis_get_then_set, 10, mode="asyncio", strategy=s, args=(rd.url, key),
                                   setup=lambda: client.delete(key), invariants=[racecheck.mutual_exclusion("locked")])
                out["lock"].append({"strategy": s, **_row("redis.asyncio GET-then-SET lock", needed, 10, 10)})
                print(f"  {out['lock'][-1]}", flush=True)
        finally:
            client.delete(key)
            client.close()
    kw = dict(mode="asyncio", worker_args=lambda i: (i,), setup=stt.reset_async,
              invariants=[racecheck.at_most_once("spawn")])
    for s in STRATEGIES + ("stress",):
        needed = _per_seed(stt.async_sleepy_claim, 5, strategy=s, **kw)
        out["sleep"].append({"strategy": s, **_row("asyncio.sleep-separated check-then-set", needed, 5, 5)})
        print(f"  {out['sleep'][-1]}", flush=True)
    for s in ("random", "pct", "dfs"):
        t0 = time.perf_counter()
        res = racecheck.run(stt.async_sleepy_claim_locked, n=2, trials=100, strategy=s, seed=3, stop_on_failure=False,
                            **kw)
        out["twins"].append({"strategy": s, "trials": res.trials_run, "violating": len(res.failing),
                             "exhausted": res.exhausted, "wall_s": time.perf_counter() - t0})
    return out


def twins_side_by_side(reps: int = 3) -> list[dict[str, Any]]:
    """dfs exhausting the N=2 correct check-then-insert twins, and frontrun 0.7 on the same twins, in one run."""
    out = []
    with scenarios.check_then_insert(2) as sc:
        kw = dict(n=2, setup=sc.setup, spies=sc.spies, invariants=sc.invariants, timeout=20, **sc.run_kwargs)
        for name, fn in sc.fixed.items():
            walls, summary, cold = [], "", None
            for rep in range(reps + 1):
                t0 = time.perf_counter()
                res = racecheck.run(fn, trials=500, strategy="dfs", seed=1, **kw)
                wall = time.perf_counter() - t0
                if rep == 0:
                    cold = wall  # the first run of this twin in the process (pool, plans, caches)
                    continue
                walls.append(wall)
                summary = res.summary()
            fr = frontrun_summary(frontrun_runs(sc.url, sc.frontrun[name], reps), False)
            rec = {"twin": name, "summary": summary, "first_wall_s": cold, "walls_s": walls, "frontrun": fr}
            print(f"  {rec}", flush=True)
            out.append(rec)
    return out


def frontrun_memory(runs: int) -> dict[str, Any]:
    out = {}
    for variant, bug in (("sleepy", True), ("sleepy-fixed", False), ("counter", True), ("counter-locked", False),
                         ("set-add", True), ("set-add-locked", False)):
        out[variant] = frontrun_summary(frontrun_runs("-", variant, runs if bug else 5, "frontrun_search.py"), bug)
        print(f"  frontrun {variant}: {out[variant]}", flush=True)
    return out


SECTIONS = ("memory", "frontrun_memory", "locked_twins", "memory_dfs_exhaust", "pg_claim", "split_brain", "drivers",
            "asyncio", "twins")


def run(quick: bool = False, only: tuple[str, ...] = SECTIONS, out: dict[str, Any] | None = None) -> dict[str, Any]:
    runs = 5 if quick else 20
    out = {} if out is None else out
    out["runs"] = runs
    makers = {"memory": lambda: memory_cases(runs), "frontrun_memory": lambda: frontrun_memory(runs),
              "locked_twins": lambda: locked_twins(100 if quick else 1000), "memory_dfs_exhaust": memory_dfs_exhaust,
              "pg_claim": lambda: pg_claim(runs), "split_brain": lambda: split_brain(runs), "drivers": driver_races,
              "asyncio": async_cases, "twins": twins_side_by_side}
    for name in only:
        print(f"-- {name}", flush=True)
        out[name] = makers[name]()
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
    lines += _more_markdown(res)
    return "\n".join(lines)


def _needed_cell(r: dict[str, Any]) -> str:
    if not r["found"]:
        return f"0/{len(r['needed'])} (never, in {r['budget']} trials)"
    return (f"{r['found_within']}/{len(r['needed'])} within {r['within']} "
            f"(worst {r['max_trials']}{'' if r['found'] == len(r['needed']) else ', some never'})")


def _more_markdown(res: dict[str, Any]) -> list[str]:
    lines: list[str] = []
    if res.get("drivers"):
        lines += ["", f"pct on each driver's races (N=2, {SEEDS} seeds, 30-trial budget; the cell counts seeds that "
                  "found the race within 10 trials, and the most trials any seed needed):", "",
                  "| driver: race | pct |", "|---|---|"]
        lines += [f"| {r['case']} | {_needed_cell(r)} |" for r in res["drivers"]]
    a = res.get("asyncio")
    if a:
        lines += ["", f"Controlled asyncio ({SEEDS} seeds each):", "", "| case | strategy | found |", "|---|---|---|"]
        lines += [f"| {r['case']} (10 trials) | {r['strategy']} | {_needed_cell(r)} |" for r in a["lock"]]
        lines += [f"| {r['case']} (5 trials) | {r['strategy']} | {_needed_cell(r)} |" for r in a["sleep"]]
        lines += [f"| asyncio.Lock twin of it | {r['strategy']} | {r['violating']} violating in {r['trials']} trials"
                  f"{' (exhausted)' if r['exhausted'] else ''}, {r['wall_s']:.2f} s |" for r in a["twins"]]
    if res.get("twins"):
        lines += ["", "dfs exhausting the N=2 correct check-then-insert twins (`scenarios.check_then_insert(2)`), "
                  "and frontrun 0.7 on the same twins, in one run:", "",
                  "| twin | racecheck dfs | walls (warm runs) | first run | frontrun 0.7 |", "|---|---|---|---|---|"]
        for r in res["twins"]:
            walls = ", ".join(f"{w:.2f}" for w in r["walls_s"])
            lines.append(f"| {r['twin']} | {r['summary'].split(': ', 1)[1]} | {walls} s | {r['first_wall_s']:.2f} s "
                         f"| {_fr(r['frontrun'], False)} |")
    return lines


def main(argv: list[str]) -> int:
    out = ROOT / "benchmarks" / "results" / "search.json"
    if "--from-json" in argv:  # re-render the table of the last run
        print(markdown(json.loads(out.read_text())))
        return 0
    quick = "--quick" in argv
    only = next((a.split("=", 1)[1].split(",") for a in argv if a.startswith("--only=")), None)
    if only:  # rerun some sections, keep the others from the last run
        res = run(quick, tuple(only), json.loads(out.read_text()) if out.exists() else {})
    else:
        res = run(quick)
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(res, indent=1, default=str))
    print(markdown(res))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
