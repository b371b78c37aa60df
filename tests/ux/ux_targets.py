"""Small in-memory targets for the ux tests: a check-then-act dispatcher, buggy and fixed."""

from __future__ import annotations

import threading

import racecheck

_claims: dict[str, int] = {}
_lock = threading.Lock()


def reset() -> None:
    _claims.clear()


def spawn(job: str) -> None:
    """The side effect (spied: each call is one 'spawn' effect)."""


def buggy(job: str = "job-1") -> bool:
    racecheck.point("check")
    if job in _claims:
        return False
    racecheck.point("claim")
    _claims[job] = racecheck.current_worker()
    spawn(job)
    return True


def fixed(job: str = "job-1") -> bool:
    with _lock:
        racecheck.point("check")
        if job in _claims:
            return False
        _claims[job] = racecheck.current_worker()
    spawn(job)
    return True
