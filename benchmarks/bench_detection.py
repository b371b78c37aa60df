"""Detection and false positives: how fast each approach finds each seeded race, and that fixed twins stay clean.

Approaches, on the same targets and backend: (a) plain threads started in a loop with
no barrier (what people write by hand), (b) threads released by a barrier (the
pytest-run-parallel / pytest-race approach), (c) racecheck's strategies, (d) frontrun
(PyPI) under its ``frontrun`` wrapper where it can express the scenario.

Run alone: ``python benchmarks/bench_detection.py [--quick]``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import racecheck  # noqa: E402
from benchmarks.targets import infra, scenarios  # noqa: E402
from benchmarks.targets.stats import fmt, summarize_detection  # noqa: E402

STRATEGIES = ("stress", "random", "pct", "dfs", "hypothesis")
FRONTRUN = str(Path(sys.executable).with_name("frontrun"))


def hand_threads(fn: Any, n: int, trials: int, setup: Any, found: Any, barrier: bool,
                 args: Any = lambda i: (i,)) -> dict[str, Any]:
    """The hand-written loop: start n threads (optionally behind a barrier), join, judge; repeat."""
    t0 = time.perf_counter()
    errors: list[str] = []
    for trial in range(1, trials + 1):
        setup()
        gate = threading.Barrier(n) if barrier else None

        def body(i: int, gate: threading.Barrier | None = gate) -> None:
            if gate is not None:
                gate.wait()
            try:
                fn(*args(i))
            except Exception as exc:  # noqa: BLE001 - a failing trigger is recorded, like racecheck does
                errors.append(f"{type(exc).__name__}: {exc}")

        threads = [threading.Thread(target=body, args=(i,)) for i in range(n)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        if found():
            return {"found": True, "trials": trial, "wall_s": time.perf_counter() - t0}
    return {"found": False, "trials": trials, "wall_s": time.perf_counter() - t0, "error": errors[0] if errors else None}


def racecheck_once(sc: scenarios.Scenario, fn: Any, n: int, trials: int, strategy: str, seed: int) -> dict[str, Any]:
    t0 = time.perf_counter()
    try:
        r = racecheck.run(fn, n=n, trials=trials, strategy=strategy, seed=seed, setup=sc.setup, spies=sc.spies,
                          invariants=sc.invariants, timeout=20, **_run_kwargs(sc))
    except Exception as exc:  # noqa: BLE001 - recorded in the results, never hidden
        return {"found": False, "trials": 0, "wall_s": time.perf_counter() - t0, "error": f"{type(exc).__name__}: {exc}"}
    wall = time.perf_counter() - t0
    out: dict[str, Any] = {"found": not r.ok, "trials": r.trials_to_detection or r.trials_run, "wall_s": wall,
                           "trials_run": r.trials_run, "exhausted": r.exhausted}
    if not r.ok:
        out["violations"] = sorted({v.invariant for v in r.violations})
    return out


def _run_kwargs(sc: scenarios.Scenario) -> dict[str, Any]:
    kw = dict(sc.run_kwargs)
    if "worker_args" not in kw:
        kw["worker_args"] = sc.args
    return kw


def frontrun_runs(url: str, variant: str, runs: int, script_name: str = "frontrun_dispatch.py") -> dict[str, Any]:
    """Run a frontrun driver script under the frontrun wrapper; one record per explore() call."""
    script = str(ROOT / "benchmarks" / "targets" / script_name)
    if not Path(FRONTRUN).exists():
        return {"error": f"frontrun CLI not found at {FRONTRUN}; pip install frontrun==0.7.*", "runs": []}
    t0 = time.perf_counter()
    try:
        p = subprocess.run([FRONTRUN, sys.executable, script, url, str(runs), variant], capture_output=True,
                           text=True, timeout=900, cwd=str(ROOT))
    except subprocess.TimeoutExpired:
        return {"error": "frontrun subprocess timed out after 900 s", "runs": []}
    lines = [json.loads(x) for x in p.stdout.splitlines() if x.startswith("{")]
    info = next((x["info"] for x in lines if "info" in x), {})
    recs = [x for x in lines if "run" in x]
    err = None if p.returncode == 0 else (p.stderr.strip().splitlines() or [f"exit {p.returncode}"])[-1]
    return {"info": info, "runs": recs, "error": err, "subprocess_wall_s": time.perf_counter() - t0}


def frontrun_summary(fr: dict[str, Any], expect_bug: bool) -> dict[str, Any]:
    recs = fr.get("runs", [])
    found = [r for r in recs if r.get("property_holds") is False]
    holds = [r for r in recs if r.get("property_holds") is True]
    inconclusive = [r for r in recs if r.get("property_holds") is None]
    from benchmarks.targets.stats import median
    errs = sorted({r["error"] for r in recs if r.get("error")} | ({fr["error"]} if fr.get("error") else set()))
    reasons = sorted({(r.get("inconclusive") or "")[:200] for r in inconclusive if r.get("inconclusive")})
    return {"runs": len(recs), "found": len(found), "holds": len(holds), "inconclusive": len(inconclusive),
            "found_fraction": (len(found) / len(recs)) if recs else None,
            "median_executions": median([r["executions"] for r in (found if expect_bug else recs)
                                         if r.get("executions") is not None]),
            "median_wall_s": median([r["wall_s"] for r in (found if expect_bug else recs)]),
            "errors": errs[:3], "inconclusive_reasons": reasons[:2], "info": fr.get("info", {})}


def run(quick: bool = False, log: Any = print) -> dict[str, Any]:
    runs = 5 if quick else 20
    trials_default = 30 if quick else 100
    fp_default = 100 if quick else 1000
    ns = (2,) if quick else (2, 8)
    out: dict[str, Any] = {"runs": runs, "trials_budget": trials_default, "fp_trials": fp_default, "scenarios": []}
    only = [x for x in os.environ.get("RACECHECK_BENCH_ONLY", "").split(",") if x]
    for make in scenarios.SCENARIOS:
        if only and make.__name__ not in only:
            continue
        sc_ns = ns if quick else scenarios.SCENARIO_NS.get(make.__name__, ns)
        if quick and make.__name__ in scenarios.SCENARIO_NS:
            sc_ns = scenarios.SCENARIO_NS[make.__name__][:1]
        for n in sc_ns:
            with make(n) as sc:
                trials = min(sc.trials or trials_default, trials_default)
                fp_trials = min(sc.fp_trials or fp_default, fp_default)
                entry: dict[str, Any] = {"name": sc.name, "n": n, "backend": sc.backend, "note": sc.note,
                                         "trials_budget": trials, "fp_trials": fp_trials, "frontrun_na": sc.frontrun_na,
                                         "detection": {}, "false_positives": {}, "frontrun": {}}
                methods: dict[str, Any] = {
                    "plain threads (no barrier)": lambda seed, n=n, t=trials: hand_threads(sc.buggy, n, t, sc.setup, sc.found, False, sc.args),
                    "threads + barrier": lambda seed, n=n, t=trials: hand_threads(sc.buggy, n, t, sc.setup, sc.found, True, sc.args),
                }
                for s in STRATEGIES:
                    methods[f"racecheck {s}"] = lambda seed, s=s, n=n, t=trials: racecheck_once(sc, sc.buggy, n, t, s, seed)
                for label, fn in methods.items():
                    recs = [fn(1000 + r) for r in range(runs)]
                    summ = summarize_detection(recs)
                    entry["detection"][label] = summ
                    log(f"  detection n={n} {label}: {summ['found']}/{summ['runs']} "
                        f"median trials {summ['median_trials']} wall {fmt(summ['median_wall_s'], 'ms')}")
                if n == 2 and sc.frontrun:
                    for label, variant in sc.frontrun.items():
                        buggy = label.startswith("buggy")
                        fr = frontrun_runs(sc.url, variant, runs if buggy else max(3, runs // 4), sc.frontrun_script)
                        entry["frontrun"][label] = frontrun_summary(fr, buggy)
                        log(f"  frontrun {label}: {entry['frontrun'][label]}")
                for fixed_name, fixed_fn in (sc.fixed.items() if n == sc_ns[0] else ()):
                    fp: dict[str, Any] = {}
                    for s in STRATEGIES:
                        t = fp_trials if s == "stress" else max(20 if quick else 50, fp_trials // 10)
                        t0 = time.perf_counter()
                        try:
                            r = racecheck.run(fixed_fn, n=n, trials=t, strategy=s, seed=7,
                                              setup=sc.fixed_setup.get(fixed_name, sc.setup), spies=sc.spies,
                                              invariants=sc.invariants, stop_on_failure=False, timeout=20,
                                              **_run_kwargs(sc))
                            fp[s] = {"trials": r.trials_run, "violating_trials": len(r.failing),
                                     "violations": sorted({v.invariant for v in r.violations}),
                                     "exhausted": r.exhausted, "wall_s": time.perf_counter() - t0}
                        except Exception as exc:  # noqa: BLE001 - recorded
                            fp[s] = {"trials": 0, "violating_trials": None, "error": f"{type(exc).__name__}: {exc}"}
                        log(f"  fixed {fixed_name} n={n} {s}: {fp[s]}")
                    entry["false_positives"][fixed_name] = fp
                out["scenarios"].append(entry)
    if not only or "faults" in only:
        out["fault_scenarios"] = run_faults(5 if quick else 10, log)
    return out


def run_faults(runs: int, log: Any = print) -> list[dict[str, Any]]:
    """Seed incidents whose bug needs a racecheck fault or mode: every strategy, ``runs`` runs each."""
    out: list[dict[str, Any]] = []
    for fs in scenarios.fault_scenarios():
        cm = infra.postgres("SELECT 1", ()) if fs.backend == "postgres" else infra.redis()
        env = "DATABASE_URL" if fs.backend == "postgres" else "REDIS_URL"
        with cm as be:
            saved = os.environ.get(env)
            os.environ[env] = be.url
            try:
                entry: dict[str, Any] = {"name": fs.name, "seed": fs.seed, "n": fs.n, "mode": fs.mode,
                                         "trials_budget": fs.trials, "needs": fs.needs,
                                         "why_baselines": fs.why_baselines, "why_frontrun": fs.why_frontrun,
                                         "detection": {}}
                for s in STRATEGIES:
                    recs = []
                    for r in range(runs):
                        t0 = time.perf_counter()
                        try:
                            res = racecheck.run(fs.target, n=fs.n, trials=fs.trials, mode=fs.mode, strategy=s,
                                                seed=1000 + r, setup=fs.setup, recover=fs.recover, spies=fs.spies,
                                                faults=fs.faults, invariants=fs.invariants, kwargs=fs.kwargs,
                                                timeout=30)
                            recs.append({"found": not res.ok, "trials": res.trials_to_detection or res.trials_run,
                                         "wall_s": time.perf_counter() - t0,
                                         "violations": sorted({v.invariant for v in res.violations})})
                        except Exception as exc:  # noqa: BLE001 - recorded, never hidden
                            recs.append({"found": False, "trials": 0, "wall_s": time.perf_counter() - t0,
                                         "error": f"{type(exc).__name__}: {exc}"[:300]})
                    summ = summarize_detection(recs)
                    summ["violations"] = sorted({v for r in recs for v in r.get("violations", [])})
                    entry["detection"][s] = summ
                    log(f"  fault scenario {fs.seed} {s}: {summ['found']}/{summ['runs']} median trials "
                        f"{summ['median_trials']} wall {fmt(summ['median_wall_s'], 'ms')} {summ['errors'][:1]}")
            finally:
                if saved is None:
                    os.environ.pop(env, None)
                else:
                    os.environ[env] = saved
        out.append(entry)
    return out


def best_baseline(det: dict[str, Any]) -> tuple[str, dict[str, Any]] | None:
    """The hand-written loop that found the bug in most runs, then fastest; None if neither found it."""
    cands = [(k, v) for k, v in det.items() if not k.startswith("racecheck") and v.get("found")]
    return min(cands, key=lambda kv: (-kv[1]["found"], kv[1]["median_wall_s"] or 1e9)) if cands else None


def faults_markdown(res: dict[str, Any]) -> str:
    """The seed incidents that need a racecheck fault or mode: racecheck rows, n/a for the rest."""
    rows = res.get("fault_scenarios") or []
    if not rows:
        return ""
    lines = [f"Each cell: runs that found the bug / runs ({rows[0]['detection']['stress']['runs']} runs per strategy; "
             "T = trials per run as listed), median trials to detection, median wall per run that found it "
             "(includes process start in process mode, and the faults' own delays). Scenarios and faults are "
             "those of the named seed in `scenarios/seeds/*.race.yaml` (and `tests/seeds/`).", "",
             "| seed scenario | N | mode | T | needs | " + " | ".join(f"racecheck {s}" for s in STRATEGIES)
             + " | plain threads / threads + barrier | frontrun 0.7 |",
             "|---|---|---|---|---|" + "---|" * len(STRATEGIES) + "---|---|"]
    for e in rows:
        cells = []
        for s in STRATEGIES:
            v = e["detection"].get(s, {})
            c = f"{v.get('found')}/{v.get('runs')}"
            if v.get("found"):
                c += f"; {fmt(v['median_trials'])} tr, {fmt(v['median_wall_s'], 'ms')}"
            elif v.get("errors"):
                c += f"; error: {v['errors'][0][:140]}"
            cells.append(c)
        lines.append(f"| `{e['seed']}`: {e['name']} | {e['n']} | {e['mode']} | {e['trials_budget']} | {e['needs']} | "
                     + " | ".join(cells) + f" | n/a (needs {e['needs']}): {e['why_baselines']} | "
                     f"n/a (needs {e['needs']}): {e['why_frontrun']} |")
    return "\n".join(lines)


def _ratio(a: float | None, b: float | None) -> str:
    if a is None or b is None or b == 0:
        return "—"
    return f"{a / b:.2g}×"


def markdown(res: dict[str, Any]) -> str:
    lines = [f"Each cell: {res['runs']} independent runs, each allowed up to {res['trials_budget']} trials "
             "(a trial = N triggers once, then the judge). *found* = runs that saw the bug; medians are over "
             "the runs that found it. Wall time includes the per-trial reset. For `hypothesis` the wall "
             "time includes shrinking the failing schedule; trials counts the examples until the first failure. "
             "frontrun rows: one `frontrun.explore()` (DPOR, count=2, stop_on_first, no reproduction replays) per "
             "run, in a subprocess under the `frontrun` wrapper; *trials* is its executions (`num_explored`); "
             "*said it holds* = it returned a pass on the buggy target (a false negative).", ""]
    for sc in res["scenarios"]:
        det = sc["detection"]
        best = min((v["median_wall_s"] for k, v in det.items() if k.startswith("racecheck") and v["median_wall_s"]
                    and v["found_fraction"] == 1.0), default=None)
        base = best_baseline(det)
        base_wall = base[1]["median_wall_s"] if base else None
        t_budget = sc.get("trials_budget", res["trials_budget"])
        lines += [f"#### {sc['name']}, N = {sc['n']}", "", sc["note"], "",
                  f"T = {t_budget} trials per run. *vs best baseline* = this approach's median wall ÷ the best "
                  "baseline's (the baseline finding it in most runs, then fastest); "
                  + (f"best baseline here: {base[0]}." if base else "no baseline found it in any run."), "",
                  "| approach | found | median trials | median wall to detection | p90 wall | vs fastest racecheck strategy (wall) | vs best baseline (wall) |",
                  "|---|---|---|---|---|---|---|"]
        for label, v in det.items():
            lines.append(f"| {label} | {v['found']}/{v['runs']} | {fmt(v['median_trials'])} | "
                         f"{fmt(v['median_wall_s'], 'ms')} | {fmt(v['p90_wall_s'], 'ms')} | "
                         f"{_ratio(v['median_wall_s'], best)} | {_ratio(v['median_wall_s'], base_wall)} |"
                         + (f" error: {v['errors'][0]}" if v["errors"] else ""))
        if sc.get("frontrun_na") and not sc.get("frontrun"):
            lines.append(f"| frontrun 0.7 DPOR | {sc['frontrun_na']} | | | | | |")
        for label, v in sc.get("frontrun", {}).items():
            if not label.startswith("buggy"):
                continue
            said = f" ({v['holds']} said it holds)" if v.get("holds") else ""
            said += f" ({v['inconclusive']} inconclusive)" if v.get("inconclusive") else ""
            lines.append(f"| frontrun 0.7 DPOR ({label}) | {v['found']}/{v['runs']}{said} | "
                         f"{fmt(v['median_executions'])} executions | {fmt(v['median_wall_s'], 'ms')} | — | "
                         f"{_ratio(v['median_wall_s'], best)} | {_ratio(v['median_wall_s'], base_wall)} |"
                         + (f" error: {v['errors'][0]}" if v["errors"] else ""))
        lines.append("")
        if sc.get("frontrun"):
            fixed_fr = {k: v for k, v in sc["frontrun"].items() if not k.startswith("buggy")}
            if fixed_fr:
                lines += ["frontrun on the fixed twins (a pass should *hold*):", "",
                          "| fixed twin | holds | found (false positive) | inconclusive | median executions | median wall | reason if inconclusive |",
                          "|---|---|---|---|---|---|---|"]
                for label, v in fixed_fr.items():
                    reason = (v["inconclusive_reasons"] or v["errors"] or [""])[0]
                    lines.append(f"| {label} | {v['holds']}/{v['runs']} | {v['found']} | {v['inconclusive']} | "
                                 f"{fmt(v['median_executions'])} | {fmt(v['median_wall_s'], 'ms')} | {reason} |")
                lines.append("")
        if not sc["false_positives"]:
            continue
        lines += [f"False positives, fixed twins, N = {sc['n']} (stress runs {sc.get('fp_trials', res['fp_trials'])} trials; the "
                  "controlled strategies run a tenth of that each (at least 50; 20 with --quick), dfs stops when its tree is exhausted):", "",
                  "| fixed twin | strategy | trials | violating trials | wall |", "|---|---|---|---|---|"]
        for fixed_name, fp in sc["false_positives"].items():
            for s, v in fp.items():
                lines.append(f"| {fixed_name} | {s} | {v.get('trials')}{' (exhausted)' if v.get('exhausted') else ''} | "
                             f"{v.get('violating_trials')}{' ' + ', '.join(v['violations']) if v.get('violations') else ''}"
                             f"{' error: ' + v['error'] if v.get('error') else ''} | {fmt(v.get('wall_s'), 'ms')} |")
        lines.append("")
    return "\n".join(lines)


def expressibility_markdown() -> str:
    lines = ["| seed incident | frontrun 0.7 can express it? | why |", "|---|---|---|"]
    for name, verdict, why in scenarios.FRONTRUN_EXPRESSIBILITY:
        lines.append(f"| {name} | {verdict} | {why} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    argv = sys.argv[1:] if argv is None else argv
    res = run(quick="--quick" in argv)
    print(markdown(res))
    return res


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()
