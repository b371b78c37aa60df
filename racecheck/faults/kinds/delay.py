"""delay (and its alias pause): one worker sleeps at the point."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..kind import FaultKind
from ..spec import Fault, make_fault

if TYPE_CHECKING:
    from ..._runtime import Runtime


def delay(at: str, seconds: float, *, worker: int | list[int] | None = None, nth: int = 1,
          every: bool = False, p: float | None = None, after: bool = False, optional: bool = False) -> Fault:
    """Sleep at the point (e.g. hold a lease past its TTL).

    Recorded as a ``fault`` event when the point is reached; the command the worker sends next
    is recorded when it is sent, after the sleep.

    Args:
        at: the point glob.
        seconds: how long the worker sleeps.
        worker: only in this worker (or these workers); ``None``: any worker.
        nth: fire at the nth time the point is reached in a worker (1 = the first).
        every: fire every time from the nth on, not just once.
        p: fire with this probability each time instead (seeded: replayable).
        after: fire after the statement or call at the point completed, not before it.
        optional: the run may pass without this fault firing (else a fault that never
            fired makes the run inconclusive).
    """
    return make_fault("delay", at, worker, nth, every, p, after, optional, seconds=seconds)


pause = delay


def _apply(rt: Runtime, worker: int, label: str, fault: Fault) -> None:
    rt.fault_sleep(float(fault.params.get("seconds", 0.0)))


DELAY = FaultKind("delay", delay, _apply, recorded=("seconds",), minimum={"seconds": 0.0})
# ``Fault("pause", ...)``: the older name of delay; scenario files say delay.
PAUSE = FaultKind("pause", pause, _apply, recorded=("seconds",), minimum={"seconds": 0.0}, yaml=False)
