"""A per-worker text timeline of one trial: one column per worker, time running down."""

from __future__ import annotations

from . import history as h
from .invariants import Violation
from .result import TrialRecord

_MAX_LANES = 6


def describe(e: h.Event) -> str:
    """A short text for one event, as shown in timelines and reports."""
    k = f"[{e.key}]" if e.key is not None else ""
    p = e.payload
    if e.kind == h.SQL:
        return f"sql {p.get('statement', e.name)}"
    if e.kind == h.REDIS:
        return f"redis {p.get('command', e.name)}"
    if e.kind in (h.EFFECT, h.EFFECT_BEGIN):
        extra = "".join(f" {a}={b}" for a, b in p.items() if a not in ("call",))
        return f"{'EFFECT' if e.kind == h.EFFECT else 'call'} {e.name}{k}{extra}"
    if e.kind == h.EFFECT_END:
        return f"end {e.name}{k}" + ("" if p.get("ok", True) else f" raised {p.get('error', '')}")
    if e.kind == h.SECTION_BEGIN:
        return f"enter {e.name}{k}"
    if e.kind == h.SECTION_END:
        return f"leave {e.name}{k}"
    if e.kind == h.FAULT:
        return f"FAULT {e.name} at {p.get('at', '')}"
    if e.kind == h.CRASH:
        return f"CRASH at {e.name}"
    if e.kind == h.ERROR:
        return f"raised {p.get('type', '')}: {p.get('message', '')}"
    if e.kind == h.END:
        r = p.get("result")
        return "returned" + (f" {r}" if r not in (None, "None") else "")
    if e.kind == h.LOG:
        return f"log {e.name}: {p.get('message', '')}"
    if e.kind == h.POINT:
        return f"point {e.name}"
    return f"{e.kind} {e.name}{k}".strip()


def lane_name(w: int | None) -> str:
    if w is None:
        return "runner"
    return "recover" if w < 0 else f"w{w}"


def render_timeline(trial: TrialRecord, violations: list[Violation] | None = None, width: int = 34) -> str:
    events = [e for e in trial.history if e.kind not in (h.SCHEDULE,)]
    flagged = {t for v in (violations or []) for t in v.times}
    lanes = sorted({e.worker for e in events}, key=lambda w: (w is None, -1 if w is None else (10**6 if w < 0 else w)))
    if not events:
        return "(no events recorded)"
    rows: list[str] = []
    if len(lanes) <= _MAX_LANES:
        header = "    t(ms)  " + "".join(lane_name(w).ljust(width) for w in lanes)
        rows.append(header.rstrip())
        rows.append("-" * len(header.rstrip()))
        for e in events:
            mark = "!" if e.t in flagged else " "
            text = describe(e)
            if len(text) > width - 2:
                text = text[: width - 3] + "…"
            col = lanes.index(e.worker)
            rows.append(f"{mark}{(e.t - trial.t0) / 1e6:8.3f}  " + " " * (width * col) + text)
    else:
        for e in events:
            mark = "!" if e.t in flagged else " "
            rows.append(f"{mark}{(e.t - trial.t0) / 1e6:8.3f}  {lane_name(e.worker):>7}  {describe(e)}")
    return "\n".join(rows)
