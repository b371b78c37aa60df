"""`racecheck merge`: the shards' JSON (and JUnit) reports as one (see docs/scale-out.md)."""

from __future__ import annotations

import argparse
import sys

from .cli_common import exit_code as _exit_code


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
