"""A per-worker text timeline of one trial: one column per worker, time running down."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from . import history as h

if TYPE_CHECKING:  # type-only: the renderer reads results, results do not import it
    from .invariants import Violation
    from .result import TrialRecord

_MAX_LANES = 6
ROWS = "sql_rows"  # the drivers' row-count event (racecheck.drivers.sqltx.ROWS)


def describe(e: h.Event) -> str:
    """A short text for one event, as shown in timelines and reports."""
    k = f"[{e.key}]" if e.key is not None else ""
    p = e.payload
    if e.kind == h.SQL:
        params = f" {p['params']}" if p.get("params") not in (None, "") else ""
        rows = p.get("rowcount")
        shown = "" if rows is None else f" -> {rows} row{'s' if rows != 1 else ''}"
        return f"sql {p.get('statement', e.name)}{params}{shown}{_delayed(p)}"
    if e.kind == h.REDIS:
        return f"redis {p.get('command', e.name)}{_delayed(p)}"
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


def _delayed(p: dict[str, object]) -> str:
    return f" (sent after a {p['delayed_s']:g} s delay)" if "delayed_s" in p else ""


def fit(e: h.Event, limit: int) -> str:
    """``describe(e)`` in at most ``limit`` characters; a statement is shortened before its bound
    parameters and row count, which say what it did."""
    text = describe(e)
    if len(text) <= limit:
        return text
    p = e.payload
    if e.kind == h.SQL and (p.get("params") or p.get("rowcount") is not None):
        rows = p.get("rowcount")
        tail = f" -> {rows}" if rows is not None else ""
        params = str(p.get("params") or "")
        room = limit - len(tail) - 1
        params = params if len(params) <= room // 2 else params[: max(room // 2 - 1, 0)] + "…"
        head = f"sql {p.get('statement', e.name)}"
        keep = max(limit - len(tail) - len(params) - 2, 8)
        head = head if len(head) <= keep else head[: keep - 1] + "…"
        return f"{head} {params}{tail}".replace("  ", " ")[:limit]
    return text[: limit - 1] + "…"


def lane_name(w: int | None) -> str:
    if w is None:
        return "runner"
    return "recover" if w < 0 else f"w{w}"


def visible_events(events: list[h.Event]) -> list[h.Event]:
    """The events timelines draw: schedule events dropped, each statement's row count (its
    ``sql_rows`` event, recorded by the SQL drivers) folded into the ``sql`` event it belongs to (a copy; the history is kept)."""
    out: list[h.Event] = []
    open_sql: dict[tuple[int, int | None, str], int] = {}
    for e in events:
        if e.kind == h.SCHEDULE:
            continue
        if e.kind == ROWS:
            i = open_sql.pop((e.pid, e.worker, e.name), None)
            if i is not None:
                out[i] = replace(out[i], payload={**out[i].payload, "rowcount": e.payload.get("rows")})
            continue
        if e.kind == h.SQL and "error" not in e.payload:
            open_sql[(e.pid, e.worker, e.name)] = len(out)
        out.append(e)
    return _delayed_sends(out)


def _delayed_sends(events: list[h.Event]) -> list[h.Event]:
    """A statement or command held by a ``delay`` fault at its point is drawn when it was sent.

    The driver records the command when its point is reached, then the fault sleeps, then the
    command goes out: the event is moved to the end of the sleep (capped by the worker's next
    event) and marked with the delay, so a timeline never shows it sent before the pause.
    """
    out = list(events)
    for f in [e for e in events if e.kind == h.FAULT and e.name in ("delay", "pause")
              and e.payload.get("phase", "before") == "before"]:
        i = next(k for k, e in enumerate(out) if e is f)
        j = next((k for k in range(i - 1, -1, -1) if out[k].worker == f.worker and out[k].pid == f.pid), None)
        if j is None or out[j].kind not in (h.SQL, h.REDIS) or out[j].name != f.payload.get("at"):
            continue
        cmd = out.pop(j)
        i -= 1
        seconds = float(f.payload.get("seconds") or 0.0)
        sent = f.t + int(seconds * 1e9)
        nxt = next((e for e in out[i + 1:] if e.worker == f.worker and e.pid == f.pid), None)
        if nxt is not None:
            sent = min(sent, nxt.t)
        moved = replace(cmd, t=max(sent, f.t), payload={**cmd.payload, "delayed_s": seconds,
                                                        "reached_t": cmd.t})
        k = next((k for k in range(i + 1, len(out)) if out[k].t > moved.t), len(out))
        out.insert(k, moved)
    return out


def _lane_key(w: int | None) -> tuple[bool, int]:
    return (w is None, -1 if w is None else (10**6 if w < 0 else w))


def render_timeline(trial: TrialRecord, violations: list[Violation] | None = None, width: int = 34) -> str:
    """One column per worker (time running down); beyond six workers, columns for the six that
    matter most (those in the violation first) and a compact per-worker lane list for the rest."""
    events = visible_events(list(trial.history))
    flagged = {t for v in (violations or []) for t in v.times}
    lanes = sorted({e.worker for e in events}, key=_lane_key)
    if not events:
        return "(no events recorded)"
    columns = lanes
    if len(lanes) > _MAX_LANES:
        hot = {e.worker for e in events if e.t in flagged}
        columns = sorted(sorted(lanes, key=lambda w: (w not in hot, _lane_key(w)))[:_MAX_LANES], key=_lane_key)
    rows: list[str] = []
    header = "    t(ms)  " + "".join(lane_name(w).ljust(width) for w in columns)
    rows.append(header.rstrip())
    rows.append("-" * len(header.rstrip()))
    for e in events:
        if e.worker not in columns:
            continue
        mark = "!" if e.t in flagged else " "
        text = fit(e, width - 2)
        col = columns.index(e.worker)
        rows.append(f"{mark}{(e.t - trial.t0) / 1e6:8.3f}  " + " " * (width * col) + text)
    rest = [w for w in lanes if w not in columns]
    if rest:
        rows.append("")
        rows.append(f"the other {len(rest)} lanes, one line each (t in ms):")
        for w in rest:
            steps = [f"{'!' if e.t in flagged else ''}{(e.t - trial.t0) / 1e6:.3f} {describe(e)}"
                     for e in events if e.worker == w]
            rows.append(f"  {lane_name(w):>7}: " + " | ".join(steps))
    return "\n".join(rows)
