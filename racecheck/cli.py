"""The ``racecheck`` command: run, replay and validate YAML scenarios; list backends.

A thin layer over :mod:`racecheck.scenario`; see ``racecheck --help`` and docs/scenarios.md.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TextIO

EXIT_CODES = """\
exit codes:
  0  every scenario behaved as expected (expect: pass passed, expect: violation was caught)
  1  a violation where none was expected, an unexpected pass, or a replay that did not reproduce
  2  bad input or usage: a scenario file that does not validate, a bad option
  3  infrastructure or error: no backend could be provided, a worker or server could not start,
     racecheck itself failed in a trial (an invariant or setup raised)
  4  inconclusive: no violation, but the run could not have shown one (no scheduling point
     reached, a fault that never fired, an effect never recorded, no trigger body ran);
     the reasons are printed, see docs/verdicts.md
when several apply, the highest-priority one wins: 2, then 3, then 1, then 4.
"""


VALIDATE_EXIT_CODES = """\
exit codes:
  0  every scenario file is valid (loads, its target imports, its options check)
  2  at least one scenario file does not validate (each error is printed with its place)
"""

BACKENDS_EXIT_CODES = """\
exit codes:
  0  every kind (PostgreSQL, Redis) has a provider that would be used
  2  a RACECHECK_* setting points at nothing usable (printed with the fix)
  3  a kind has no provider at all (the fixes are listed above the => line)
"""


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("racecheck")
    except PackageNotFoundError:
        from . import __version__

        return __version__


def _exit_code(codes: Sequence[int]) -> int:
    for c in (2, 3, 1, 4):
        if c in codes:
            return c
    return 0


# -- output --------------------------------------------------------------------------------------
class Console:
    """Result lines on stdout; a progress line on stderr that result lines erase first."""

    def __init__(self, out: TextIO, err: TextIO, progress: bool) -> None:
        self.out, self.err, self.progress = out, err, progress
        self.lock = threading.Lock()
        self.status: Callable[[], str] | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._shown = False

    def print(self, text: str = "") -> None:
        with self.lock:
            self._clear()
            try:
                print(text, file=self.out, flush=True)
            except BrokenPipeError:  # `racecheck run ... | head`: keep running, stop printing
                self.out = open(os.devnull, "w")  # noqa: SIM115 - lives as long as the console
            self._draw()

    def _clear(self) -> None:
        if self._shown:
            self.err.write("\r\x1b[K")
            self.err.flush()
            self._shown = False

    def _draw(self) -> None:
        if self.progress and self.status is not None and not self._stop.is_set():
            self.err.write("\r" + self.status()[:150])
            self.err.flush()
            self._shown = True

    def start(self, status: Callable[[], str], counts: Callable[[], tuple[int, int]] | None = None) -> None:
        self.status = status
        if not self.progress:
            return

        def tick() -> None:
            while not self._stop.wait(1.0):
                with self.lock:
                    self._clear()
                    self._draw()

        self._thread = threading.Thread(target=tick, name="racecheck-progress", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        with self.lock:
            self._clear()


# -- run -------------------------------------------------------------------------------------------
def cmd_run(args: argparse.Namespace) -> int:
    from .cli_output import make_console
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
    outcomes: list[ScenarioOutcome | None] = [None] * len(results)
    todo: list[tuple[int, LoadedScenario]] = []
    for i, r in enumerate(results):
        if isinstance(r, ScenarioError):
            outcomes[i] = error_outcome(r)
            con.print(outcomes[i].line_text())  # type: ignore[union-attr]
        else:
            todo.append((i, r))
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
                                         overrides=overrides))
        else:
            def one(item: tuple[int, LoadedScenario]) -> None:
                i, loaded = item
                if stopping.is_set():
                    return
                running[i] = loaded.name
                try:
                    finished(i, _run_in_child(loaded, args.profile, args.report_dir, overrides, children))
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
                  children: Any) -> Any:
    from .scenario.execute import ScenarioOutcome, infra_outcome

    job = {"file": str(loaded.file), "index": loaded.index, "profile": profile,
           "report_dir": report_dir, "overrides": overrides}
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


# -- merge -----------------------------------------------------------------------------------------
def cmd_merge(args: argparse.Namespace) -> int:
    from .shard import load_json_reports, merge_junit, outcome_exit

    jsons = [p for p in args.reports if p.endswith(".json")]
    xmls = [p for p in args.reports if p.endswith(".xml")]
    other = [p for p in args.reports if p not in jsons and p not in xmls]
    if other:
        print(f"racecheck: merge takes *.json and *.xml reports, not {', '.join(other)}", file=sys.stderr)
        return 2
    try:
        scenarios = load_json_reports(jsons)
        if args.junit and xmls:
            merge_junit(xmls, args.junit)
            print(f"wrote {args.junit}", file=sys.stderr)
    except ValueError as exc:
        print(f"racecheck: {exc}", file=sys.stderr)
        return 2
    if args.json:
        from .report import write_json

        write_json(scenarios, args.json)
        print(f"wrote {args.json}", file=sys.stderr)
    if args.junit and not xmls and jsons:
        from .report import write_junit

        write_junit(scenarios, args.junit)
        print(f"wrote {args.junit}", file=sys.stderr)
    codes = [outcome_exit(s) for s in scenarios]
    n_ok = codes.count(0)
    print(f"{len(scenarios)} scenario(s) from {len(jsons)} report(s): {n_ok} as expected, "
          f"{len(scenarios) - n_ok} not")
    code = _exit_code(codes) if 4 not in codes or any(c in codes for c in (1, 2, 3)) else 4
    print(f"exit {code}")
    return code


# -- replay ----------------------------------------------------------------------------------------
def cmd_replay(args: argparse.Namespace) -> int:
    from .errors import ConfigError, DidNotReproduce, InfrastructureError
    from .runner import replay
    from .scenario.build import prepared
    from .scenario.execute import emulated_backends
    from .scenario.loader import LoadedScenario, ScenarioError, load_file

    if args.times < 1:
        print("racecheck: --times must be >= 1", file=sys.stderr)
        return 2
    results = load_file(args.scenario)
    loaded = [r for r in results if isinstance(r, LoadedScenario)]
    chosen = [r for r in loaded if args.name is None or r.name == args.name]
    errors = [r for r in results if isinstance(r, ScenarioError) and (args.name is None or r.name == args.name)]
    if errors and not chosen:
        print(errors[0], file=sys.stderr)
        return 2
    if len(chosen) != 1:
        names = ", ".join(r.name for r in loaded) or "none"
        what = f"no scenario named {args.name!r}" if args.name else "several scenarios"
        print(f"racecheck: {args.scenario}: {what} in the file (scenarios: {names}); pick one with --name",
              file=sys.stderr)
        return 2
    scenario = chosen[0]
    try:
        with prepared(scenario) as plan:
            opts = {k: v for k, v in plan.options.items() if k not in ("n", "seed", "strategy", "trials", "schedule")}
            emulated = emulated_backends(opts.get("backends") or {})
            if emulated:
                print(f"EMULATED: {', '.join(emulated)} (not the real server)")
            rep = replay(plan.target, args.schedule, times=args.times, **opts)
    except ScenarioError as err:
        print(err, file=sys.stderr)
        return 2
    except DidNotReproduce as exc:
        print(f"reproduced 0/{args.times}: did not reproduce ({exc})")
        return 1
    except (ConfigError, ValueError) as exc:
        print(f"racecheck: {args.scenario}: {exc}", file=sys.stderr)
        return 2
    except InfrastructureError as exc:
        print(f"racecheck: infrastructure: {exc}", file=sys.stderr)
        return 3
    print(f"reproduced {rep.reproduced}/{rep.times}")
    if rep.result is not None:
        print(rep.result.report())
    return 0


# -- validate, backends, schema ----------------------------------------------------------------------
def cmd_validate(args: argparse.Namespace) -> int:
    from .scenario.build import check_scenario as check
    from .scenario.loader import ScenarioError, load_paths

    bad = 0
    results = load_paths(args.paths)
    for r in results:
        if isinstance(r, ScenarioError):
            print(r)
            bad += 1
            continue
        try:
            check(r)
        except ScenarioError as err:
            print(err)
            bad += 1
            continue
        print(f"ok     {r.where}: {r.name}")
    print(f"{len(results)} scenario(s), {bad} with errors")
    return 2 if bad else 0


def cmd_backends(args: argparse.Namespace) -> int:
    try:
        from .backends import describe_providers  # type: ignore[attr-defined]
    except ImportError as exc:
        print(f"racecheck: the backends package is not available ({exc})", file=sys.stderr)
        return 3
    try:
        text = describe_providers()
    except Exception as exc:  # noqa: BLE001 - describing must not print a traceback
        print(f"racecheck: could not describe the backends: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 3
    if isinstance(text, list | tuple):
        text = "\n".join(str(x) for x in text)
    print(text)
    from .drivers import describe_drivers

    print(describe_drivers())
    from .cli_backends import backends_exit_code

    return backends_exit_code()


def cmd_schema(args: argparse.Namespace) -> int:
    from .scenario.schema import json_schema

    text = json.dumps(json_schema(), indent=2) + "\n"
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 0


# -- parser ------------------------------------------------------------------------------------------
def build_parser() -> argparse.ArgumentParser:
    fmt = argparse.RawDescriptionHelpFormatter
    p = argparse.ArgumentParser(prog="racecheck", description="Run racecheck scenarios (YAML) from the command line.",
                                epilog=EXIT_CODES, formatter_class=fmt)
    p.add_argument("--providers", help="backend providers to try, in order (sets RACECHECK_PROVIDERS), "
                                       "e.g. 'local,embedded'")
    p.add_argument("--version", action="version", version=f"racecheck {_version()}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", required=True)

    r = sub.add_parser("run", help="run scenario files or folders (*.race.yaml)", epilog=EXIT_CODES,
                       formatter_class=fmt)
    r.add_argument("paths", nargs="+", metavar="PATH", help="scenario files or folders")
    r.add_argument("-j", "--jobs", type=int, default=1, help="scenarios run at once, each in its own process")
    r.add_argument("--profile", choices=("fast", "thorough"), default="fast",
                   help="thorough runs each scenario's thorough_trials (default: 10x trials)")
    r.add_argument("--trials", type=int, help="override every scenario's trials")
    r.add_argument("--seed", type=int, help="override every scenario's seed")
    r.add_argument("--json", metavar="PATH", help="write the JSON report here")
    r.add_argument("--junit", metavar="PATH", help="write JUnit XML here")
    r.add_argument("--report-dir", metavar="DIR", help="write an HTML timeline per failing trial here")
    r.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                   help="show a progress line on stderr (default: when stderr is a terminal)")
    r.add_argument("--shard", metavar="K/N", help="run only shard K of N (a stable split by each scenario's "
                                                 "path under PATH and its name; see docs/scale-out.md)")
    r.add_argument("--providers", help=argparse.SUPPRESS, default=None, dest="sub_providers")
    r.add_argument("--allow-reset", action="store_true", default=False,
                   help="let racecheck reset (FLUSHDB / DROP DATABASE) the databases named by "
                        "RACECHECK_REDIS_URL / RACECHECK_POSTGRES_URL, servers it did not start "
                        "(sets RACECHECK_ALLOW_RESET=1; see docs/backends.md)")
    r.set_defaults(func=cmd_run)

    mg = sub.add_parser("merge", help="merge the JSON (and JUnit) reports of shards into one",
                        epilog=EXIT_CODES, formatter_class=fmt)
    mg.add_argument("reports", nargs="+", metavar="REPORT", help="the shards' --json files (*.json) "
                                                                "and/or --junit files (*.xml)")
    mg.add_argument("--json", metavar="PATH", help="write the merged JSON report here")
    mg.add_argument("--junit", metavar="PATH", help="write the merged JUnit XML here")
    mg.set_defaults(func=cmd_merge)

    rp = sub.add_parser("replay", help="replay a recorded schedule of a scenario K times", epilog=EXIT_CODES,
                        formatter_class=fmt)
    rp.add_argument("scenario", metavar="SCENARIO", help="the scenario file")
    rp.add_argument("schedule", metavar="SCHEDULE", help="the schedule string 'rc1:...' from a report")
    rp.add_argument("--times", type=int, default=10, help="how many replays (default 10)")
    rp.add_argument("--name", help="the scenario's name when the file holds several")
    rp.add_argument("--providers", help=argparse.SUPPRESS, default=None, dest="sub_providers")
    rp.set_defaults(func=cmd_replay)

    v = sub.add_parser("validate", help="check scenario files without running them",
                       epilog=VALIDATE_EXIT_CODES, formatter_class=fmt)
    v.add_argument("paths", nargs="+", metavar="PATH")
    v.set_defaults(func=cmd_validate)

    b = sub.add_parser("backends", help="show which backend providers are available",
                       epilog=BACKENDS_EXIT_CODES, formatter_class=fmt)
    b.add_argument("--providers", help=argparse.SUPPRESS, default=None, dest="sub_providers")
    b.set_defaults(func=cmd_backends)

    s = sub.add_parser("schema", help="print the JSON Schema of scenario files")
    s.add_argument("-o", "--output", metavar="PATH", help="write it to PATH instead")
    s.set_defaults(func=cmd_schema)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse: --help (0) or a usage error (2)
        return int(exc.code or 0) if not isinstance(exc.code, str) else 2
    providers = getattr(args, "sub_providers", None) or args.providers
    if providers:
        os.environ["RACECHECK_PROVIDERS"] = providers
    if getattr(args, "allow_reset", False):
        os.environ.setdefault("RACECHECK_ALLOW_RESET", "1")  # a narrower list in the env stays
    from .redact import RedactingStream

    saved = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = RedactingStream(sys.stdout), RedactingStream(sys.stderr)  # type: ignore[assignment]
    try:
        return int(args.func(args))
    except KeyboardInterrupt:
        print("racecheck: interrupted", file=sys.stderr)
        return 130
    finally:
        sys.stdout, sys.stderr = saved


if __name__ == "__main__":
    sys.exit(main())
