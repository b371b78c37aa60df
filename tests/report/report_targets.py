"""Small in-memory targets for the report tests: buggy and correct dispatchers and locks."""

from __future__ import annotations

import racecheck

CLAIMED: set[str] = set()
CLAIMS: dict[str, int] = {}
HOLDER: dict[str, int] = {}
SPAWNED: list[str] = []


def reset() -> None:
    CLAIMED.clear()
    CLAIMS.clear()
    HOLDER.clear()
    SPAWNED.clear()


def spawn(sha: str) -> None:
    """The side effect under test (spied)."""
    racecheck.point("spawning")
    SPAWNED.append(sha)


def buggy_dispatch(sha: str = "abc") -> None:
    """Check-then-act: two workers can both see the job unclaimed and both spawn."""
    racecheck.point("check")
    if sha not in CLAIMED:
        racecheck.point("between")
        CLAIMED.add(sha)
        racecheck.log(f"claimed {sha}")
        spawn(sha)


def correct_dispatch(sha: str = "abc") -> None:
    """Atomic claim: only the worker whose claim sticks spawns."""
    me = racecheck.current_worker() or 0
    racecheck.point("check")
    if CLAIMS.setdefault(sha, me) == me:
        spawn(sha)


def buggy_lock(key: str = "k1") -> None:
    """A lock whose test and set are separate steps: two holders at once."""
    me = racecheck.current_worker() or 0
    racecheck.point("check")
    if key not in HOLDER:
        racecheck.point("set")
        HOLDER[key] = me
        with racecheck.section("job", key):
            racecheck.point("work")
        HOLDER.pop(key, None)


def correct_lock(key: str = "k1") -> None:
    """An atomic test-and-set lock: one holder at a time."""
    me = racecheck.current_worker() or 0
    racecheck.point("check")
    if HOLDER.setdefault(key, me) == me:
        with racecheck.section("job", key):
            racecheck.point("work")
        HOLDER.pop(key, None)


def recover() -> None:
    """The recovery step re-dispatches anything claimed but never spawned."""
    for sha in sorted(CLAIMED):
        if sha not in SPAWNED:
            spawn(sha)
