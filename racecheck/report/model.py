"""What the HTML timeline draws, computed from one trial: lanes, marks, bars, overlaps, duplicates.

Kept apart from the rendering so the rules (which bars overlap, which effects are
duplicates) can be read and tested on their own.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from .. import history as h
from ..result import TrialRecord
from ..timeline import describe, lane_name, visible_events

# Event kinds drawn as prominent marks (letter in a box, inline label); the rest are thin ticks.
MAJOR_KINDS = {h.SQL, h.REDIS, h.EFFECT, h.EFFECT_BEGIN, h.FAULT, h.CRASH, h.ERROR, h.HANG, h.LOG}
# The class a kind is drawn with: spied calls are effects too.
KIND_CLASS = {h.EFFECT_BEGIN: "effect", h.EFFECT_END: "effect-end", h.RECOVER_BEGIN: "recover",
              h.RECOVER_END: "recover", h.SECTION_BEGIN: "section-mark", h.SECTION_END: "section-mark"}
LETTER = {h.SQL: "S", h.REDIS: "R", h.EFFECT: "E", h.EFFECT_BEGIN: "E", h.FAULT: "F",
          h.CRASH: "\u2715", h.ERROR: "!", h.HANG: "H", h.LOG: "L"}


@dataclass
class Mark:
    """One event on a lane."""

    idx: int  # position in the trial's event order (0-based)
    event: h.Event
    ms: float  # milliseconds since the trial started
    text: str
    classes: list[str] = field(default_factory=list)

    @property
    def major(self) -> bool:
        return self.event.kind in MAJOR_KINDS


@dataclass
class Bar:
    """A critical section (kind "section") or a spied effect call (kind "effect") on a lane."""

    kind: str
    name: str
    key: str | None
    worker: int | None
    begin_idx: int
    end_idx: int  # index of the closing event, or one past the last event when never closed
    begin_ms: float
    end_ms: float
    status: str  # "closed", "open" (never closed), "done", "failed", "indeterminate"
    classes: list[str] = field(default_factory=list)
    row: int = 0

    @property
    def label(self) -> str:
        k = f"[{self.key}]" if self.key is not None else ""
        return f"{self.name}{k}"


@dataclass
class Lane:
    worker: int | None
    label: str
    marks: list[Mark] = field(default_factory=list)
    bars: list[Bar] = field(default_factory=list)

    @property
    def data_worker(self) -> str:
        return "runner" if self.worker is None else str(self.worker)

    @property
    def bar_rows(self) -> int:
        return 1 + max((b.row for b in self.bars), default=-1)


@dataclass
class TimelineModel:
    lanes: list[Lane]
    marks: list[Mark]
    bars: list[Bar]
    span_ms: float
    duplicate_keys: list[tuple[str, str | None, int]]  # (effect, key, times done)
    overlap_keys: list[tuple[str, str, str | None]]  # (kind, name, key)
    overlap_windows: list[tuple[Bar, Bar]] = field(default_factory=list)  # pairs held at once


def lane_order(w: int | None) -> tuple[int, int]:
    """Workers first in order, then the recovery step, then the runner."""
    if w is None:
        return (2, 0)
    return (1, 0) if w < 0 else (0, w)


def build(trial: TrialRecord, n: int = 0) -> TimelineModel:
    """Lay out one trial: every event a mark, every section/spied call a bar, with highlights."""
    events = visible_events(list(trial.history))
    flagged = {t for v in trial.violations for t in v.times}
    end_ms = max((trial.t_end - trial.t0) / 1e6, (events[-1].t - trial.t0) / 1e6 if events else 0.0)
    marks = [Mark(i, e, (e.t - trial.t0) / 1e6, describe(e),
                  ["event", KIND_CLASS.get(e.kind, e.kind)] + (["flagged"] if e.t in flagged else []))
             for i, e in enumerate(events)]
    bars = _bars(marks, end_ms, len(events))
    overlap_keys, windows = _mark_overlaps(bars)
    duplicate_keys = _mark_duplicates(marks, bars)
    workers = {e.worker for e in events} | set(range(n))
    lanes = {w: Lane(w, lane_name(w)) for w in sorted(workers, key=lane_order)}
    for m in marks:
        lanes[m.event.worker].marks.append(m)
    for b in bars:
        lanes[b.worker].bars.append(b)
    for lane in lanes.values():
        _pack_rows(lane.bars)
    return TimelineModel(list(lanes.values()), marks, bars, end_ms, duplicate_keys, overlap_keys, windows)


def _bars(marks: list[Mark], end_ms: float, count: int) -> list[Bar]:
    """Pair section_begin/end and effect_begin/end by (pid, worker, call); unclosed ones end at the crash or the trial's end."""
    crash_at: dict[int | None, Mark] = {}
    for m in marks:
        if m.event.kind == h.CRASH:
            crash_at.setdefault(m.event.worker, m)
    opened: dict[tuple[str, Any, Any, Any], Mark] = {}
    out: list[Bar] = []
    for m in marks:
        e = m.event
        kind = {h.SECTION_BEGIN: "section", h.EFFECT_BEGIN: "effect"}.get(e.kind)
        if kind is not None:
            opened[(kind, e.pid, e.worker, e.payload.get("call"))] = m
            continue
        kind = {h.SECTION_END: "section", h.EFFECT_END: "effect"}.get(e.kind)
        if kind is None:
            continue
        b = opened.pop((kind, e.pid, e.worker, e.payload.get("call")), None)
        if b is None:
            continue
        status = "closed" if kind == "section" else ("done" if e.payload.get("ok", True) else "failed")
        out.append(Bar(kind, b.event.name, b.event.key, b.event.worker, b.idx, m.idx, b.ms, m.ms, status))
    for (kind, _pid, w, _call), b in opened.items():
        c = crash_at.get(w)
        stop_ms, stop_idx = (c.ms, c.idx) if c is not None and c.idx > b.idx else (end_ms, count)
        status = "open" if kind == "section" else "indeterminate"
        out.append(Bar(kind, b.event.name, b.event.key, w, b.idx, stop_idx, b.ms, stop_ms, status))
    for bar in out:
        bar.classes = ["section", "effect-span" if bar.kind == "effect" else "critical", bar.status]
    out.sort(key=lambda x: (x.begin_idx, x.end_idx))
    return out


def _mark_overlaps(bars: list[Bar]) -> tuple[list[tuple[str, str, str | None]], list[tuple[Bar, Bar]]]:
    """Bars of the same kind, name and key held by different workers at once get class ``overlap``."""
    groups: dict[tuple[str, str, str | None], list[Bar]] = defaultdict(list)
    for b in bars:
        if b.status != "failed":
            groups[(b.kind, b.name, b.key)].append(b)
    found: list[tuple[str, str, str | None]] = []
    windows: list[tuple[Bar, Bar]] = []
    for gkey, group in groups.items():
        hit = False
        for i, a in enumerate(group):
            for b in group[i + 1:]:
                if a.worker != b.worker and a.begin_idx < b.end_idx and b.begin_idx < a.end_idx:
                    for x in (a, b):
                        if "overlap" not in x.classes:
                            x.classes.append("overlap")
                    windows.append((a, b))
                    hit = True
        if hit:
            found.append(gkey)
    return found, windows


def _mark_duplicates(marks: list[Mark], bars: list[Bar]) -> list[tuple[str, str | None, int]]:
    """An effect (name, key) done more than once: its marks and spans get ``duplicate``; an
    indeterminate call that would make it one more gets ``maybe-duplicate``."""
    status_of = {b.begin_idx: b.status for b in bars if b.kind == "effect"}
    groups: dict[tuple[str, str | None], list[Mark]] = defaultdict(list)
    for m in marks:
        if m.event.kind == h.EFFECT or (m.event.kind == h.EFFECT_BEGIN and status_of.get(m.idx) != "failed"):
            groups[(m.event.name, m.event.key)].append(m)
    bar_by_begin = {b.begin_idx: b for b in bars if b.kind == "effect"}
    found: list[tuple[str, str | None, int]] = []
    for (name, key), ms in groups.items():
        done = [m for m in ms if status_of.get(m.idx, "done") == "done"]
        maybe = [m for m in ms if status_of.get(m.idx) == "indeterminate"]
        if len(done) > 1:
            found.append((name, key, len(done)))
            for nth, m in enumerate(done):
                # every copy is highlighted; only the second and later ones are the duplicates
                m.classes += ["duplicate", "first" if nth == 0 else "again"]
                if m.idx in bar_by_begin:
                    bar_by_begin[m.idx].classes.append("duplicate")
        if maybe and len(done) + len(maybe) > 1:
            for m in maybe:
                m.classes.append("maybe-duplicate")
                bar_by_begin[m.idx].classes.append("maybe-duplicate")
    return found


def _pack_rows(bars: list[Bar]) -> None:
    """Greedy interval packing so bars of one lane never cover each other."""
    row_end: list[int] = []
    for b in sorted(bars, key=lambda x: (x.begin_idx, x.end_idx)):
        for r, end in enumerate(row_end):
            if end <= b.begin_idx:
                b.row, row_end[r] = r, b.end_idx
                break
        else:
            b.row = len(row_end)
            row_end.append(b.end_idx)
