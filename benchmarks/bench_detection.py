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
from benchmarks.targets import scenarios  # noqa: E402
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


def frontrun_runs(url: str, variant: str, runs: int) -> dict[str, Any]:
    """Run frontrun_dispatch.py under the frontrun wrapper; one record per explore() call."""
    script = str(ROOT / "benchmarks" / "targets" / "frontrun_dispatch.py")
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
    trials = 30 if quick else 100
    fp_trials = 100 if quick else 1000
    ns = (2,) if quick else (2, 8)
    out: dict[str, Any] = {"runs": runs, "trials_budget": trials, "fp_trials": fp_trials, "scenarios": []}
    for make in scenarios.SCENARIOS:
        for n in ns:
            with make(n) as sc:
                entry: dict[str, Any] = {"name": sc.name, "n": n, "backend": sc.backend, "note": sc.note,
                                         "detection": {}, "false_positives": {}, "frontrun": {}}
                methods: dict[str, Any] = {
                    "plain threads (no barrier)": lambda seed, n=n: hand_threads(sc.buggy, n, trials, sc.setup, sc.found, False, sc.args),
                    "threads + barrier": lambda seed, n=n: hand_threads(sc.buggy, n, trials, sc.setup, sc.found, True, sc.args),
                }
                for s in STRATEGIES:
                    methods[f"racecheck {s}"] = lambda seed, s=s, n=n: racecheck_once(sc, sc.buggy, n, trials, s, seed)
                for label, fn in methods.items():
                    recs = [fn(1000 + r) for r in range(runs)]
                    summ = summarize_detection(recs)
                    entry["detection"][label] = summ
                    log(f"  detection n={n} {label}: {summ['found']}/{summ['runs']} "
                        f"median trials {summ['median_trials']} wall {fmt(summ['median_wall_s'], 'ms')}")
                if n == 2 and sc.frontrun:
                    for label, variant in sc.frontrun.items():
                        buggy = label.startswith("buggy")
                        fr = frontrun_runs(sc.url, variant, runs if buggy else max(3, runs // 4))
                        entry["frontrun"][label] = frontrun_summary(fr, buggy)
                        log(f"  frontrun {label}: {entry['frontrun'][label]}")
                for fixed_name, fixed_fn in (sc.fixed.items() if n == ns[0] else ()):
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
    return out


def _ratio(a: float | None, b: float | None) -> str:
    if a is None or b is None or b == 0:
        return "—"
    return f"{a / b:.2g}×"


def markdown(res: dict[str, Any]) -> str:
    lines = [f"Each cell: {res['runs']} independent runs, each allowed up to {res['trials_budget']} trials "
             "(a trial = N triggers once, then the judge). *found* = runs that saw the bug; medians are over "
             "the runs that found it. Wall time includes the per-trial reset (DELETE of the two tables). For `hypothesis` the wall "
             "time includes shrinking the failing schedule; trials counts the examples until the first failure. "
             "frontrun rows: one `frontrun.explore()` (DPOR, count=2, stop_on_first, no reproduction replays) per "
             "run, in a subprocess under the `frontrun` wrapper; *trials* is its executions (`num_explored`); "
             "*said it holds* = it returned a pass on the buggy target (a false negative).", ""]
    for sc in res["scenarios"]:
        det = sc["detection"]
        best = min((v["median_wall_s"] for k, v in det.items() if k.startswith("racecheck") and v["median_wall_s"]
                    and v["found_fraction"] == 1.0), default=None)
        lines += [f"#### {sc['name']}, N = {sc['n']}", "", sc["note"], "",
                  "| approach | found | median trials | median wall to detection | p90 wall | vs fastest racecheck strategy (wall) |",
                  "|---|---|---|---|---|---|"]
        for label, v in det.items():
            lines.append(f"| {label} | {v['found']}/{v['runs']} | {fmt(v['median_trials'])} | "
                         f"{fmt(v['median_wall_s'], 'ms')} | {fmt(v['p90_wall_s'], 'ms')} | "
                         f"{_ratio(v['median_wall_s'], best)} |" + (f" error: {v['errors'][0]}" if v["errors"] else ""))
        for label, v in sc.get("frontrun", {}).items():
            if not label.startswith("buggy"):
                continue
            said = f" ({v['holds']} said it holds)" if v.get("holds") else ""
            said += f" ({v['inconclusive']} inconclusive)" if v.get("inconclusive") else ""
            lines.append(f"| frontrun 0.7 DPOR ({label}) | {v['found']}/{v['runs']}{said} | "
                         f"{fmt(v['median_executions'])} executions | {fmt(v['median_wall_s'], 'ms')} | — | "
                         f"{_ratio(v['median_wall_s'], best)} |" + (f" error: {v['errors'][0]}" if v["errors"] else ""))
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
        lines += [f"False positives, fixed twins, N = {sc['n']} (stress runs {res['fp_trials']} trials; the "
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
