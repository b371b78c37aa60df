"""Why a violation could happen: the conflicting accesses, read from the history.

For each worker a duplicate-effect or overlapping-section violation names, find its last
read before its effect (a SQL SELECT, a Redis GET/EXISTS/..., an instrumented line that
reads) and the other worker's write on the same resource that came after that read, so
the read could not see it: "w0's SELECT on review_run saw nothing at 6.5ms; w1 INSERT
on review_run at 15.9ms; w0 spawned at 55.2ms". Attached to the violation as
``explanation``; shown in the text report, JSON and the HTML timeline.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

from . import history as h
from .scheduling.resources import Access, access_of

if TYPE_CHECKING:
    from .invariants import Violation
    from .result import TrialRecord

EXPLAINED = ("exactly_once", "at_most_once", "mutual_exclusion")
_ACCESS_KINDS = (h.SQL, h.REDIS, h.POINT)


@dataclasses.dataclass(frozen=True)
class Touch:
    worker: int
    t: int
    label: str
    access: Access

    def verb(self) -> str:
        kind, _, rest = self.label.partition(":")
        if kind in ("sql", "redis"):
            return rest.split(None, 1)[0].upper() if rest else kind
        return "write" if self.access.write else "read"

    def what(self) -> str:
        res = sorted(r.split(":", 1)[-1] for r in (self.access.resources or ()))
        return ", ".join(res) or "?"


def _accesses(trial: TrialRecord) -> list[Touch]:
    out = []
    for e in trial.history:
        if e.kind in _ACCESS_KINDS and e.worker is not None and e.worker >= 0 and not e.payload.get("error"):
            a = access_of(e.name)
            if not a.unknown and a.resources:
                out.append(Touch(e.worker, e.t, e.name, a))
    return out


def _ms(trial: TrialRecord, t: int) -> str:
    return f"{(t - trial.t0) / 1e6:.1f} ms"


def conflicts_of(trial: TrialRecord, v: Violation) -> list[tuple[int, int, Touch, Touch | None]]:
    """Per worker of ``v``: (worker, time it acted, its last read before, the unseen write or None)."""
    if v.invariant not in EXPLAINED or len(v.workers) < 2 or len(v.times) < len(v.workers):
        return []
    acc = _accesses(trial)
    acted = dict(zip(v.workers, v.times, strict=False))
    out: list[tuple[int, int, Touch, Touch | None]] = []
    for w, t_act in acted.items():
        reads = [a for a in acc if a.worker == w and a.t <= t_act and not a.access.write]
        if not reads:
            continue
        read = reads[-1]
        unseen = [a for a in acc if a.worker != w and a.worker in acted and a.access.write and a.t >= read.t
                  and _same(read.access, a.access)]
        out.append((w, t_act, read, unseen[0] if unseen else None))
    return out


def explain(trial: TrialRecord, v: Violation) -> str:
    """One sentence naming the read each worker acted on and the write it did not see, or ""."""
    verb = "entered the section" if v.invariant == "mutual_exclusion" else "acted"
    parts: list[str] = []
    for w, t_act, read, wr in conflicts_of(trial, v):
        text = f"w{w}'s {read.verb()} on {read.what()} at {_ms(trial, read.t)} did not see "
        if wr is not None:
            text += f"w{wr.worker}'s {wr.verb()} on {wr.what()} at {_ms(trial, wr.t)}"
        else:
            text += "any other worker's write"
        parts.append(text + f"; w{w} {verb} at {_ms(trial, t_act)}")
    return "; ".join(parts)


def windows(trial: TrialRecord) -> list[tuple[int, int, str]]:
    """(read time, write time, text) of every explained conflict in the trial: the window to shade."""
    out = []
    for v in trial.violations:
        for w, _, read, wr in conflicts_of(trial, v):
            if wr is not None:
                out.append((read.t, wr.t, f"w{w}'s {read.verb()} on {read.what()} before w{wr.worker}'s {wr.verb()}"))
    return out


def _same(a: Access, b: Access) -> bool:
    ra, rb = a.resources or frozenset(), b.resources or frozenset()
    tables = {r.split("[", 1)[0] for r in ra}
    return bool(ra & rb) or any(r.split("[", 1)[0] in tables for r in rb)


def explain_trial(trial: TrialRecord) -> None:
    """Attach explanations to the trial's violations (in place)."""
    trial.violations[:] = [
        dataclasses.replace(v, explanation=text) if (text := explain(trial, v)) else v for v in trial.violations
    ]
