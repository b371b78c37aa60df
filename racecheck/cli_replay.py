"""`racecheck replay`: replay a recorded schedule of one scenario K times and say how often it reproduced."""

from __future__ import annotations

import argparse
import sys


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
