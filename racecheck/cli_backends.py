"""`racecheck backends`: the exit code and the up-front problems after the provider table."""

from __future__ import annotations

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
