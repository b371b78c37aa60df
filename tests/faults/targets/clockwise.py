"""A lease checked against the wall clock (fooled by a clock jump) or the monotonic clock (not fooled)."""

from __future__ import annotations

import time

import racecheck


def lease_by_wall_clock(ttl: float = 60.0) -> str:
    """Buggy: the deadline is wall-clock time, so a clock jump ends the lease early."""
    deadline = time.time() + ttl
    racecheck.point("working")
    if time.time() > deadline:
        racecheck.effect("lease_lost", shift=round(time.time() - deadline))
        return "lost"
    return "kept"


def lease_by_monotonic(ttl: float = 60.0) -> str:
    """Correct: elapsed time is measured on the monotonic clock."""
    deadline = time.monotonic() + ttl
    racecheck.point("working")
    if time.monotonic() > deadline:
        racecheck.effect("lease_lost")
        return "lost"
    return "kept"
