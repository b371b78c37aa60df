"""Results of a run: per-trial records, violations, and assertion helpers with timelines."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from . import invariants as inv
from .history import History
from .invariants import Invariant, Violation


@dataclass
class TrialRecord:
    """One trial: its history, its schedule (controlled strategies) and what it violated."""

    index: int
    history: History
    t0: int
    t_end: int
    schedule: str | None = None
    violations: list[Violation] = field(default_factory=list)
    hung: bool = False
    stacks: dict[str, str] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)  # racecheck-side failures (an invariant raised, ...)
    notes: list[str] = field(default_factory=list)  # trial-level reasons the run may be inconclusive

    @property
    def ok(self) -> bool:
        return not self.violations

    def __repr__(self) -> str:  # short: tracebacks and assertion messages must stay readable
        state = f"{len(self.violations)} violation(s)" if self.violations else "ok"
        return f"<TrialRecord {self.index + 1}: {state}, {len(self.history)} events>"

    def to_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "schedule": self.schedule,
            "duration_ms": (self.t_end - self.t0) / 1e6,
            "violations": [v.to_dict() for v in self.violations],
            "hung": self.hung,
            "stacks": self.stacks,
            "errors": self.errors,
            "notes": self.notes,
            "events": self.history.to_dicts(),
        }


@dataclass
class RunResult:
    """What ``racecheck.run`` returns."""

    name: str
    n: int
    mode: str
    strategy: str
    seed: int
    trials: list[TrialRecord]
    trials_requested: int
    elapsed: float
    exhausted: bool = False
    aborted: str | None = None  # why the run ended early (hang, deadlock)
    replay_hint: str = ""
    worker_start: str = ""  # processes: "fork (from a warm template)" or "spawn (why)"

    @property
    def trials_run(self) -> int:
        return len(self.trials)

    def __repr__(self) -> str:  # short: `assert result.ok` must not print every trial's history
        verdict = getattr(self, "verdict", None)
        state = verdict if isinstance(verdict, str) else ("ok" if self.ok else
                                                          f"{len(self.failing)} failing trial(s)")
        return (f"<RunResult {self.name}: {state}, {self.trials_run}/{self.trials_requested} trials, "
                f"n={self.n}, strategy={self.strategy}, seed={self.seed}>")

    @property
    def failing(self) -> list[TrialRecord]:
        return [t for t in self.trials if t.violations]

    @property
    def first_failure(self) -> TrialRecord | None:
        return next((t for t in self.trials if t.violations), None)

    @property
    def violations(self) -> list[Violation]:
        return [v for t in self.trials for v in t.violations]

    @property
    def ok(self) -> bool:
        return not self.failing

    @property
    def trials_to_detection(self) -> int | None:
        f = self.first_failure
        return None if f is None else f.index + 1

    def replay_line(self, trial: TrialRecord | None = None) -> str:
        t = trial or self.first_failure
        if t is None or not t.schedule:
            return ""
        return self.replay_hint.format(schedule=t.schedule) if self.replay_hint else f"racecheck replay '{t.schedule}'"

    def summary(self) -> str:
        if self.ok:
            extra = (f" (schedule space exhausted: {self.trials_run} distinct interleavings)"
                     if self.exhausted else "")
            return f"{self.name}: {self.trials_run} trials, no violation{extra}"
        f = self.first_failure
        assert f is not None
        return (f"{self.name}: violation in trial {f.index + 1} of {self.trials_run}: "
                + "; ".join(str(v) for v in f.violations[:3]))

    def report(self, trial: TrialRecord | None = None, violations: list[Violation] | None = None) -> str:
        """Text report of a failing trial: invariants broken, the per-worker timeline, the replay line."""
        from .timeline import render_timeline

        t = trial or self.first_failure
        if t is None:
            return self.summary()
        vs = violations if violations is not None else t.violations
        lines = [f"racecheck: {self.name}: trial {t.index + 1}/{self.trials_run} "
                 f"(n={self.n}, mode={self.mode}, strategy={self.strategy}, seed={self.seed})"]
        for v in vs:
            lines.append(f"  VIOLATION {v}" + ("" if v.certain else "  [indeterminate]"))
            if v.explanation:
                lines.append(f"    why: {v.explanation}")
        if t.schedule:
            from .scheduling import Schedule

            switches = Schedule.decode(t.schedule).context_switches
            what = "shrunk failing schedule" if self.strategy == "hypothesis" else "failing schedule"
            lines.append(f"  {what} ({switches} context switch{'es' if switches != 1 else ''}): {t.schedule}")
        if t.stacks:
            for who, stack in t.stacks.items():
                lines.append(f"  stack of {who}:")
                lines.extend("    " + s for s in stack.rstrip().splitlines())
        lines.append("")
        lines.append(render_timeline(t, vs))
        if self.strategy == "hypothesis" and t.schedule:
            from .hypothesis_search import step_list
            from .scheduling import Schedule

            switches = Schedule.decode(t.schedule).context_switches
            lines.append("")
            lines.append(f"shrunk schedule ({switches} context switch{'es' if switches != 1 else ''}), step by step:")
            for i, row in enumerate(step_list(t), 1):
                who = "recover" if row["worker"] == -1 else f"w{row['worker']}"
                detail = f"  {row['detail']}" if row["detail"] and row["detail"] != row["point"] else ""
                lines.append(f"  {i:3}. {who:>7}  {row['point']}{detail}")
        line = self.replay_line(t)
        if line:
            lines.append("")
            lines.append(f"replay with: {line}")
        else:
            lines.append("")
            lines.append(f"not replayable: strategy {self.strategy} does not control the interleaving; "
                         "rerun with strategy='pct' (--racecheck-strategy=pct) to get a replay line")
        return "\n".join(lines)

    def to_dict(self, full: bool = False) -> dict[str, Any]:
        f = self.first_failure
        return {
            "name": self.name, "n": self.n, "mode": self.mode, "strategy": self.strategy, "seed": self.seed,
            "trials_run": self.trials_run, "trials_requested": self.trials_requested, "elapsed_s": self.elapsed,
            "ok": self.ok, "exhausted": self.exhausted, "aborted": self.aborted,
            "trials_to_detection": self.trials_to_detection,
            "violations": [v.to_dict() for v in (f.violations if f else [])],
            "replay": self.replay_line(),
            "failing_trial": f.to_dict() if f else None,
            **({"trials": [t.to_dict() for t in self.trials]} if full else {}),
        }

    # -- assertions ------------------------------------------------------------------
    def check(self, invariant: Invariant) -> list[tuple[TrialRecord, list[Violation]]]:
        """Evaluate an invariant over every trial kept; returns the failing (trial, violations) pairs."""
        out = []
        for t in self.trials:
            vs = invariant.check(t)
            if vs:
                out.append((t, vs))
        return out

    def _assert(self, invariant: Invariant) -> None:
        __tracebackhide__ = True  # pytest: the failure points at the test's line, not at racecheck
        bad = self.check(invariant)
        if bad:
            t, vs = bad[0]
            keys = sorted({k for v in vs for k in v.keys})
            raise AssertionError(
                f"{invariant.name} violated in {len(bad)} of {self.trials_run} trials"
                + (f" for key(s) {', '.join(keys)}" if keys else "") + "\n" + self.report(t, vs)
            )

    def assert_ok(self) -> None:
        """Raise if any trial violated an invariant given to the run (or hung)."""
        __tracebackhide__ = True
        f = self.first_failure
        if f is not None:
            names = sorted({v.invariant for v in f.violations})
            keys = sorted({k for v in f.violations for k in v.keys})
            raise AssertionError(
                f"{', '.join(names)} violated in {len(self.failing)} of {self.trials_run} trials"
                + (f" for key(s) {', '.join(keys)}" if keys else "") + "\n" + self.report(f)
            )

    def assert_violation(self, invariant: str | None = None) -> None:
        """Raise unless some trial violated (the named) invariant: for tests that a known bug is still caught."""
        __tracebackhide__ = True
        hits = [v for v in self.violations if invariant is None or v.invariant == invariant]
        if not hits:
            raise AssertionError(f"expected a {invariant or 'violation'} in {self.name} but {self.trials_run} trials passed")

    def assert_exactly_once(self, effect: str, keys: Iterable[Any] | None = None, indeterminate: str = "report") -> None:
        __tracebackhide__ = True
        self._assert(inv.exactly_once(effect, keys, indeterminate))

    def assert_at_most_once(self, effect: str, keys: Iterable[Any] | None = None, indeterminate: str = "report") -> None:
        __tracebackhide__ = True
        self._assert(inv.at_most_once(effect, keys, indeterminate))

    def assert_at_least_once(self, effect: str, keys: Iterable[Any] | None = None, indeterminate: str = "report") -> None:
        __tracebackhide__ = True
        self._assert(inv.at_least_once(effect, keys, indeterminate))

    def assert_mutual_exclusion(self, section: str) -> None:
        __tracebackhide__ = True
        self._assert(inv.mutual_exclusion(section))

    def assert_no_exceptions(self, allow: Iterable[str | type[BaseException]] = ()) -> None:
        __tracebackhide__ = True
        self._assert(inv.no_exceptions(allow))

    def assert_fencing(self, effect: str, token: str = "token") -> None:
        __tracebackhide__ = True
        self._assert(inv.fencing(effect, token))

    def assert_fail_closed(self, effect: str | None = None) -> None:
        __tracebackhide__ = True
        self._assert(inv.fail_closed(effect))
