"""crash: kill the worker at the point."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..kind import FaultKind
from ..spec import Fault, make_fault

if TYPE_CHECKING:
    from ..._runtime import Runtime


def crash(at: str, *, worker: int | list[int] | None = None, nth: int = 1, every: bool = False,
          p: float | None = None, after: bool = False, optional: bool = False) -> Fault:
    """Kill the worker at the point: SIGKILL in process mode, park and sever connections in thread mode.

    Args:
        at: the point (a glob: ``"claim"``, ``"sql:insert*"``, ``"redis:SET*"``, a spy's name).
        worker: only in this worker (or these workers); ``None``: any worker.
        nth: fire at the nth time the point is reached in a worker (1 = the first).
        every: fire every time from the nth on, not just once.
        p: fire with this probability each time instead (seeded: replayable).
        after: fire after the statement or call at the point completed, not before it.
        optional: the run may pass without this fault firing (else a fault that never
            fired makes the run inconclusive).
    """
    return make_fault("crash", at, worker, nth, every, p, after, optional)


def _apply(rt: Runtime, worker: int, label: str, fault: Fault) -> None:
    rt.crash(worker, label)


KIND = FaultKind("crash", crash, _apply)
