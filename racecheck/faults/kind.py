"""A fault kind (what one kind of fault does when it fires) and the table of kinds.

A new fault kind is one module under ``racecheck/faults/kinds/`` defining its constructor
(the Python API: typed parameters, an ``Args:`` docstring) and a :class:`FaultKind`, plus one
line in :mod:`racecheck.faults.registry`. The YAML schema's fault options are generated from
the constructor's signature and docstring (``racecheck.scenario.schema``), so they cannot drift.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..errors import ConfigError

if TYPE_CHECKING:
    from .. import history as h
    from .._runtime import Runtime
    from .spec import Fault


@dataclass(frozen=True)
class FaultKind:
    """One kind of fault: how to build it, what it does when it fires, where it can apply."""

    name: str
    make: Callable[..., Fault]  # the Python constructor; its parameters are the YAML options
    apply: Callable[[Runtime, int, str, Fault], None]  # carry it out in worker ``int`` at point ``str``
    modes: tuple[str, ...] = ()  # the run modes it can apply in (empty: every mode)
    mode_error: str = ""  # the one-sentence error when the run's mode is not in ``modes``
    # Whether its firing in a worker is a failure that worker must surface (fail_closed):
    # ``failure(worker_events, fault_event)``; None: never a failure (the code must carry on).
    failure: Callable[[list[h.Event], h.Event], bool] | None = None
    recorded: tuple[str, ...] = ()  # its params copied into the ``fault`` event
    raises: bool = False  # raises a named exception class (its ``error`` param, see resolve_error)
    phase: Callable[[Fault], str] | None = None  # when it fires: "point" (default) or a process phase
    yaml: bool = True  # expressible in a scenario file (False: an alias of another kind)
    minimum: dict[str, float] = field(default_factory=dict)  # YAML lower bounds of numeric options
    choices: dict[str, tuple[str, ...]] = field(default_factory=dict)  # YAML options limited to these values

    def check_mode(self, mode: str) -> None:
        """Raise ConfigError when this kind cannot apply in run mode ``mode``."""
        if self.modes and mode not in self.modes:
            raise ConfigError(self.mode_error or f"fault {self.name} needs mode {' or '.join(map(repr, self.modes))}, "
                                                 f"not {mode!r}")


KINDS: dict[str, FaultKind] = {}  # name -> kind, in registration order (filled by racecheck.faults.registry)


def register(kind: FaultKind) -> FaultKind:
    """Add a fault kind to the table (a name already taken by another kind is an error)."""
    old = KINDS.get(kind.name)
    if old is not None and old is not kind:
        raise ConfigError(f"fault kind {kind.name!r} is already registered; pick another name")
    KINDS[kind.name] = kind
    return kind


def unregister(name: str) -> None:
    """Remove a fault kind (a test's toy kind) from the table."""
    KINDS.pop(name, None)


def kind_of(action: str) -> FaultKind:
    """The registered kind named ``action``; ConfigError naming the kinds when there is none."""
    kind = KINDS.get(action)
    if kind is None:
        raise ConfigError(f"unknown fault action {action!r}; use one of {', '.join(KINDS)}")
    return kind


def names() -> tuple[str, ...]:
    """The registered fault kinds, in registration order."""
    return tuple(KINDS)


def phase_of(fault: Fault) -> str:
    """When ``fault`` fires: ``"point"`` (at a matching point) or a process phase (scrub_env)."""
    kind = KINDS.get(fault.action)
    return "point" if kind is None or kind.phase is None else kind.phase(fault)
