"""Environment faults of an in-process trial (threads, asyncio): the environment is the process's.

Every phase's faults (``start``, ``after_import``, ``before_trigger``) apply at once before the
trial, for every worker; the environment as it was is put back after the trial. (A process
worker applies its own phases one by one, in ``racecheck._worker``.)
"""

from __future__ import annotations

import os
from typing import Any

from ..faults import FaultInjector, apply_env

_PHASES = ("start", "after_import", "before_trigger")


def apply_env_faults(injector: FaultInjector) -> tuple[dict[str, str], list[tuple[str, Any]]]:
    """Apply the trial's environment faults; return the environment before them and what applied."""
    saved_env = dict(os.environ)
    applied: list[tuple[str, Any]] = []
    for when in _PHASES:
        for f in injector.env_faults(when, None):
            apply_env(f)
            applied.append((when, f))
    return saved_env, applied


def restore_env(saved_env: dict[str, str]) -> None:
    """Put the process environment back as :func:`apply_env_faults` found it."""
    os.environ.clear()
    os.environ.update(saved_env)


__all__ = ["apply_env_faults", "restore_env"]
