"""Correct claim-then-spawn targets on four backends, for measuring what a trial costs.

Every target is ``claim_*(worker, key)``: claim ``key`` atomically, spawn if the claim
won. Memory uses a lock-protected dict, fakeredis and Redis use ``SET key NX EX``,
Postgres uses the dispatcher's unique index. Clients are pooled per worker by
:func:`configure`, so a trial costs the commands, not the connects.
"""

from __future__ import annotations

import threading
from typing import Any

import racecheck

_lock = threading.Lock()
_claims: dict[str, int] = {}
_clients: list[Any] = []
SPAWNED: list[str] = []


def spawn(key: str) -> None:
    with _lock:
        SPAWNED.append(key)


def reset_memory() -> None:
    with _lock:
        _claims.clear()
        SPAWNED.clear()


def claim_memory(worker: int, key: str = "pr-1@abc") -> bool:
    with _lock:
        if key in _claims:
            return False
        _claims[key] = worker
    racecheck.point("claimed")
    spawn(key)
    return True


def configure_redis(clients: list[Any]) -> None:
    _clients[:] = clients


def claim_redis(worker: int, key: str = "pr-1@abc") -> bool:
    if not _clients[worker].set(f"claim:{key}", worker, nx=True, ex=60):
        return False
    spawn(key)
    return True


def noop(worker: int = 0) -> None:
    """A trigger that does nothing: the harness's own floor."""
    return None


def points(worker: int, count: int = 2000) -> None:
    """Cross ``count`` racecheck points (no-ops outside a run)."""
    p = racecheck.point
    for _ in range(count):
        p("p")
