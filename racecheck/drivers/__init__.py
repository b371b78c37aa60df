"""Driver instrumentation: every psycopg 3 statement and redis-py command becomes a point.

Patches are installed only for the duration of a run and only for drivers that are
importable; user code is not changed and connections it opens itself are covered.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

DRIVERS = ("psycopg", "redis")


def install_drivers(names: tuple[str, ...] | list[str] = DRIVERS) -> Callable[[], None]:
    """Instrument each named driver that is importable; returns the undo."""
    undos: list[Callable[[], None]] = []
    for name in names:
        if name == "psycopg":
            from . import psycopg_driver

            undos.append(psycopg_driver.install())
        elif name == "redis":
            from . import redis_driver

            undos.append(redis_driver.install())

    def undo() -> None:
        for u in reversed(undos):
            u()

    return undo


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
_UNAVAILABLE = {"OperationalError", "InterfaceError", "ConnectionError", "TimeoutError"}
_LOGICAL = {"TransactionRollback", "QueryCanceled", "ResponseError"}


def backend_failure(exc: BaseException) -> bool:
    """True when ``exc`` says the backend was unavailable (connection refused/lost, timeout)."""
    names = {c.__name__ for c in type(exc).__mro__}
    return bool(names & _UNAVAILABLE) and not names & _LOGICAL
