"""fail_closed: a trigger whose backend call failed did no effect and surfaced the failure."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from .. import history as h
from ..faults.kind import KINDS
from .base import Violation

if TYPE_CHECKING:
    from ..result import TrialRecord

SURFACING_LEVELS = ("WARNING", "ERROR", "CRITICAL")


def _failure_test(action: str) -> Callable[[list[h.Event], h.Event], bool] | None:
    kind = KINDS.get(action)
    return None if kind is None else kind.failure


class FailClosed:
    """A trigger that met a failure did no effect and surfaced it (raised, or logged at WARNING or above).

    A worker met a failure when a fault whose kind says so (``FaultKind.failure``) fired in it
    (an injected error, a downed backend, or a scrubbed variable it then read; not a crash, a
    delay or a clock jump: time passed or the worker is gone, other invariants judge those), when one of its
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
            if e.kind == h.FAULT and (judge := _failure_test(e.name)) is not None and judge(evs, e):
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
