"""Tiny in-memory targets for the example scenarios: a check-then-act claim, buggy and fixed.

A claim marks a job as taken in a shared dict and then "spawns" its worker (the side
effect). The buggy version checks and then writes without a lock, so two triggers can
both see the job free and both spawn; the fixed version holds a lock across both steps.
"""

from __future__ import annotations

import threading

import racecheck

_claims: dict[str, int | None] = {}
_lock = threading.Lock()


def reset() -> None:
    """Setup step: forget every claim before a trial."""
    _claims.clear()


def spawn(job: str) -> None:
    """The side effect (spied in the scenarios: each call is one 'spawn' effect)."""


def claim_buggy(job: str = "job-1") -> bool:
    """Check, then act: a second trigger can slip in between the two."""
    if job in _claims:
        return False
    racecheck.point("checked")
    _claims[job] = racecheck.current_worker()
    spawn(job)
    return True


def claim_fixed(job: str = "job-1") -> bool:
    """The same claim with the check and the write under one lock."""
    racecheck.point("checked")  # a switch point, outside the lock: the lock makes the claim atomic
    with _lock:
        if job in _claims:
            return False
        _claims[job] = racecheck.current_worker()
    spawn(job)
    return True


def flaky(job: str = "job-1") -> bool:
    """Raises for worker 0: a target the default no_exceptions invariant catches."""
    if racecheck.current_worker() == 0:
        raise RuntimeError(f"could not claim {job}")
    return True
