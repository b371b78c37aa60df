"""db_error, redis_error, error: raise an exception at the point (a failure the worker must surface)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from ... import history as h
from ..kind import FaultKind
from ..spec import Fault, make_fault, resolve_error

if TYPE_CHECKING:
    from ..._runtime import Runtime


def db_error(at: str = "sql:*", error: str = "OperationalError", *, after_commit: bool = False,
             message: str | None = None, worker: int | list[int] | None = None, nth: int = 1,
             every: bool = False, p: float | None = None, optional: bool = False) -> Fault:
    """Fail a matching SQL statement before it is sent, or after it committed (``after_commit``: ack lost).

    Args:
        at: the statement glob (``"sql:*"``, ``"sql:insert into review_run*"``, ``"sql:COMMIT"``).
        error: the psycopg exception class name (``OperationalError``, ``SerializationFailure``, ...).
        after_commit: the statement took effect but the client sees the error (an ambiguous write).
        message: the exception's message.
        worker: only in this worker (or these workers); ``None``: any worker.
        nth: fire at the nth time the point is reached in a worker (1 = the first).
        every: fire every time from the nth on, not just once.
        p: fire with this probability each time instead (seeded: replayable).
        optional: the run may pass without this fault firing (else a fault that never
            fired makes the run inconclusive).
    """
    return make_fault("db_error", at, worker, nth, every, p, after_commit, optional, error=error, message=message)


def redis_error(at: str = "redis:*", error: str = "ConnectionError", *, message: str | None = None,
                worker: int | list[int] | None = None, nth: int = 1, every: bool = False,
                p: float | None = None, after: bool = False, optional: bool = False) -> Fault:
    """Fail a matching Redis command with a redis-py exception.

    Args:
        at: the command glob (``"redis:*"``, ``"redis:SET*"``).
        error: the redis-py exception class name (``ConnectionError``, ``TimeoutError``, ...).
        message: the exception's message.
        worker: only in this worker (or these workers); ``None``: any worker.
        nth: fire at the nth time the point is reached in a worker (1 = the first).
        every: fire every time from the nth on, not just once.
        p: fire with this probability each time instead (seeded: replayable).
        after: fire after the statement or call at the point completed, not before it.
        optional: the run may pass without this fault firing (else a fault that never
            fired makes the run inconclusive).
    """
    return make_fault("redis_error", at, worker, nth, every, p, after, optional, error=error, message=message)


def error(at: str, error: str = "RuntimeError", *, message: str | None = None,
          worker: int | list[int] | None = None, nth: int = 1, every: bool = False,
          p: float | None = None, after: bool = False, optional: bool = False) -> Fault:
    """Raise an exception (a builtin name or a dotted path) at the point.

    Args:
        at: the point glob.
        error: the exception: a builtin name (``"TimeoutError"``) or ``"package.module.Class"``.
        message: the exception's message.
        worker: only in this worker (or these workers); ``None``: any worker.
        nth: fire at the nth time the point is reached in a worker (1 = the first).
        every: fire every time from the nth on, not just once.
        p: fire with this probability each time instead (seeded: replayable).
        after: fire after the statement or call at the point completed, not before it.
        optional: the run may pass without this fault firing (else a fault that never
            fired makes the run inconclusive).
    """
    return make_fault("error", at, worker, nth, every, p, after, optional, error=error, message=message)


def _apply(rt: Runtime, worker: int, label: str, fault: Fault) -> None:
    cls = resolve_error(fault.action, fault.params.get("error") or "RuntimeError")
    msg = fault.params.get("message") or f"racecheck injected {cls.__name__} at {label}"
    raise cls(msg)


def is_the_failure(worker_events: list[h.Event], fault: h.Event) -> bool:
    """An injected error (or a downed backend) is the failure itself."""
    return True


def _kind(name: str, make: Callable[..., Fault]) -> FaultKind:
    return FaultKind(name, make, _apply, failure=is_the_failure, recorded=("error",), raises=True)


DB_ERROR = _kind("db_error", db_error)
REDIS_ERROR = _kind("redis_error", redis_error)
ERROR = _kind("error", error)
