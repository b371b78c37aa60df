"""scrub_env: remove or change environment variables at a process phase or a point."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from ... import history as h
from ...errors import ConfigError
from ..kind import FaultKind
from ..spec import Fault, make_fault

if TYPE_CHECKING:
    from ..._runtime import Runtime

SCRUB_WHEN = ("start", "after_import", "before_trigger", "point")


def scrub_env(names: list[str] | tuple[str, ...] = (), *, set: dict[str, str] | None = None,  # noqa: A002
              when: str = "before_trigger", at: str = "*", worker: int | list[int] | None = None,
              optional: bool = False) -> Fault:
    """Remove (``names``) or change (``set``) environment variables at process start, after import,
    before the trigger, or at a point (``when='point'`` with ``at``).

    Args:
        names: variables to remove.
        set: variables to set (name -> value).
        when: ``"start"`` (process start), ``"after_import"``, ``"before_trigger"`` or ``"point"``.
        at: the point glob when ``when='point'``.
        worker: only in this worker (or these workers).
        optional: the run may pass without this fault firing (else a fault that never
            fired makes the run inconclusive).
    """
    if when not in SCRUB_WHEN:
        raise ConfigError(f"scrub_env: when must be one of {', '.join(SCRUB_WHEN)}, got {when!r}")
    return make_fault("scrub_env", at, worker, 1, False, None, False, optional,
                      names=list(names), set=dict(set or {}), when=when)


def apply_env(fault: Fault) -> None:
    """Remove and set the fault's environment variables in this process."""
    for name in fault.params.get("names", []):
        os.environ.pop(name, None)
    for name, value in fault.params.get("set", {}).items():
        os.environ[name] = value


def _apply(rt: Runtime, worker: int, label: str, fault: Fault) -> None:
    apply_env(fault)


def used_what_was_scrubbed(worker_events: list[h.Event], fault: h.Event) -> bool:
    """A scrub is a failure once the worker read a variable (code that captured it earlier is unhurt)."""
    return any(e.kind == h.ENV_READ and e.t >= fault.t for e in worker_events)


def _phase(fault: Fault) -> str:
    return str(fault.params.get("when", "before_trigger"))


KIND = FaultKind("scrub_env", scrub_env, _apply, failure=used_what_was_scrubbed, phase=_phase,
                 choices={"when": SCRUB_WHEN})
