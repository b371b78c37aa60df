"""Targets for the scenario tests: tiny, in-memory and fast."""

from __future__ import annotations

import threading

import racecheck

_claims: dict[str, int | None] = {}
_lock = threading.Lock()


def noop() -> None:
    """A trigger that does nothing (for scenarios that only need to validate or pass)."""


def reset() -> None:
    _claims.clear()


def spawn(job: str) -> None:
    """The spied side effect."""


def claim_buggy(job: str = "job") -> None:
    if job not in _claims:
        racecheck.point("checked")
        _claims[job] = racecheck.current_worker()
        spawn(job)


def claim_fixed(job: str = "job") -> None:
    racecheck.point("checked")  # a switch point, outside the lock: the lock makes the claim atomic
    with _lock:
        if job in _claims:
            return
        _claims[job] = racecheck.current_worker()
    spawn(job)


def always_false(history: object) -> bool:
    """A custom check that always fails."""
    return False
