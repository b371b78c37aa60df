"""The checks over one trial's events: once-semantics, critical sections, exceptions, fencing
tokens, rows left stuck, and custom functions."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .. import history as h
from .base import Violation, _fmt_workers, _t, _wname

if TYPE_CHECKING:
    from ..result import TrialRecord


@dataclass
class _Counting:
    """Shared logic of exactly/at-most/at-least once over effects named ``effect``."""

    effect: str
    keys: tuple[str, ...] | None = None
    indeterminate: str = "report"  # "report": a possible duplicate is a violation (certain=False); "ignore"
    name: str = ""

    def _groups(self, trial: TrialRecord) -> dict[str | None, list[h.EffectRecord]]:
        groups: dict[str | None, list[h.EffectRecord]] = defaultdict(list)
        for r in trial.history.effects(self.effect):
            if r.status != "failed":
                groups[r.key].append(r)
        if self.keys is not None:
            for k in self.keys:
                groups.setdefault(k, [])
        return groups

    def _too_many(self, trial: TrialRecord, key: str | None, recs: list[h.EffectRecord]) -> Violation | None:
        done = [r for r in recs if r.status == "done"]
        maybe = [r for r in recs if r.status == "indeterminate"]
        if len(done) > 1:
            return Violation(
                self.name,
                f"effect {self.effect!r} happened {len(done)} times for key {key!r} "
                f"(workers {_fmt_workers(r.worker for r in done)} at {', '.join(_t(trial, r.begin) for r in done)})"
                + (f"; {len(maybe)} more indeterminate" if maybe else ""),
                (str(key),), tuple(r.worker for r in done if r.worker is not None), tuple(r.begin for r in done),
            )
        if maybe and len(done) + len(maybe) > 1 and self.indeterminate == "report":
            rs = done + maybe
            return Violation(
                self.name,
                f"effect {self.effect!r} may have happened {len(rs)} times for key {key!r}: "
                f"{len(done)} done, {len(maybe)} indeterminate (begun, never finished; workers {_fmt_workers(r.worker for r in maybe)})",
                (str(key),), tuple(r.worker for r in rs if r.worker is not None), tuple(r.begin for r in rs), certain=False,
            )
        return None

    def _too_few(self, trial: TrialRecord, key: str | None, recs: list[h.EffectRecord]) -> Violation | None:
        done = [r for r in recs if r.status == "done"]
        maybe = [r for r in recs if r.status == "indeterminate"]
        if done:
            return None
        if maybe and self.indeterminate == "ignore":
            return None
        extra = f"; {len(maybe)} indeterminate (maybe happened)" if maybe else ""
        return Violation(self.name, f"effect {self.effect!r} never happened for key {key!r}{extra}",
                         (str(key),), (), (), certain=not maybe)


class ExactlyOnce(_Counting):
    def __init__(self, effect: str, keys: Iterable[Any] | None = None, indeterminate: str = "report") -> None:
        super().__init__(effect, _keys(keys), indeterminate, "exactly_once")

    def check(self, trial: TrialRecord) -> list[Violation]:
        out = []
        groups = self._groups(trial)
        if not groups:
            return [Violation(self.name, f"effect {self.effect!r} never happened for any key")]
        for key, recs in groups.items():
            v = self._too_many(trial, key, recs) or self._too_few(trial, key, recs)
            if v:
                out.append(v)
        return out


class AtMostOnce(_Counting):
    def __init__(self, effect: str, keys: Iterable[Any] | None = None, indeterminate: str = "report") -> None:
        super().__init__(effect, _keys(keys), indeterminate, "at_most_once")

    def check(self, trial: TrialRecord) -> list[Violation]:
        return [v for key, recs in self._groups(trial).items() if (v := self._too_many(trial, key, recs))]


class AtLeastOnce(_Counting):
    def __init__(self, effect: str, keys: Iterable[Any] | None = None, indeterminate: str = "report") -> None:
        super().__init__(effect, _keys(keys), indeterminate, "at_least_once")

    def check(self, trial: TrialRecord) -> list[Violation]:
        groups = self._groups(trial)
        if not groups:
            return [Violation(self.name, f"effect {self.effect!r} never happened for any key")]
        return [v for key, recs in groups.items() if (v := self._too_few(trial, key, recs))]


def _keys(keys: Iterable[Any] | None) -> tuple[str, ...] | None:
    if keys is None:
        return None
    return tuple(str(h.key_text(k)) for k in keys)


@dataclass(frozen=True)
class Span:
    worker: int | None
    key: str | None
    begin: int
    end: int
    open: bool
    first: int = 0  # position of the begin event in the history (schedule order)
    last: int = 0  # position of the end event (or of the crash, or the history's length)


def sections(trial: TrialRecord, name: str) -> list[Span]:
    """Critical sections named ``name``: explicit ``section()`` blocks and spied spans with ``section=True``.

    A section never closed ends when its worker crashed, else at the end of the trial.
    """
    crash_at: dict[int | None, tuple[int, int]] = {}
    opened: dict[Any, tuple[int, h.Event]] = {}
    spans: list[Span] = []
    for pos, e in enumerate(trial.history):
        if e.kind == h.CRASH:
            crash_at.setdefault(e.worker, (pos, e.t))
        if e.name != name or e.kind not in (h.SECTION_BEGIN, h.SECTION_END):
            continue
        ident = (e.pid, e.worker, e.payload.get("call"))
        if e.kind == h.SECTION_BEGIN:
            opened[ident] = (pos, e)
        elif (begun := opened.pop(ident, None)) is not None:
            b_pos, b = begun
            spans.append(Span(b.worker, b.key, b.t, e.t, False, b_pos, pos))
    for b_pos, b in opened.values():
        end_pos, end_t = crash_at.get(b.worker, (len(trial.history), trial.t_end))
        spans.append(Span(b.worker, b.key, b.t, end_t, True, b_pos, end_pos))
    return sorted(spans, key=lambda s: s.first)


class MutualExclusion:
    """No two workers' critical sections named ``section`` overlap for one key.

    Holding is judged by the order of the section events in the history: ``b`` holds
    while ``a`` does when ``b`` began after ``a`` began and before ``a`` ended. Under a
    controlled strategy that order is the schedule (one worker moves between points, and
    sections have points inside), so an overlap the schedule made is caught even when the
    two sections took microseconds; under ``stress`` it is the wall-clock order.
    """

    name = "mutual_exclusion"

    def __init__(self, section: str) -> None:
        self.section = section

    def check(self, trial: TrialRecord) -> list[Violation]:
        out = []
        by_key: dict[str | None, list[Span]] = defaultdict(list)
        for s in sections(trial, self.section):
            by_key[s.key].append(s)
        how = "in schedule order" if trial.schedule else "at once"
        for key, spans in by_key.items():
            for i, a in enumerate(spans):
                for b in spans[i + 1:]:
                    if b.first >= a.last:
                        break
                    if a.worker == b.worker:
                        continue
                    out.append(Violation(
                        self.name,
                        f"critical section {self.section!r} for key {key!r} held by {_wname(a.worker)} "
                        f"({_t(trial, a.begin)}..{_t(trial, a.end)}) and {_wname(b.worker)} "
                        f"({_t(trial, b.begin)}..{_t(trial, b.end)}) {how}: {_wname(b.worker)} entered "
                        f"before {_wname(a.worker)} left",
                        (str(key),), tuple(w for w in (a.worker, b.worker) if w is not None), (a.begin, b.begin),
                    ))
        return out


class NoExceptions:
    """No trigger (or recovery step) raised, except exception types named in ``allow``."""

    name = "no_exceptions"

    def __init__(self, allow: Iterable[str | type[BaseException]] = ()) -> None:
        self.allow = {a if isinstance(a, str) else a.__name__ for a in allow}

    def check(self, trial: TrialRecord) -> list[Violation]:
        out = []
        for e in trial.history.filter(h.ERROR):
            typ = str(e.payload.get("type", ""))
            if typ in self.allow or typ.rpartition(".")[2] in self.allow:
                continue
            out.append(Violation(self.name, f"{_wname(e.worker)} raised {typ}: {e.payload.get('message', '')}",
                                 (), (e.worker,) if e.worker is not None else (), (e.t,)))
        return out


class Fencing:
    """Fencing tokens strictly increase per resource: effects named ``effect`` carry ``token=``."""

    name = "fencing"

    def __init__(self, effect: str, token: str = "token") -> None:
        self.effect = effect
        self.token = token

    def check(self, trial: TrialRecord) -> list[Violation]:
        out = []
        last: dict[str | None, tuple[Any, h.Event]] = {}
        for e in trial.history.filter(h.EFFECT, name=self.effect):
            if self.token not in e.payload:
                out.append(Violation(self.name, f"effect {self.effect!r} by {_wname(e.worker)} carries no {self.token!r}; "
                                     f"record it with racecheck.effect({self.effect!r}, key=..., {self.token}=...)"))
                continue
            tok = e.payload[self.token]
            prev = last.get(e.key)
            if prev is not None and not tok > prev[0]:
                out.append(Violation(
                    self.name,
                    f"resource {e.key!r}: {_wname(e.worker)} wrote with token {tok!r} at {_t(trial, e.t)} after "
                    f"{_wname(prev[1].worker)} wrote with token {prev[0]!r}: a stale holder's write was accepted",
                    (str(e.key),), tuple(w for w in (prev[1].worker, e.worker) if w is not None), (prev[1].t, e.t),
                ))
            if prev is None or tok > prev[0]:
                last[e.key] = (tok, e)
        return out


class NoStuck:
    """After recovery, a query (any callable returning rows) finds nothing left in a non-terminal state."""

    name = "no_stuck"

    def __init__(self, query: Callable[[], Iterable[Any]], describe: str = "") -> None:
        self.query = query
        self.describe = describe

    def check(self, trial: TrialRecord) -> list[Violation]:
        rows = list(self.query())
        if not rows:
            return []
        shown = ", ".join(repr(r) for r in rows[:5]) + (" ..." if len(rows) > 5 else "")
        what = f" ({self.describe})" if self.describe else ""
        return [Violation(self.name, f"{len(rows)} row(s) left stuck after recovery{what}: {shown}",
                          tuple(str(r) for r in rows[:20]))]


class Custom:
    """Wrap ``fn(history) -> None | bool | str | list[str]``: False or text means violated."""

    def __init__(self, fn: Callable[..., Any], name: str | None = None) -> None:
        self.fn = fn
        self.name: str = name or str(getattr(fn, "__name__", "custom"))

    def check(self, trial: TrialRecord) -> list[Violation]:
        res = self.fn(trial.history)
        if res is None or res is True:
            return []
        if res is False:
            return [Violation(self.name, f"{self.name} returned False")]
        if isinstance(res, str):
            return [Violation(self.name, res)]
        return [v if isinstance(v, Violation) else Violation(self.name, str(v)) for v in res]
