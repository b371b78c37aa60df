"""backend_down: kill the backend's client connections, or stop it for a while."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ... import _runtime
from ...errors import ConfigError
from ..kind import FaultKind
from ..spec import Fault, make_fault
from .raised import is_the_failure

if TYPE_CHECKING:
    from ..._runtime import Runtime


def backend_down(at: str, backend: str = "redis", *, how: str = "kill", duration: float = 0.0,
                 worker: int | list[int] | None = None, nth: int = 1, every: bool = False,
                 p: float | None = None, after: bool = False, optional: bool = False) -> Fault:
    """Kill the backend's client connections (``how='kill'``) or stop it for ``duration`` s (``how='stop'``).

    Args:
        at: the point glob where the outage starts.
        backend: ``"postgres"`` or ``"redis"`` (a backend handed to the run with ``backends=``).
        how: ``"kill"`` (drop every client connection) or ``"stop"`` (the server is down).
        duration: seconds the server stays stopped (``how='stop'``).
        worker: only in this worker (or these workers); ``None``: any worker.
        nth: fire at the nth time the point is reached in a worker (1 = the first).
        every: fire every time from the nth on, not just once.
        p: fire with this probability each time instead (seeded: replayable).
        after: fire after the statement or call at the point completed, not before it.
        optional: the run may pass without this fault firing (else a fault that never
            fired makes the run inconclusive).
    """
    if how not in ("kill", "stop"):
        raise ConfigError(f"backend_down: how must be 'kill' or 'stop', got {how!r}")
    return make_fault("backend_down", at, worker, nth, every, p, after, optional, backend=backend, how=how,
                      duration=duration)


def _apply(rt: Runtime, worker: int, label: str, fault: Fault) -> None:
    if rt.parent_call is None:
        raise ConfigError("backend_down needs the runner to know the backend; pass backends={...} to run()")
    # The backend handle's own admin statements/commands (pg_terminate_backend, CLIENT KILL)
    # run as nobody: they are not the worker's history, points or connections.
    token = _runtime.set_worker(None)
    try:
        rt.parent_call("backend_down", dict(fault.params))
    finally:
        _runtime._worker.reset(token)


KIND = FaultKind("backend_down", backend_down, _apply, failure=is_the_failure, recorded=("backend", "how"),
                 minimum={"duration": 0.0}, choices={"backend": ("postgres", "redis"), "how": ("kill", "stop")})
