"""Run every benchmark and write benchmarks/RESULTS.md and benchmarks/results/*.json.

    python benchmarks/run_all.py            # full (≤ 20 min on 2 cores)
    python benchmarks/run_all.py --quick    # reduced budgets: ~3 min for ours, plus the others' benches
    python benchmarks/run_all.py --quick --skip-others

Every number in RESULTS.md comes from this run. Other engineers' benchmarks
(bench_backends, bench_points, bench_reference_pair, bench_scheduling, bench_dispatch)
are called through their ``main()`` when the file exists; their output is included and
a failure is recorded, not raised.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import importlib.util
import inspect
import io
import json
import os
import platform
import subprocess
import sys
import time
import traceback
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

OTHERS = ("bench_backends", "bench_points", "bench_reference_pair", "bench_scheduling", "bench_dispatch",
          "bench_drivers", "bench_async_control", "bench_handoff", "bench_instrument", "bench_mutex_controlled",
          "bench_pg_reset", "bench_process_start", "bench_search", "bench_fork_floor")


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def _version(mod: str) -> str:
    try:
        from importlib.metadata import version

        return version(mod)
    except Exception:  # noqa: BLE001 - missing package
        return "not installed"


def machine() -> dict[str, Any]:
    cpu = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem = ""
    with contextlib.suppress(OSError):
        mem = Path("/proc/meminfo").read_text().splitlines()[0].split(":", 1)[1].strip()
    pg = redis_v = ""
    with contextlib.suppress(Exception):
        import psycopg

        from benchmarks.targets.infra import SHARED_PG
        with psycopg.connect(SHARED_PG, connect_timeout=5) as c:
            row = c.execute("SHOW server_version").fetchone()
            pg = str(row[0]) if row else ""
    with contextlib.suppress(Exception):
        redis_v = subprocess.run(["redis-server", "--version"], capture_output=True, text=True, timeout=10).stdout.strip()
    commit = ""
    with contextlib.suppress(Exception):
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT,
                                timeout=10).stdout.strip()
    return {"date_utc": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
            "host": platform.node(), "platform": platform.platform(), "cpu": cpu, "cores": os.cpu_count(),
            "memory": mem, "python": platform.python_version(), "racecheck": _version("racecheck"),
            "psycopg": _version("psycopg"), "redis_py": _version("redis"), "fakeredis": _version("fakeredis"),
            "hypothesis": _version("hypothesis"), "frontrun": _version("frontrun"), "postgres_server": pg,
            "redis_server": redis_v, "git_commit": commit, "loadavg_start": os.getloadavg()}


def run_other(name: str, quick: bool) -> dict[str, Any]:
    path = HERE / f"{name}.py"
    if not path.exists():
        return {"status": "absent"}
    t0 = time.perf_counter()
    buf = io.StringIO()
    try:
        spec = importlib.util.spec_from_file_location(f"benchmarks.{name}", path)
        assert spec is not None and spec.loader is not None
        mod = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = mod
        spec.loader.exec_module(mod)
        main = mod.main
        params = inspect.signature(main).parameters
        argv = _quick_argv(mod) if quick else []
        with contextlib.redirect_stdout(buf):
            ret = main(argv) if params else main()
        status = "ok" if ret in (None, 0) or isinstance(ret, dict) else f"main() returned {ret!r}"
    except SystemExit as exc:
        status = "ok" if exc.code in (None, 0) else f"exited {exc.code}"
    except Exception as exc:  # noqa: BLE001 - another engineer's failure is recorded, not fatal
        status = f"failed: {type(exc).__name__}: {exc}"
        buf.write("\n" + traceback.format_exc()[-3000:])
    return {"status": status, "wall_s": time.perf_counter() - t0, "output": buf.getvalue()}


def _quick_argv(mod: Any) -> list[str]:
    """--quick if the bench knows it, else a smaller --runs if it has that option."""
    src = ""
    with contextlib.suppress(OSError, TypeError):
        src = inspect.getsource(mod)
    if "--quick" in src:
        return ["--quick"]
    if '"--runs"' in src:
        return ["--runs", "5"]
    return []


def headline(det: dict[str, Any], cost: dict[str, Any]) -> list[str]:
    from benchmarks.bench_detection import STRATEGIES
    from benchmarks.targets.stats import fmt

    lines = ["| scenario | N | plain threads | threads + barrier | best racecheck strategy | frontrun 0.7 (DPOR) |",
             "|---|---|---|---|---|---|"]

    def cell(v: dict[str, Any] | None, trials_key: str = "median_trials", unit: str = "trials") -> str:
        if not v or not v.get("runs"):
            return "—"
        return (f"{v['found']}/{v['runs']} found; median {fmt(v.get(trials_key))} {unit}, "
                f"{fmt(v.get('median_wall_s'), 'ms')}")

    for sc in det["scenarios"]:
        d = sc["detection"]
        rc = [(k, v) for k, v in d.items() if k.startswith("racecheck") and v["found"]]
        best = min(rc, key=lambda kv: (-kv[1]["found"], kv[1]["median_wall_s"] or 1e9), default=None)
        fr = next((v for k, v in sc.get("frontrun", {}).items() if k == "buggy"), None)
        fr_cell = (sc.get("frontrun_na") or "not run (no driver for this scenario)") if fr is None else (
            cell(fr, "median_executions", "executions") + (f"; {fr['holds']}/{fr['runs']} said it holds"
                                                           if fr.get("holds") else "") if fr["found"] else
            (f"0/{fr['runs']} found: said it holds {fr['holds']}/{fr['runs']} (false negative)" if fr.get("holds") else
             f"0/{fr['runs']} found: {(fr['errors'] or fr['inconclusive_reasons'] or ['?'])[0][:120]}"))
        lines.append(f"| {sc['name']} | {sc['n']} | {cell(d.get('plain threads (no barrier)'))} | "
                     f"{cell(d.get('threads + barrier'))} | "
                     + (f"{best[0].split()[1]}: {cell(best[1])}" if best else "none found") + f" | {fr_cell} |")
    assert STRATEGIES
    rates = cost.get("trial_rates", {})
    cr = [f"{k} {v['stress']['trials_per_s']:.0f}/s" for k, v in rates.items()
          if "stress" in v and "trials_per_s" in v["stress"]]
    lines += ["", f"Trials per second at N = {cost.get('n')} (racecheck stress): " + ", ".join(cr) + "."]
    return lines


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="reduced budgets (a few minutes)")
    ap.add_argument("--out", default=str(HERE / "RESULTS.md"))
    ap.add_argument("--skip-others", action="store_true", help="do not call the other engineers' benchmarks")
    ap.add_argument("--render-only", action="store_true",
                    help="rewrite RESULTS.md from the last run's benchmarks/results/*.json (no measuring)")
    args = ap.parse_args(argv)
    from benchmarks import bench_cost, bench_detection, bench_scale

    if args.render_only:
        res_dir = HERE / "results"
        meta = json.loads((res_dir / "run.json").read_text())
        saved = {k: json.loads((res_dir / f"{k}.json").read_text()) for k in ("detection", "cost", "scale")}
        others_saved = json.loads((res_dir / "others.json").read_text())
        Path(args.out).write_text(render(meta, saved, others_saved, meta.get("mode") == "quick"))
        log(f"re-rendered {args.out} from {res_dir}")
        return 0

    t_start = time.perf_counter()
    meta = machine()
    meta["mode"] = "quick" if args.quick else "full"
    log(f"racecheck benchmarks ({meta['mode']}) on {meta['cores']} cores, {meta['date_utc']}")
    results: dict[str, Any] = {}
    timings: dict[str, float] = {}
    for name, mod in (("detection", bench_detection), ("cost", bench_cost), ("scale", bench_scale)):
        log(f"== {name}")
        t0 = time.perf_counter()
        try:
            results[name] = mod.run(quick=args.quick, log=log)
        except Exception as exc:  # noqa: BLE001 - one failing bench does not lose the others
            results[name] = {"error": f"{type(exc).__name__}: {exc}", "traceback": traceback.format_exc()[-3000:]}
        timings[name] = time.perf_counter() - t0
        (HERE / "results").mkdir(exist_ok=True)
        (HERE / "results" / f"{name}.json").write_text(json.dumps(results[name], indent=1, default=str))
    others: dict[str, Any] = {}
    if not args.skip_others:
        for name in OTHERS:
            log(f"== {name}")
            others[name] = run_other(name, args.quick)
            log(f"   {others[name]['status']}")
    from benchmarks.targets import infra

    infra.close_all()
    (HERE / "results" / "others.json").write_text(json.dumps(others, indent=1, default=str))
    meta["loadavg_end"] = os.getloadavg()
    meta["backends_note"] = _backends_note(results)
    meta["total_wall_s"] = time.perf_counter() - t_start
    meta["section_wall_s"] = timings
    (HERE / "results" / "run.json").write_text(json.dumps(meta, indent=1, default=str))
    Path(args.out).write_text(render(meta, results, others, args.quick))
    log(f"wrote {args.out} in {meta['total_wall_s']:.0f} s")
    return 0


def _backends_note(results: dict[str, Any]) -> str:
    b = results.get("cost", {}).get("backends", {})
    pg = b.get("postgres", {}).get("provider", "?")
    rd = b.get("redis", {}).get("provider", "?")
    return f"Postgres from {pg}, Redis from {rd}"


def render(meta: dict[str, Any], results: dict[str, Any], others: dict[str, Any], quick: bool) -> str:
    from benchmarks import bench_cost, bench_detection, bench_scale

    cmd = "python benchmarks/run_all.py" + (" --quick" if quick else "")
    la0 = ", ".join(f"{x:.2f}" for x in meta["loadavg_start"])
    la1 = ", ".join(f"{x:.2f}" for x in meta["loadavg_end"])
    out = [
        "# racecheck benchmarks", "",
        f"Generated by `{cmd}` ({meta['mode']} budgets) on {meta['date_utc']}, commit {meta['git_commit']}, "
        f"in {meta['total_wall_s'] / 60:.1f} min. Every number below comes from that run; the raw data is in "
        "`benchmarks/results/*.json`.", "",
        f"**Machine:** {meta['cpu']}, {meta['cores']} cores, {meta['memory']} RAM; {meta['platform']}; "
        f"Python {meta['python']}; PostgreSQL {results.get('cost', {}).get('backends', {}).get('postgres_version') or meta['postgres_server']}, {meta['redis_server'].split(' sha=')[0]} "
        f"(servers: {meta.get('backends_note', '')}); racecheck "
        f"{meta['racecheck']}, psycopg {meta['psycopg']}, redis-py {meta['redis_py']}, fakeredis "
        f"{meta['fakeredis']}, Hypothesis {meta['hypothesis']}, frontrun {meta['frontrun']}.", "",
        f"**Caveat:** the machine has {meta['cores']} cores (host `{meta['host']}`; load average {la0} at the start, "
        f"{la1} at the end). Absolute times are noisy; prefer the ratios, which were measured side by side in "
        "the same run.", "",
    ]
    det, cost, scale = results.get("detection", {}), results.get("cost", {}), results.get("scale", {})
    out += ["## Headline", ""]
    if "scenarios" in det and "trial_rates" in cost:
        out += headline(det, cost)
    else:
        out.append("Headline unavailable: " + str(det.get("error") or cost.get("error")))
    shows = HERE / "what_this_shows.md"
    if shows.exists():
        out += ["", "## What this shows", "", shows.read_text().strip()]
    out += ["", "## 1. Detection", ""]
    out += [bench_detection.markdown(det) if "scenarios" in det else f"failed: {det.get('error')}\n\n```\n{det.get('traceback', '')}\n```"]
    if det.get("fault_scenarios"):
        out += ["", "### Seed incidents that need a fault or mode only racecheck has", "",
                bench_detection.faults_markdown(det), ""]
    out += ["", "### What frontrun 0.7 can express of the seed incidents", "",
            "frontrun was run as a subprocess under its `frontrun` wrapper (LD_PRELOAD of `libfrontrun_io.so`): "
            "without it `frontrun.explore()` refuses to run (`RuntimeError: frontrun.explore() requires the "
            "frontrun CLI environment`). racecheck ran in-process, no wrapper, INSERT unchanged. frontrun's "
            "buggy twin used `INSERT ... RETURNING id` as its docs ask; the unchanged INSERT is measured too.", "",
            bench_detection.expressibility_markdown(), ""]
    out += ["## 2. False positives", "",
            "See the *False positives* tables under each scenario above: every fixed twin, every strategy, "
            "violating trials counted over the whole budget (no stop on failure).", ""]
    out += ["## 3. Cost", ""]
    out += [bench_cost.markdown(cost) if "trial_rates" in cost else f"failed: {cost.get('error')}\n\n```\n{cost.get('traceback', '')}\n```"]
    out += ["", "## 4. Scale", ""]
    out += [bench_scale.markdown(scale) if "threads" in scale else f"failed: {scale.get('error')}\n\n```\n{scale.get('traceback', '')}\n```"]
    out += ["", "## 5. Other benchmarks (called through their `main()`)", ""]
    for name in OTHERS:
        o = others.get(name)
        if o is None:
            out.append(f"- `{name}`: not run (--skip-others)")
            continue
        if o["status"] == "absent":
            out.append(f"- `{name}`: not present in this commit")
            continue
        out += ["", f"### {name} — {o['status']} ({o['wall_s']:.0f} s)", "", "```", o["output"].rstrip()[-6000:], "```"]
    out += ["", "## Sections' wall time", "",
            ", ".join(f"{k}: {v:.0f} s" for k, v in meta["section_wall_s"].items()), ""]
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    sys.exit(main())
