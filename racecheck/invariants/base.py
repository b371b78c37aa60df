"""The invariant vocabulary: a ``Violation`` and the ``Invariant`` protocol every check follows."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from ..result import TrialRecord


@dataclass(frozen=True)
class Violation:
    invariant: str
    message: str
    keys: tuple[str, ...] = ()
    workers: tuple[int, ...] = ()
    times: tuple[int, ...] = ()
    certain: bool = True  # False when only indeterminate effects make it a violation
    explanation: str = ""  # the conflicting accesses that made it possible (racecheck.explain)

    def __str__(self) -> str:
        return f"{self.invariant}: {self.message}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "invariant": self.invariant,
            "message": self.message,
            "keys": list(self.keys),
            "workers": list(self.workers),
            "times": list(self.times),
            "certain": self.certain,
            "explanation": self.explanation,
        }


class Invariant(Protocol):
    name: str

    def check(self, trial: TrialRecord) -> list[Violation]: ...


def _fmt_workers(ws: Iterable[int | None]) -> str:
    return ", ".join(_wname(w) for w in ws)


def _wname(w: int | None) -> str:
    if w is None:
        return "runner"
    return "recover" if w < 0 else f"w{w}"


def _t(trial: TrialRecord, t: int) -> str:
    return f"{(t - trial.t0) / 1e6:.3f}ms"
