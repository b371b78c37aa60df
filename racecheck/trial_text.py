"""The text report of a run's failing trial: what ``RunResult.report()`` and the ``assert_*``
helpers print (verdict line, violations, stacks, the per-worker timeline, the shrunk steps,
the replay line). Results are data; this module renders them."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from . import history as h
from .scheduling import Schedule
from .timeline import render_timeline
from .verdict import PASS, verdict_of

if TYPE_CHECKING:
    from .invariants import Violation
    from .result import RunResult, TrialRecord


def render_report(result: RunResult, trial: TrialRecord | None = None,
                  violations: list[Violation] | None = None) -> str:
    """Text report of ``trial`` (default: the run's first failing trial) and ``violations``
    (default: the trial's own)."""
    t = trial or result._first()
    if t is None:
        return result.summary() if verdict_of(result) == PASS else result.summary_reasons()
    vs = violations if violations is not None else t.violations
    which = (f"{t.index + 1}/{result.trials_run}" if t.index < result.trials_run
             else f"{t.index + 1} (replayed on its own)")  # a replay runs the recorded trial alone
    lines = [f"racecheck: {result.name}: trial {which} "
             f"(n={result.n}, mode={result.mode}, strategy={result.strategy}, seed={result.seed})"]
    for v in vs:
        lines.append(f"  VIOLATION {v}" + ("" if v.certain else "  [indeterminate]"))
        if v.explanation:
            lines.append(f"    why: {v.explanation}")
    if t.schedule:
        switches = Schedule.decode(t.schedule).context_switches
        what = "shrunk failing schedule" if result.strategy == "hypothesis" else "failing schedule"
        lines.append(f"  {what} ({switches} context switch{'es' if switches != 1 else ''}): {t.schedule}")
    if t.stacks:
        for who, stack in t.stacks.items():
            lines.append(f"  stack of {who}:")
            lines.extend("    " + s for s in stack.rstrip().splitlines())
    lines.append("")
    lines.append(render_timeline(t, vs))
    if result.strategy == "hypothesis" and t.schedule:
        switches = Schedule.decode(t.schedule).context_switches
        lines.append("")
        lines.append(f"shrunk schedule ({switches} context switch{'es' if switches != 1 else ''}), step by step:")
        for i, row in enumerate(step_list(t), 1):
            who = "recover" if row["worker"] == -1 else f"w{row['worker']}"
            detail = f"  {row['detail']}" if row["detail"] and row["detail"] != row["point"] else ""
            lines.append(f"  {i:3}. {who:>7}  {row['point']}{detail}")
    line = result.replay_line(t)
    if line:
        lines.append("")
        lines.append(f"replay with: {line}")
    else:
        lines.append("")
        lines.append(f"not replayable: strategy {result.strategy} does not control the interleaving; "
                     "rerun with strategy='pct' (--racecheck-strategy=pct) to get a replay line")
    return "\n".join(lines)


def step_list(trial: TrialRecord) -> list[dict[str, Any]]:
    """The steps of a trial as (worker, point, SQL or command) rows, for printing a shrunk schedule."""
    rows = []
    for e in trial.history:
        if e.kind in (h.SQL, h.REDIS, h.POINT, h.EFFECT_BEGIN, h.EFFECT, h.SECTION_BEGIN):
            rows.append({"worker": e.worker, "kind": e.kind, "point": e.name,
                         "detail": e.payload.get("statement") or e.payload.get("command") or e.key})
    return rows
