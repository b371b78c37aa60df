"""Faults: what to do when a worker reaches a matching point.

A fault names a point (a glob over point labels such as ``spawn_reviewer:after``,
``sql:UPDATE*queued*`` or ``redis:SET*``), which workers, which occurrence and a kind
(its ``action``). Layout: :mod:`.spec` (the ``Fault`` value), :mod:`.kind` (``FaultKind``
and the table of kinds), :mod:`.kinds` (one module per kind: its constructor and what it
does when it fires), :mod:`.registry` (the built-in kinds), :mod:`.injector` (decides
whether a fault fires; its kind carries it out).
"""

from __future__ import annotations

from typing import Any

from .injector import FaultInjector
from .kind import KINDS, FaultKind, kind_of, names, phase_of, register, unregister
from .kinds.backend_down import backend_down
from .kinds.clock import clock
from .kinds.crash import crash
from .kinds.delay import delay, pause
from .kinds.freeze import freeze
from .kinds.raised import db_error, error, redis_error
from .kinds.scrub_env import SCRUB_WHEN, apply_env, scrub_env
from .registry import REGISTRY
from .spec import Fault, make_fault, resolve_error, validate_glob

__all__ = [
    "KINDS", "REGISTRY", "SCRUB_WHEN", "Fault", "FaultInjector", "FaultKind", "apply_env", "backend_down", "clock",
    "crash", "db_error", "delay", "error", "freeze", "kind_of", "make_fault", "names", "pause", "phase_of",
    "redis_error", "register", "resolve_error", "scrub_env", "unregister", "validate_glob",
]


def __getattr__(name: str) -> Any:
    if name == "ACTIONS":  # the registered kinds (a live view: a kind registered later is in it)
        return names()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
