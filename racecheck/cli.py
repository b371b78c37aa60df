"""The ``racecheck`` command: run, replay and validate YAML scenarios; list backends.

A thin layer over :mod:`racecheck.scenario`; see ``racecheck --help`` and docs/scenarios.md.
This module holds the parser and ``main``; each subcommand lives in its own module:
``cli_run`` (run), ``cli_merge`` (merge), ``cli_replay`` (replay), ``cli_validate`` (validate,
schema) and ``cli_backends`` (backends); ``cli_output`` is the terminal output.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from .cli_backends import cmd_backends
from .cli_common import version as _version
from .cli_merge import cmd_merge
from .cli_replay import cmd_replay
from .cli_run import cmd_run
from .cli_validate import cmd_schema, cmd_validate

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
    r.add_argument("--example-db", metavar="DIR", default=None,
                   help="folder of saved failing schedules, replayed first for scenarios that expect pass "
                        "(default .racecheck in the working directory or RACECHECK_EXAMPLE_DB; 'off' disables "
                        "it; see docs/example-database.md)")
    r.add_argument("--no-example-db", dest="example_db", action="store_const", const="off",
                   help="neither replay nor save failing schedules (same as --example-db=off)")
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
