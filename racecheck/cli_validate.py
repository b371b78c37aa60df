"""`racecheck validate` (check scenario files without running them) and `racecheck schema`."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


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


def cmd_schema(args: argparse.Namespace) -> int:
    from .scenario.schema import json_schema

    text = json.dumps(json_schema(), indent=2) + "\n"
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 0
