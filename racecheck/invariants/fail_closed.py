"""fail_closed: a trigger whose backend call failed did no effect and surfaced the failure."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from .. import history as h
from .base import Violation

if TYPE_CHECKING:
    from ..result import TrialRecord

FAILURE_ACTIONS = ("db_error", "redis_error", "backend_down", "error")


def _fault_is_the_failure(evs: list[h.Event], fault: h.Event) -> bool:
    return True


def _used_what_was_scrubbed(evs: list[h.Event], fault: h.Event) -> bool:
    return any(e.kind == h.ENV_READ and e.t >= fault.t for e in evs)


# Which fired faults mean the worker met a failure, per action. An injected error or a
# downed backend is the failure itself. A scrubbed environment is one once the worker read
# a variable the scrub removed or changed (code that captured the value earlier is unhurt).
# Not here, so never a failure: crash (the worker is gone, nothing is left to surface it),
# delay/pause (time passed; the code must carry on, other invariants judge what the wait
# broke) and clock (the same, for a clock jump).
FAILURE_FAULTS: dict[str, Callable[[list[h.Event], h.Event], bool]] = {
    **dict.fromkeys(FAILURE_ACTIONS, _fault_is_the_failure),
    "scrub_env": _used_what_was_scrubbed,
}
SURFACING_LEVELS = ("WARNING", "ERROR", "CRITICAL")


class FailClosed:
    """A trigger that met a failure did no effect and surfaced it (raised, or logged at WARNING or above).

    A worker met a failure when a fault in ``FAILURE_FAULTS`` fired in it (an injected
    error, a downed backend, or a scrubbed variable it then read), when one of its
    statements/commands raised a connection-level error (the drivers mark it
    ``backend_failed``), or when ``failed`` (a callable over the worker's events) says so.
    """

    name = "fail_closed"

    def __init__(self, effect: str | None = None, failed: Callable[[list[h.Event]], bool] | None = None) -> None:
        self.effect = effect
        self.failed = failed

    def _failure(self, w: int, evs: list[h.Event]) -> str | None:
        """What failure worker ``w`` met, as the subject of a sentence; None when it met none."""
        for e in evs:
            if e.kind == h.FAULT and (judge := FAILURE_FAULTS.get(e.name)) is not None and judge(evs, e):
                if e.name != "scrub_env":
                    return f"w{w}'s backend call failed"
                read = ", ".join(sorted({r.name for r in evs if r.kind == h.ENV_READ}))
                return f"w{w} read {read} after scrub_env ({e.payload.get('at', 'point')}) removed or changed it"
            if e.kind in (h.SQL, h.REDIS) and e.payload.get("backend_failed"):
                return f"w{w}'s backend call failed"
        if self.failed is not None and self.failed(evs):
            return f"w{w}'s call failed"
        return None

    def check(self, trial: TrialRecord) -> list[Violation]:
        out = []
        for w in trial.history.workers():
            if w < 0:
                continue
            evs = trial.history.filter(worker=w)
            what = self._failure(w, evs)
            if what is None:
                continue
            effects = [r for r in trial.history.effects(self.effect) if r.worker == w and r.status != "failed"]
            if effects:
                out.append(Violation(self.name, f"{what} yet effect {effects[0].name!r} happened "
                                     f"for key {effects[0].key!r}: it failed open", (str(effects[0].key),), (w,), (effects[0].begin,)))
            surfaced = any(e.kind == h.ERROR for e in evs) or any(
                e.kind == h.LOG and e.name in SURFACING_LEVELS for e in evs)
            if not surfaced:
                out.append(Violation(self.name, f"{what}, and the failure was swallowed: "
                                     "the trigger returned normally and logged nothing at WARNING or above", (), (w,)))
        return out
