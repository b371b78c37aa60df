"""`racecheck backends`: the provider table, then the up-front problems and the exit code."""

from __future__ import annotations

import argparse
import sys


def backends_exit_code() -> int:
    """Print bad settings and missing drivers; 2 for a bad setting, 3 when a kind has no provider."""
    from .backends.providers import KINDS, LAST_REPORTS, plan
    from .backends.settings import driver_error, setting_errors

    bad = setting_errors()
    for line in bad:
        print(f"racecheck: {line}", file=sys.stderr)
    for kind in KINDS:
        missing = driver_error(kind)
        if missing:
            print(f"racecheck: {missing}", file=sys.stderr)
    if bad:
        return 2
    for kind in KINDS:
        reports = LAST_REPORTS.get(kind) or plan(kind)
        if not any(r.used or r.status == "would use" for r in reports):
            return 3
    return 0


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
    return backends_exit_code()
