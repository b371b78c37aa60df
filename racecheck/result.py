"""Results of a run as data: per-trial records, violations, the verdict and assertion helpers.

The text they print is rendered by :mod:`racecheck.trial_text`."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from . import invariants as inv
from .errors import Inconclusive, RunErrored
from .history import History
from .invariants import Invariant, Violation
from .verdict import ERROR, INCONCLUSIVE, PASS, verdict_of


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
    errors: list[str] = field(default_factory=list)  # racecheck-side failures: the run's verdict is "error"
    notes: list[str] = field(default_factory=list)  # why this trial tested nothing: "inconclusive"

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
    inconclusive: list[str] = field(default_factory=list)  # filled by racecheck.verdict.judge
    # What the test looked at (the pytest ``race`` fixture fails a test whose verdict nobody read):
    # "violation" once ok/violations/failing/first_failure was read, "verdict" once verdict/reasons
    # was read or an assert_* method was called. See docs/verdicts.md.
    looked: set[str] = field(default_factory=set, repr=False, compare=False)

    @property
    def trials_run(self) -> int:
        return len(self.trials)

    def __repr__(self) -> str:  # short: `assert result.ok` must not print every trial's history
        # verdict_of(), not .verdict: printing a result must not count as the test reading its verdict
        return (f"<RunResult {self.name}: {verdict_of(self)}, {self.trials_run}/{self.trials_requested} trials, "
                f"n={self.n}, strategy={self.strategy}, seed={self.seed}>")

    def _failing(self) -> list[TrialRecord]:
        return [t for t in self.trials if t.violations]

    def _first(self) -> TrialRecord | None:
        return next((t for t in self.trials if t.violations), None)

    @property
    def failing(self) -> list[TrialRecord]:
        self.looked.add("violation")
        return self._failing()

    @property
    def first_failure(self) -> TrialRecord | None:
        self.looked.add("violation")
        return self._first()

    @property
    def violations(self) -> list[Violation]:
        self.looked.add("violation")
        return [v for t in self.trials for v in t.violations]

    @property
    def ok(self) -> bool:
        """No violation (an inconclusive run is ok too: read ``verdict`` or call ``assert_ok()``)."""
        self.looked.add("violation")
        return not self._failing()

    @property
    def verdict(self) -> str:
        """"pass", "violation", "inconclusive" or "error" (see racecheck.verdict)."""
        self.looked.add("verdict")
        return verdict_of(self)

    @property
    def reasons(self) -> list[str]:
        """Why the run is inconclusive or error, one sentence each naming the fix."""
        self.looked.add("verdict")
        return self._reasons()

    def _reasons(self) -> list[str]:
        from .verdict import error_reasons

        return error_reasons(self) + ([] if self._failing() else list(self.inconclusive))

    @property
    def trials_to_detection(self) -> int | None:
        f = self._first()
        return None if f is None else f.index + 1

    def replay_line(self, trial: TrialRecord | None = None) -> str:
        t = trial or self._first()
        if t is None or not t.schedule:
            return ""
        return self.replay_hint.format(schedule=t.schedule) if self.replay_hint else f"racecheck replay '{t.schedule}'"

    def summary(self) -> str:
        verdict = verdict_of(self)
        if verdict in (INCONCLUSIVE, ERROR):
            return (f"{self.name}: {verdict.upper()} after {self.trials_run} trials, no violation: "
                    + "; ".join(self._reasons()))
        if verdict == PASS:
            extra = (f" (schedule space exhausted: {self.trials_run} distinct interleavings)"
                     if self.exhausted else "")
            return f"{self.name}: PASS, {self.trials_run} trials, no violation{extra}"
        f = self._first()
        assert f is not None
        return (f"{self.name}: VIOLATION in trial {f.index + 1} of {self.trials_run}: "
                + "; ".join(str(v) for v in f.violations[:3]))

    def report(self, trial: TrialRecord | None = None, violations: list[Violation] | None = None) -> str:
        """Text report of a failing trial: invariants broken, the per-worker timeline, the replay line
        (rendered by :func:`racecheck.trial_text.render_report`)."""
        from .trial_text import render_report

        return render_report(self, trial, violations)

    def to_dict(self, full: bool = False) -> dict[str, Any]:
        f = self._first()
        return {
            "name": self.name, "n": self.n, "mode": self.mode, "strategy": self.strategy, "seed": self.seed,
            "trials_run": self.trials_run, "trials_requested": self.trials_requested, "elapsed_s": self.elapsed,
            "ok": not self._failing(), "verdict": verdict_of(self), "reasons": self._reasons(), "exhausted": self.exhausted, "aborted": self.aborted,
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
        self.looked.add("verdict")
        bad = self.check(invariant)
        if bad:
            t, vs = bad[0]
            keys = sorted({k for v in vs for k in v.keys})
            raise AssertionError(
                f"{invariant.name} violated in {len(bad)} of {self.trials_run} trials"
                + (f" for key(s) {', '.join(keys)}" if keys else "") + "\n" + self.report(t, vs)
            )

    def assert_ok(self) -> None:
        """Raise unless the verdict is pass: on a violation (AssertionError), and on an inconclusive
        run or a racecheck-side error (racecheck.errors.Inconclusive, naming the reasons)."""
        __tracebackhide__ = True
        self.looked.add("verdict")
        f = self._first()
        if f is not None:
            names = sorted({v.invariant for v in f.violations})
            keys = sorted({k for v in f.violations for k in v.keys})
            raise AssertionError(
                f"{', '.join(names)} violated in {len(self._failing())} of {self.trials_run} trials"
                + (f" for key(s) {', '.join(keys)}" if keys else "") + "\n" + self.report(f)
            )
        verdict = verdict_of(self)
        if verdict != PASS:
            raise (RunErrored if verdict == ERROR else Inconclusive)(self.summary_reasons())

    def summary_reasons(self) -> str:
        """The verdict and its reasons, one per line (what Inconclusive and the pytest fixture say)."""
        verdict = verdict_of(self)
        lines = [f"{self.name}: {verdict.upper()} after {self.trials_run} of {self.trials_requested} trials "
                 "(no violation, but the run could not have shown one):" if verdict == INCONCLUSIVE else
                 f"{self.name}: {verdict.upper()} after {self.trials_run} of {self.trials_requested} trials:"]
        lines.extend(f"  - {r}" for r in self._reasons())
        return "\n".join(lines)

    def assert_violation(self, invariant: str | None = None) -> None:
        """Raise unless some trial violated (the named) invariant: for tests that a known bug is still caught."""
        __tracebackhide__ = True
        self.looked.add("verdict")
        hits = [v for t in self.trials for v in t.violations if invariant is None or v.invariant == invariant]
        if not hits:
            why = "".join(f"; {verdict_of(self)}: {r}" for r in self._reasons())
            raise AssertionError(f"expected a {invariant or 'violation'} in {self.name} but "
                                 f"{self.trials_run} trials passed{why}")

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
