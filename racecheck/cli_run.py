"""`racecheck run`: run scenario files, print each outcome and the summary, write the reports.

Ctrl-C (or SIGTERM) stops the run but keeps the summary of the scenarios that finished and
writes ``--json``/``--junit`` for them; ``-j N`` runs each scenario in its own process.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from .cli_common import exit_code as _exit_code


def cmd_run(args: argparse.Namespace) -> int:
    from .cli_output import Console, make_console
    from .scenario.execute import ScenarioOutcome, error_outcome
    from .scenario.loader import LoadedScenario, ScenarioError, load_paths

    if args.jobs < 1:
        print("racecheck: -j/--jobs must be >= 1", file=sys.stderr)
        return 2
    overrides = {k: v for k, v in (("trials", args.trials), ("seed", args.seed)) if v is not None}
    progress = args.progress if args.progress is not None else sys.stderr.isatty()
    con = make_console(sys.stdout, sys.stderr, progress, lambda: Console(sys.stdout, sys.stderr, progress))
    results = load_paths(args.paths)
    if args.shard:
        from .shard import in_shard, parse_shard

        try:
            shard = parse_shard(args.shard)
        except ValueError as exc:
            print(f"racecheck: {exc}", file=sys.stderr)
            return 2
        results = [r for r in results if in_shard(r.file, getattr(r, "name", None), args.paths, shard)]
    from .example_db import from_setting, scenario_key, scenario_note, uses_examples

    db = from_setting(args.example_db, os.getcwd())
    db_root = str(db.root) if db is not None else None
    outcomes: list[ScenarioOutcome | None] = [None] * len(results)
    todo: list[tuple[int, LoadedScenario]] = []
    saved: dict[int, tuple[str, list[str]]] = {}  # scenario -> (its key, its saved examples before the run)
    for i, r in enumerate(results):
        if isinstance(r, ScenarioError):
            outcomes[i] = error_outcome(r)
            con.print(outcomes[i].line_text())  # type: ignore[union-attr]
        else:
            todo.append((i, r))
            if db is not None and uses_examples(r.spec.expect, r.file):
                key = scenario_key(r.file, r.name)
                saved[i] = (key, db.load(key))
    running: dict[int, str] = {}
    t0 = time.monotonic()
    done = [len(results) - len(todo)]
    stopping = threading.Event()  # set on Ctrl-C: outcomes that arrive later are not counted
    lock = threading.Lock()

    def status() -> str:
        names = ", ".join(list(running.values())[:3]) + (" ..." if len(running) > 3 else "")
        return f"[{done[0]}/{len(results)}] {time.monotonic() - t0:.0f}s running: {names}"

    def finished(i: int, o: ScenarioOutcome) -> None:
        with lock:
            if stopping.is_set():
                return
            outcomes[i] = o
            running.pop(i, None)
            done[0] += 1
        con.print(o.line_text())
        if o.status == "unexpected-violation" and o.report:
            con.print("\n".join("    " + line for line in o.report.splitlines()) + "\n")
        if o.html:
            con.print(f"       HTML timeline: {os.path.abspath(o.html)}")
        if db is not None and i in saved:
            note = scenario_note(db, saved[i][0], saved[i][1], o.result_dict)
            if note:
                con.print(f"       {note}")

    from .scenario.children import Children, Interrupted, terminate_as_interrupt

    children = Children()  # the -j N scenario processes, stopped together on Ctrl-C or SIGTERM
    terminate_as_interrupt()  # SIGTERM stops the run like Ctrl-C: summary and reports kept
    interrupted = False
    con.start(status, lambda: (done[0], len(results)))
    try:
        if args.jobs == 1 or len(todo) <= 1:
            from .scenario.execute import run_scenario

            for i, loaded in todo:
                running[i] = loaded.name
                finished(i, run_scenario(loaded, profile=args.profile, report_dir=args.report_dir,
                                         overrides=overrides, example_db=db_root))
        else:
            def one(item: tuple[int, LoadedScenario]) -> None:
                i, loaded = item
                if stopping.is_set():
                    return
                running[i] = loaded.name
                try:
                    finished(i, _run_in_child(loaded, args.profile, args.report_dir, overrides, children, db_root))
                except Interrupted:
                    running.pop(i, None)

            pool = ThreadPoolExecutor(max_workers=args.jobs)
            try:
                for fut in [pool.submit(one, item) for item in todo]:
                    fut.result()
            except BaseException:
                stopping.set()
                children.stop()
                raise
            finally:
                pool.shutdown(wait=True, cancel_futures=True)
    except KeyboardInterrupt:
        stopping.set()
        interrupted = True
        children.stop()
    finally:
        con.stop()
    final = [o for o in outcomes if o is not None]
    _print_summary(con, final, time.monotonic() - t0)
    if interrupted:
        con.print(f"interrupted: {len(final)} of {len(results)} scenario(s) finished; the others were not run "
                  "or cut short and are not in the summary or the reports")
    _write_reports(args, final)
    code = 130 if interrupted else _exit_code([o.exit_code for o in final])
    con.print(f"exit {code}")
    return code


def _print_summary(con: Any, final: Sequence[Any], elapsed: float) -> None:
    from .cli_output import is_rich, rich_summary, stdout_is_rich, summary_footer

    plain = summary_table(final) + f"\ntotal time {elapsed:.1f}s"
    con.print()
    if is_rich(con) and stdout_is_rich():
        con.print_renderable(rich_summary(final, summary_footer(plain)))
    else:
        con.print(plain)


def _run_in_child(loaded: Any, profile: str, report_dir: str | None, overrides: dict[str, Any],
                  children: Any, example_db: str | None = None) -> Any:
    from .scenario.execute import ScenarioOutcome, infra_outcome

    job = {"file": str(loaded.file), "index": loaded.index, "profile": profile,
           "report_dir": report_dir, "overrides": overrides,
           "example_db": os.path.abspath(example_db) if example_db else None}
    with tempfile.TemporaryDirectory(prefix="racecheck-cli-") as tmp:
        job_path, out_path = Path(tmp, "job.json"), Path(tmp, "out.json")
        job_path.write_text(json.dumps(job), encoding="utf-8")
        code, stdout, stderr = children.run([sys.executable, "-m", "racecheck.scenario.child", str(job_path),
                                             str(out_path)])
        if out_path.exists():
            return ScenarioOutcome.from_portable(json.loads(out_path.read_text(encoding="utf-8")))
    tail = (stderr or stdout).strip().splitlines()[-1:] or ["no output"]
    return infra_outcome(loaded, f"the scenario's worker process exited with {code}: {tail[0]}")


def summary_table(outcomes: Sequence[Any]) -> str:
    rows = [("scenario", "expect", "status", "trials", "time", "where")]
    for o in outcomes:
        status = o.status if o.status != "error" else f"error ({o.error_kind})"
        trials = f"{o.trials_run}/{o.trials_requested}" if o.trials_requested else "-"
        name = o.scenario + (" [EMULATED]" if getattr(o, "emulated", None) else "")
        rows.append((name, o.expect, status, trials, f"{o.elapsed:.1f}s", o.where))
    widths = [max(len(r[c]) for r in rows) for c in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    n_ok = sum(o.ok for o in outcomes)
    n_bad = sum(o.exit_code == 1 for o in outcomes)
    n_input = sum(o.exit_code == 2 for o in outcomes)
    n_infra = sum(o.exit_code == 3 for o in outcomes)
    n_inconclusive = sum(o.exit_code == 4 for o in outcomes)
    lines.append(f"{len(outcomes)} scenario(s): {n_ok} as expected, {n_bad} unexpected, "
                 f"{n_input} bad input, {n_infra} infrastructure/error, {n_inconclusive} inconclusive")
    from .backends.info import backends_text, merge_infos

    lines.append("backends: " + (backends_text(merge_infos([getattr(o, "backends", None) for o in outcomes]))
                                 or "none"))
    return "\n".join(lines)


def _write_reports(args: argparse.Namespace, outcomes: Sequence[Any]) -> None:
    dicts = [o.to_dict() for o in outcomes]
    for opt, fn_name in ((args.json, "write_json"), (args.junit, "write_junit")):
        if not opt:
            continue
        try:
            import racecheck.report as rep

            writer = getattr(rep, fn_name)
        except (ImportError, AttributeError):
            if fn_name == "write_json":
                Path(opt).write_text(json.dumps({"scenarios": [o.portable() for o in outcomes]}, indent=2,
                                                default=repr) + "\n", encoding="utf-8")
                print(f"wrote {opt} (minimal format: racecheck.report is not available)", file=sys.stderr)
            else:
                print(f"racecheck: --junit needs racecheck.report, which is not available; {opt} not written",
                      file=sys.stderr)
            continue
        writer(dicts, opt)
        print(f"wrote {opt}", file=sys.stderr)
