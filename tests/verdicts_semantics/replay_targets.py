"""An in-memory check-then-act dispatcher (buggy) and its locked form (correct), for replay lines."""

from __future__ import annotations

import threading

import racecheck

STATE: dict[str, int] = {}
LOCK = threading.Lock()


def reset() -> None:
    STATE.clear()


def dispatch(key: str = "k") -> None:
    racecheck.point("check")
    if key in STATE:
        return
    racecheck.point("act")
    racecheck.effect("spawn", key=key)
    STATE[key] = 1


def dispatch_locked(key: str = "k") -> None:
    with LOCK:
        dispatch(key)


def claim_fail_open(key: str = "k") -> None:
    """Buggy: an error at the claim is swallowed and the work runs anyway."""
    try:
        racecheck.point("claim")
    except RuntimeError:
        pass
    racecheck.effect("spawn", key=key)


def claim_fail_closed(key: str = "k") -> None:
    """Correct: an error at the claim propagates; no work without a claim."""
    racecheck.point("claim")
    racecheck.effect("spawn", key=key)
