"""Reports what the environment looked like at import and at trigger time (scrub_env tests)."""

from __future__ import annotations

import os

import racecheck

AT_IMPORT = os.environ.get("RACECHECK_PROBE_VAR")


def trigger() -> None:
    """Record RACECHECK_PROBE_VAR as seen at import and now."""
    racecheck.effect("at_import", key=str(AT_IMPORT))
    racecheck.effect("at_trigger", key=str(os.environ.get("RACECHECK_PROBE_VAR")))


def trigger_around_point() -> None:
    """Record RACECHECK_PROBE_VAR before and after the point ``probe``."""
    racecheck.effect("before_point", key=str(os.environ.get("RACECHECK_PROBE_VAR")))
    racecheck.point("probe")
    racecheck.effect("after_point", key=str(os.environ.get("RACECHECK_PROBE_VAR")))
