"""Targets for the warm-template tests: module state that must be fresh in every process of every trial."""

from __future__ import annotations

import os

import racecheck

IMPORTED_IN = os.getpid()  # the process that imported this module (the template, when forked)
CALLS: dict[str, int] = {}  # module state: must be empty when every trigger starts
SEEN: dict[str, bool] = {}


def count_calls(worker: int) -> dict[str, object]:
    """Return what this process's module state looked like when the trigger started, then change it."""
    before = dict(CALLS)
    CALLS["n"] = CALLS.get("n", 0) + 1
    racecheck.point("counted")
    return {"before": before, "pid": os.getpid(), "imported_in": IMPORTED_IN,
            "probe": os.environ.get("RACECHECK_SPEED_PROBE")}


def dedup(key: str = "pr-7@abc") -> str:
    """The seed-002 bug: a module-level dict as the dedup, which each process has its own copy of."""
    if SEEN.get(key):
        return "duplicate"
    SEEN[key] = True
    racecheck.effect("spawn", key=key)
    return "spawned"


def notify(worker: int) -> None:
    """Spied in one run, not in the next."""


def audit(worker: int) -> None:
    """Spied in the other run."""


def call_both(worker: int) -> None:
    notify(worker)
    audit(worker)


def effect_per_trigger(worker: int) -> int:
    """Record one effect keyed by this process: a trial's history holds exactly one per worker."""
    racecheck.effect("ran", key=f"{worker}-{os.getpid()}")
    racecheck.point("after")
    return os.getpid()
