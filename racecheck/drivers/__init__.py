"""Driver instrumentation: every statement and command of a registered driver becomes a point.

One :class:`Driver` record per driver, one module per driver, one line each in
:data:`REGISTRY`. Patches are installed for the duration of a run, only for drivers
that are importable; user code is not changed and connections it opens itself are
covered. Nothing here imports a driver: a run instruments those already imported and
hooks the import of the others (:class:`_AfterImport`).
"""

from __future__ import annotations

import contextvars
import importlib
import importlib.abc
import importlib.util
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Driver:
    """A client library racecheck instruments."""

    name: str  # what ``drivers=`` and ``racecheck backends`` call it
    module: str  # the module it instruments (its import name)
    installer: str  # ``racecheck.drivers.<module>`` whose ``install()`` patches it and returns the undo
    extra: str  # the pip extra that brings it: ``pip install 'racecheck[<extra>]'``
    fault: str  # the fault action whose short error names are looked up in ``error_modules``
    error_modules: tuple[str, ...]

    def available(self) -> bool:
        known = _AVAILABLE.get(self.module)
        if known is not None:
            return known
        try:
            return importlib.util.find_spec(self.module) is not None
        except (ImportError, ValueError):
            return False

    def install(self) -> Callable[[], None]:
        return importlib.import_module(f"{__name__}.{self.installer}").install()  # type: ignore[no-any-return]


REGISTRY: tuple[Driver, ...] = (
    Driver("psycopg", "psycopg", "psycopg_driver", "postgres", "db_error", ("psycopg.errors", "psycopg")),
    Driver("psycopg2", "psycopg2", "psycopg2_driver", "psycopg2", "db_error", ("psycopg2.errors", "psycopg2")),
    Driver("asyncpg", "asyncpg", "asyncpg_driver", "asyncpg", "db_error", ("asyncpg.exceptions", "asyncpg")),
    Driver("redis", "redis", "redis_driver", "redis", "redis_error", ("redis.exceptions",)),
    Driver("valkey", "valkey", "valkey_driver", "valkey", "redis_error", ("valkey.exceptions",)),
)
BY_NAME = {d.name: d for d in REGISTRY}
# Filled only by the warm template (:func:`remember_availability`): its forked workers would
# each search sys.path for every driver again (1.5 ms of a worker's 6 on the 2-core machine).
_AVAILABLE: dict[str, bool] = {}


def remember_availability() -> None:
    """Look each driver's library up once, here, for every process forked from this one."""
    _AVAILABLE.clear()
    _AVAILABLE.update((d.module, d.available()) for d in REGISTRY)
DRIVERS = tuple(BY_NAME)  # every registered driver; the ones not importable install nothing


def default_drivers() -> tuple[str, ...]:
    """Every registered driver whose module is importable here."""
    return tuple(d.name for d in REGISTRY if d.available())


def install_drivers(names: tuple[str, ...] | list[str] = DRIVERS) -> Callable[[], None]:
    """Instrument each named driver that is importable; returns the undo."""
    unknown = [n for n in names if n not in BY_NAME]
    if unknown:
        from ..errors import ConfigError

        raise ConfigError(f"unknown driver(s) {', '.join(map(repr, unknown))}; "
                          f"use some of {', '.join(DRIVERS)}")
    undos: list[Callable[[], None]] = []
    later: dict[str, Callable[[], None]] = {}
    for d in (BY_NAME[n] for n in names):
        if d.module in sys.modules:
            undos.append(d.install())
        elif d.available():  # not imported yet: instrumented the moment it is (no import cost now)
            later[d.module] = lambda d=d: undos.append(d.install())  # type: ignore[misc]
    # Importing every installed driver up front costs about a second in a fresh interpreter
    # (redis, valkey and asyncpg alone) for runs that use none of them.
    finder = _AfterImport(later).insert() if later else None

    def undo() -> None:
        if finder is not None:
            finder.close()
        for u in reversed(undos):
            u()

    return undo


def describe_drivers() -> str:
    """Human text for ``racecheck backends``: which drivers are instrumented here, which are missing."""
    lines = ["Drivers (statements/commands become points):"]
    for d in REGISTRY:
        if d.available():
            lines.append(f"  {d.name:<9} instrumented")
        else:
            lines.append(f"  {d.name:<9} not installed: pip install 'racecheck[{d.extra}]'")
    return "\n".join(lines)


# -- which driver reached the point (so a short error name resolves in its own modules) --------
_calling: contextvars.ContextVar[str | None] = contextvars.ContextVar("racecheck_driver", default=None)


def error_modules(action: str) -> tuple[str, ...]:
    """Modules a short error name of ``action`` is looked up in: the calling driver's first."""
    mods = [m for d in REGISTRY if d.fault == action for m in d.error_modules]
    current = BY_NAME.get(_calling.get() or "")
    if current is not None and current.fault == action:
        mods = list(current.error_modules) + [m for m in mods if m not in current.error_modules]
    return tuple(mods)


def fault_actions() -> tuple[str, ...]:
    return tuple(dict.fromkeys(d.fault for d in REGISTRY))


class calling:  # noqa: N801 - used like a function: ``with calling("psycopg2"): ...``
    """Mark the driver whose statement is at a point while faults fire there."""

    __slots__ = ("name", "token")

    def __init__(self, name: str) -> None:
        self.name = name

    def __enter__(self) -> None:
        self.token = _calling.set(self.name)

    def __exit__(self, *exc: object) -> None:
        _calling.reset(self.token)


def one_line(text: str, limit: int = 300) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def record_failure(rt: Any, kind: str, label: str, field: str, text: str, exc: BaseException) -> None:
    """Record that a backend call raised (the server refused it or the connection failed).

    The event repeats the statement/command with ``error`` and ``message``; ``fail_closed``
    counts a worker with such an event as one whose backend call failed.
    """
    t = type(exc)
    name = t.__qualname__ if t.__module__ == "builtins" else f"{t.__module__}.{t.__qualname__}"
    message = one_line(str(exc), 300)
    rt.record(kind, label, **{field: f"{text} -> raised {t.__name__}: {message}"},
              error=name, message=message, backend_failed=backend_failure(exc))


# Exception class names (anywhere in the MRO) that mean the backend could not be reached or
# answered, as opposed to a logical refusal (a unique violation, a wrong-type reply).
_UNAVAILABLE = {"OperationalError", "InterfaceError", "ConnectionError", "TimeoutError",
                "PostgresConnectionError", "ConnectionDoesNotExistError", "AdminShutdownError",
                "CannotConnectNowError", "ConnectionFailureError"}
_LOGICAL = {"TransactionRollback", "QueryCanceled", "ResponseError",
            "TransactionRollbackError", "QueryCanceledError"}


def backend_failure(exc: BaseException) -> bool:
    """True when ``exc`` says the backend was unavailable (connection refused/lost, timeout)."""
    names = {c.__name__ for c in type(exc).__mro__}
    return bool(names & _UNAVAILABLE) and not names & _LOGICAL


# -- run code right after a module is first imported -------------------------------------------
class _AfterImport(importlib.abc.MetaPathFinder):
    """Finds nothing itself: when a watched module is first imported, runs its loader, then the
    module's hook (once). It leaves ``sys.meta_path`` when its last hook ran or on ``close()``."""

    def __init__(self, hooks: dict[str, Callable[[], None]]) -> None:
        self.hooks = hooks
        self._busy: set[str] = set()

    def insert(self) -> _AfterImport:
        sys.meta_path.insert(0, self)
        return self

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> Any:
        hook = self.hooks.get(name)
        if hook is None or name in self._busy:
            return None
        self._busy.add(name)
        try:
            spec = importlib.util.find_spec(name)  # the other finders' spec (this one is busy)
        finally:
            self._busy.discard(name)
        loader = getattr(spec, "loader", None)
        if spec is None or loader is None or not hasattr(loader, "exec_module"):
            return spec
        original = loader.exec_module

        def exec_module(module: Any) -> None:
            original(module)
            if self.hooks.pop(name, None) is not None:
                if not self.hooks:
                    self.close()
                hook()

        loader.exec_module = exec_module
        return spec

    def close(self) -> None:
        self.hooks.clear()
        sys.meta_path[:] = [f for f in sys.meta_path if f is not self]


# -- psycopg2 from the moment it is imported -----------------------------------------------------
# psycopg2's connection is a C type: only connections built by the patched ``psycopg2.connect``
# record. Patching it when psycopg2 is imported (or now, if it already is) covers connections
# opened before the first run too: module-level connections, pools filled at import, fixtures.
_psycopg2_finder: _AfterImport | None = None


def _remove_finder() -> None:
    if _psycopg2_finder is not None:
        _psycopg2_finder.close()


def _install_psycopg2() -> None:
    importlib.import_module(f"{__name__}.psycopg2_driver").install()


def instrument_psycopg2_on_import() -> None:
    """Patch ``psycopg2.connect`` now if psycopg2 is imported, else as soon as it is."""
    global _psycopg2_finder
    if "psycopg2" in sys.modules:
        _install_psycopg2()
    elif BY_NAME["psycopg2"].available():
        _remove_finder()
        _psycopg2_finder = _AfterImport({"psycopg2": _install_psycopg2}).insert()


instrument_psycopg2_on_import()
