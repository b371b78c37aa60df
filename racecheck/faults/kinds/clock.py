"""clock: shift the worker's wall clock from the point on."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..kind import FaultKind
from ..spec import Fault, make_fault

if TYPE_CHECKING:
    from ..._runtime import Runtime


def clock(at: str, shift: float, *, worker: int | list[int] | None = None, nth: int = 1,
          every: bool = False, p: float | None = None, after: bool = False, optional: bool = False) -> Fault:
    """Shift ``time.time()`` as the worker sees it by ``shift`` seconds from the point on.

    Args:
        at: the point glob.
        shift: seconds added to the worker's clock (negative: back in time).
        worker: only in this worker (or these workers); ``None``: any worker.
        nth: fire at the nth time the point is reached in a worker (1 = the first).
        every: fire every time from the nth on, not just once.
        p: fire with this probability each time instead (seeded: replayable).
        after: fire after the statement or call at the point completed, not before it.
        optional: the run may pass without this fault firing (else a fault that never
            fired makes the run inconclusive).
    """
    return make_fault("clock", at, worker, nth, every, p, after, optional, shift=shift)


def _apply(rt: Runtime, worker: int, label: str, fault: Fault) -> None:
    rt.shift_clock(worker, float(fault.params.get("shift", 0.0)))


KIND = FaultKind("clock", clock, _apply, recorded=("shift",))
