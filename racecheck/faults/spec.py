"""A fault spec: which point, which workers, which occurrence, which kind.

Specs are plain picklable values so they travel to worker processes; the exception classes
they raise are looked up by name when they fire, so this module imports no driver.
"""

from __future__ import annotations

import fnmatch
import importlib
from dataclasses import dataclass, field
from typing import Any

from ..drivers import error_modules
from ..errors import ConfigError
from .kind import kind_of


def _error_modules(action: str) -> tuple[str, ...]:
    return ("builtins",) if action == "error" else error_modules(action)


@dataclass(frozen=True)
class Fault:
    """One fault. Build it with the helpers below (``crash``, ``db_error``, ...)."""

    action: str
    at: str = "*"
    workers: tuple[int, ...] | None = None  # None: every worker
    nth: int | None = 1  # fire on the nth matching occurrence per worker (1-based)
    every: bool = False  # fire on every matching occurrence
    probability: float | None = None  # fire with this seeded probability per occurrence
    after: bool = False  # fire after the statement/call completed (ambiguous write)
    params: dict[str, Any] = field(default_factory=dict)
    optional: bool = False  # may legitimately never fire: a run where it did not is still conclusive

    def __post_init__(self) -> None:
        kind = kind_of(self.action)
        if self.nth is not None and self.nth < 1:
            raise ConfigError(f"fault {self.action} at {self.at!r}: nth must be >= 1, got {self.nth}")
        if self.probability is not None and not 0.0 <= self.probability <= 1.0:
            raise ConfigError(
                f"fault {self.action} at {self.at!r}: probability must be within 0..1, got {self.probability}"
            )
        validate_glob(self.at, f"fault {self.action}")
        if kind.raises and self.params.get("error"):
            resolve_error(self.action, str(self.params["error"]))  # a typo fails here, not mid-trial

    def describe(self) -> str:
        who = "all workers" if self.workers is None else "worker " + ",".join(map(str, self.workers))
        when = "every time" if self.every else (f"p={self.probability}" if self.probability is not None else f"occurrence {self.nth}")
        return f"{self.action} at {self.at!r}{' (after)' if self.after else ''}, {who}, {when}"

    def matches(self, label: str, phase: str) -> bool:
        at = self.at.lower()
        lab = label.lower()
        if self.after:
            if phase == "after":
                return fnmatch.fnmatchcase(lab, at)
            return ":" not in at and fnmatch.fnmatchcase(lab, at + ":after")
        if phase != "before":
            return False
        if fnmatch.fnmatchcase(lab, at):
            return True
        return ":" not in at and (fnmatch.fnmatchcase(lab, at + ":before") or fnmatch.fnmatchcase(lab, at + ":enter"))


def validate_glob(pattern: str, what: str) -> None:
    """Reject point globs that can never match (empty, unbalanced brackets)."""
    if not isinstance(pattern, str) or not pattern.strip():
        raise ConfigError(f"{what}: the point pattern is empty; give a glob such as 'sql:UPDATE*'")
    depth = 0
    for ch in pattern:
        if ch == "[":
            depth += 1
        elif ch == "]" and depth:
            depth -= 1
    if depth:
        raise ConfigError(f"{what}: point pattern {pattern!r} has an unclosed '['; close it or escape it as '[[]'")


def _workers(worker: int | list[int] | tuple[int, ...] | None) -> tuple[int, ...] | None:
    if worker is None:
        return None
    if isinstance(worker, int):
        return (worker,)
    return tuple(int(w) for w in worker)


def make_fault(
    action: str,
    at: str,
    worker: int | list[int] | None,
    nth: int | None,
    every: bool,
    p: float | None,
    after: bool = False,
    optional: bool = False,
    **params: Any,
) -> Fault:
    """The Fault a constructor's common options describe (``every`` or ``p`` turn ``nth`` off)."""
    if every or p is not None:
        nth = None
    return Fault(action, at, _workers(worker), nth, every, p, after, params, optional)


def resolve_error(action: str, name: str) -> type[BaseException]:
    """Find the exception class a fault raises: a short name in the action's modules or a dotted path."""
    candidates = []
    if "." in name:
        mod, _, attr = name.rpartition(".")
        candidates.append((mod, attr))
    modules = _error_modules(action)
    suffixes = ("", "Error") if action != "error" and not name.endswith("Error") else ("",)
    candidates += [(mod, name + s) for mod in modules for s in suffixes]  # asyncpg: UniqueViolationError
    for mod, attr in candidates:
        try:
            obj = getattr(importlib.import_module(mod), attr, None)
        except ImportError:
            continue
        if isinstance(obj, type) and issubclass(obj, BaseException):
            return obj
    where = ", ".join(modules)
    raise ConfigError(f"fault {action}: no exception class {name!r} in {where}; give a class name from there or a dotted path")
