"""freeze: stop the whole worker process (SIGSTOP) for a while; mode 'processes' only."""

from __future__ import annotations

from ...process_freeze import NEEDS_PROCESSES, apply_freeze
from ..kind import FaultKind
from ..spec import Fault, make_fault


def freeze(at: str, seconds: float, *, worker: int | list[int] | None = None, nth: int = 1,
           every: bool = False, p: float | None = None, after: bool = False, optional: bool = False) -> Fault:
    """Stop the whole worker process (SIGSTOP, every thread) for ``seconds``; mode 'processes' only.

    Args:
        at: the point glob.
        seconds: how long the process stays stopped before SIGCONT.
        worker: only in this worker (or these workers); ``None``: any worker.
        nth: fire at the nth time the point is reached in a worker (1 = the first).
        every: fire every time from the nth on, not just once.
        p: fire with this probability each time instead (seeded: replayable).
        after: fire after the statement or call at the point completed, not before it.
        optional: the run may pass without this fault firing (else a fault that never
            fired makes the run inconclusive).
    """
    return make_fault("freeze", at, worker, nth, every, p, after, optional, seconds=seconds)


KIND = FaultKind("freeze", freeze, apply_freeze, modes=("processes",), mode_error=NEEDS_PROCESSES,
                 recorded=("seconds",), minimum={"seconds": 0.0})
