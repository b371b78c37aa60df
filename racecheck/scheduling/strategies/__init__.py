"""Scheduling strategies, one per module, and the registry that names them.

Each strategy answers one question: given the waiting workers, which one runs next? A
strategy is a class with a ``name``, the methods of :class:`Strategy` and a classmethod
``from_options(*, seed, depth, max_preemptions, schedule)``; ``register`` adds it under its
name, after which ``racecheck.run(..., strategy=name)`` builds it through ``make_strategy``.
Adding a strategy is one module here, one ``register`` line below, and a line in the docs.

``stress`` is a name with no class: the workers run freely behind the barrier.
"""

from __future__ import annotations

from typing import Any, Protocol

from ...errors import ConfigError
from .base import Base, Strategy
from .dfs import DFS
from .drawn import Drawn
from .pct import PCT
from .random_walk import RandomWalk
from .replay import Replay

_Base = Base  # the name it had when every strategy lived in one module


class Factory(Protocol):
    name: str

    def from_options(self, *, seed: int, depth: int, max_preemptions: int, schedule: str | None) -> Strategy: ...


REGISTRY: dict[str, Any] = {}  # name -> strategy class (a Factory); "stress" -> None
FREE = "stress"


def register(cls: Any, name: str | None = None) -> Any:
    """Make ``cls`` buildable by name (``racecheck.run(..., strategy=name)``); returns ``cls``.

    Usable as a decorator. A name already taken by another class is refused, so a strategy
    is not replaced by accident; registering the same class again is harmless.
    """
    key = name or getattr(cls, "name", "")
    if not key or not isinstance(key, str):
        raise ConfigError(f"strategy class {cls!r} has no name; give it a class attribute name = '...'")
    if not callable(getattr(cls, "from_options", None)):
        raise ConfigError(f"strategy {key!r} has no from_options classmethod; add "
                          "from_options(cls, *, seed, depth, max_preemptions, schedule)")
    if REGISTRY.get(key) not in (None, cls) or key == FREE:
        raise ConfigError(f"strategy name {key!r} is already registered; pick another name")
    REGISTRY[key] = cls
    return cls


def unregister(name: str) -> None:
    """Forget a strategy registered with ``register`` (the built-in ones stay)."""
    if name in BUILTIN:
        raise ConfigError(f"strategy {name!r} is built in and cannot be unregistered")
    REGISTRY.pop(name, None)


for _cls in (RandomWalk, PCT, DFS, Replay, Drawn):
    register(_cls)
BUILTIN = frozenset({FREE, *REGISTRY})
STRATEGY_NAMES = (FREE, "random", "pct", "dfs", "replay", "hypothesis")  # the built-in ones, documented order


def names() -> tuple[str, ...]:
    """Every strategy name a run accepts: the built-in ones, then those registered since."""
    return STRATEGY_NAMES + tuple(k for k in REGISTRY if k not in STRATEGY_NAMES)


def is_controlled(name: str) -> bool:
    """True for every registered strategy (they pick who runs next); False for ``stress``."""
    return name in REGISTRY


def make_strategy(name: str, *, seed: int, depth: int = 3, max_preemptions: int = 2,
                  schedule: str | None = None) -> Strategy | None:
    """Build a strategy by name; ``stress`` gives None (free run behind the barrier)."""
    if name == FREE:
        return None
    cls = REGISTRY.get(name)
    if cls is None:
        raise ConfigError(f"unknown strategy {name!r}; use one of {', '.join(names())}")
    built: Strategy = cls.from_options(seed=seed, depth=depth, max_preemptions=max_preemptions, schedule=schedule)
    return built


__all__ = ["DFS", "PCT", "REGISTRY", "STRATEGY_NAMES", "Base", "Drawn", "Factory", "RandomWalk", "Replay",
           "Strategy", "is_controlled", "make_strategy", "names", "register", "unregister"]
