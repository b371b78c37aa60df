"""Scenario outcomes, the input of the JSON and JUnit reports.

An outcome is a dict::

    {"scenario": name, "file": path, "expect": "violation" | "pass" | "inconclusive",
     "status": "as-expected" | "unexpected-pass" | "unexpected-violation" | "inconclusive" | "error",
     "result": RunResult | RunResult.to_dict() | None, "error": str | None, "html": path | None,
     # optional:
     "report": text report (else rebuilt from the result), "line": int, "error_kind": "input" | "infra",
     "message": one-line verdict, "elapsed_s": float, "trials_run": int,
     "emulated": ["redis via fakeredis"] when a backend was an emulation}
"""

from __future__ import annotations

from typing import Any

from .. import history as h
from ..invariants import Violation
from ..result import RunResult, TrialRecord

STATUSES = ("as-expected", "unexpected-pass", "unexpected-violation", "inconclusive", "error")
EXPECTS = ("violation", "pass", "inconclusive")


def check_outcome(outcome: dict[str, Any], i: int) -> None:
    """Raise ValueError naming the bad field of outcome ``i``."""
    if not isinstance(outcome, dict):
        raise ValueError(f"outcome {i} is a {type(outcome).__name__}, not a dict; pass one dict per scenario")
    if not outcome.get("scenario"):
        raise ValueError(f"outcome {i} has no 'scenario' name; set it to the scenario's name")
    if outcome.get("status") not in STATUSES:
        raise ValueError(f"outcome {i} ({outcome.get('scenario')}) has status {outcome.get('status')!r}; "
                         f"use one of {', '.join(STATUSES)}")
    if outcome.get("expect", "violation") not in EXPECTS:
        raise ValueError(f"outcome {i} ({outcome.get('scenario')}) has expect {outcome.get('expect')!r}; "
                         f"use {', '.join(repr(e) for e in EXPECTS)}")


def result_dict(result: Any) -> dict[str, Any] | None:
    if result is None:
        return None
    if isinstance(result, RunResult):
        return result.to_dict()
    if isinstance(result, dict):
        return result
    raise ValueError(f"outcome result is a {type(result).__name__}; pass a RunResult, its to_dict() or None")


def summary(outcomes: list[dict[str, Any]]) -> dict[str, Any]:
    counts = {s: 0 for s in STATUSES}
    for o in outcomes:
        counts[o["status"]] += 1
    return {"total": len(outcomes), **counts, "ok": counts["as-expected"] == len(outcomes)}


def elapsed(outcome: dict[str, Any]) -> float:
    if outcome.get("elapsed_s") is not None:
        return float(outcome["elapsed_s"])
    r = outcome.get("result")
    if isinstance(r, RunResult):
        return float(r.elapsed)
    if isinstance(r, dict):
        return float(r.get("elapsed_s") or 0.0)
    return 0.0


def text_report(outcome: dict[str, Any]) -> str:
    """The text report of an outcome: its own ``report``, else rebuilt from its result."""
    if outcome.get("report"):
        return str(outcome["report"])
    r = outcome.get("result")
    if isinstance(r, RunResult):
        return r.report()
    if isinstance(r, dict):
        return report_from_dict(r)
    return str(outcome.get("error") or "")


def report_from_dict(d: dict[str, Any]) -> str:
    """Rebuild the text report from ``RunResult.to_dict()`` (the trial start is taken as its first event)."""
    from ..timeline import render_timeline

    ft = d.get("failing_trial")
    if not ft:
        return (f"{d.get('name')}: {d.get('trials_run')} trials, no violation"
                + (" (schedule space exhausted)" if d.get("exhausted") else ""))
    events = [h.Event.from_dict(e) for e in ft.get("events", [])]
    t0 = min((e.t for e in events), default=0)
    vs = [Violation(v["invariant"], v["message"], tuple(v.get("keys", ())), tuple(v.get("workers", ())),
                    tuple(v.get("times", ())), bool(v.get("certain", True))) for v in ft.get("violations", [])]
    trial = TrialRecord(int(ft.get("index", 0)), h.History(events), t0,
                        t0 + int(float(ft.get("duration_ms", 0.0)) * 1e6), ft.get("schedule"), vs,
                        bool(ft.get("hung")), dict(ft.get("stacks") or {}))
    lines = [f"racecheck: {d.get('name')}: trial {trial.index + 1}/{d.get('trials_run')} "
             f"(n={d.get('n')}, mode={d.get('mode')}, strategy={d.get('strategy')}, seed={d.get('seed')})"]
    for v in vs:
        lines.append(f"  VIOLATION {v}" + ("" if v.certain else "  [indeterminate]"))
    for who, stack in trial.stacks.items():
        lines.append(f"  stack of {who}:")
        lines.extend("    " + s for s in str(stack).rstrip().splitlines())
    lines += ["", render_timeline(trial, vs)]
    if d.get("replay"):
        lines += ["", f"replay with: {d['replay']}"]
    return "\n".join(lines)
