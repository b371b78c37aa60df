"""Run one loaded scenario and judge it against its ``expect``.

An outcome is as expected (exit 0), an unexpected violation or an unexpected pass
(exit 1), bad input (exit 2), an infrastructure failure such as no backend or a
racecheck-side error in a trial (exit 3), or inconclusive (exit 4: the run could not
have shown the bug; see docs/verdicts.md).
Its :meth:`ScenarioOutcome.to_dict` is the outcome dict racecheck.report consumes.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import ConfigError, InfrastructureError
from .build import prepared
from .loader import LoadedScenario, ScenarioError

AS_EXPECTED = "as-expected"
UNEXPECTED_PASS = "unexpected-pass"
UNEXPECTED_VIOLATION = "unexpected-violation"
ERROR = "error"
INCONCLUSIVE = "inconclusive"
INPUT, INFRA, RUN = "input", "infrastructure", "run"


@dataclass
class ScenarioOutcome:
    """What happened to one scenario; ``result`` (the RunResult) stays in the process that ran it."""

    scenario: str
    file: str
    line: int | None
    expect: str
    status: str
    message: str
    error_kind: str | None = None  # "input" (exit 2) or "infrastructure" (exit 3) when status is "error"
    report: str = ""
    elapsed: float = 0.0
    trials_run: int = 0
    trials_requested: int = 0
    html: str | None = None
    result_dict: dict[str, Any] | None = None
    result: Any = field(default=None, repr=False, compare=False)
    backends: dict[str, Any] = field(default_factory=dict)  # kind -> provider/version it ran on
    emulated: list[str] = field(default_factory=list)  # "redis via fakeredis": not the real server

    @property
    def ok(self) -> bool:
        return self.status == AS_EXPECTED

    @property
    def exit_code(self) -> int:
        if self.status == AS_EXPECTED:
            return 0
        if self.status == ERROR:
            return 2 if self.error_kind == INPUT else 3
        if self.status == INCONCLUSIVE:
            return 4
        return 1

    @property
    def label(self) -> str:
        if self.status == ERROR:
            return "INFRA" if self.error_kind == INFRA else "ERROR"
        if self.status == INCONCLUSIVE:
            return "INCONCLUSIVE"
        if self.status == AS_EXPECTED:
            return {"violation": "CAUGHT", "inconclusive": "INCONCLUSIVE"}.get(self.expect, "PASS")
        return "FAIL"

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}" if self.line else self.file

    def line_text(self) -> str:
        """The one-line result printed per scenario."""
        emu = f" [EMULATED: {', '.join(self.emulated)}]" if self.emulated else ""
        if self.status == ERROR and self.error_kind == INPUT:
            return f"{self.label:<6} {self.message}"
        return f"{self.label:<6} {self.scenario}{emu}: {self.message}"

    def to_dict(self) -> dict[str, Any]:
        """The outcome dict of racecheck.report (plus line, error_kind, message, elapsed_s)."""
        return {
            "scenario": self.scenario, "file": self.file, "line": self.line, "expect": self.expect,
            "status": self.status, "error_kind": self.error_kind, "message": self.message,
            "error": self.message if self.status == ERROR else None,
            "result": self.result if self.result is not None else self.result_dict,
            "report": self.report, "html": self.html, "elapsed_s": self.elapsed,
            "trials_run": self.trials_run, "trials_requested": self.trials_requested,
            "backends": self.backends,
            "emulated": list(self.emulated),
        }

    def portable(self) -> dict[str, Any]:
        """A JSON-able dict from which :meth:`from_portable` rebuilds the outcome in another process."""
        d = self.to_dict()
        d["result"] = self.result_dict
        return d

    @classmethod
    def from_portable(cls, d: dict[str, Any]) -> ScenarioOutcome:
        return cls(d["scenario"], d["file"], d.get("line"), d["expect"], d["status"], d["message"],
                   d.get("error_kind"), d.get("report", ""), float(d.get("elapsed_s") or 0.0),
                   int(d.get("trials_run") or 0), int(d.get("trials_requested") or 0), d.get("html"),
                   d.get("result"), backends=d.get("backends") or {},
                   emulated=list(d.get("emulated") or []))


def error_outcome(err: ScenarioError, expect: str = "pass") -> ScenarioOutcome:
    name = err.name or Path(err.file).name
    return ScenarioOutcome(name, err.file, err.line, expect, ERROR, str(err), INPUT, report=str(err))


def infra_outcome(loaded: LoadedScenario, message: str, elapsed: float = 0.0) -> ScenarioOutcome:
    return ScenarioOutcome(loaded.name, str(loaded.file), loaded.line, loaded.spec.expect, ERROR,
                           message, INFRA, report=message, elapsed=elapsed)


def run_scenario(loaded: LoadedScenario, *, profile: str = "fast", report_dir: str | Path | None = None,
                 overrides: dict[str, Any] | None = None, example_db: str | None = None) -> ScenarioOutcome:
    """Run ``loaded`` with racecheck.run and judge the result against its ``expect``; never raises.

    ``example_db`` (a folder): replay its saved failing schedules first (racecheck.example_db)."""
    from ..example_db import run_scenario_examples

    t0 = time.monotonic()
    try:
        with prepared(loaded, profile, overrides) as plan:
            from ..backends.info import handles_info

            backends = handles_info(plan.options.get("backends"))
            emulated = emulated_backends(plan.options.get("backends") or {})
            result = run_scenario_examples(example_db, loaded, plan.target, plan.options)
    except ScenarioError as err:
        return error_outcome(err, loaded.spec.expect)
    except ConfigError as exc:
        return error_outcome(loaded.error((), str(exc)), loaded.spec.expect)
    except InfrastructureError as exc:
        return infra_outcome(loaded, str(exc), time.monotonic() - t0)
    except Exception as exc:  # noqa: BLE001 - a backend or engine failure: infrastructure, no traceback
        return infra_outcome(loaded, f"{type(exc).__name__}: {exc}", time.monotonic() - t0)
    outcome = judge_outcome(loaded, result, time.monotonic() - t0, report_dir, backends)
    outcome.emulated = emulated
    return outcome


def emulated_backends(handles: dict[str, Any]) -> list[str]:
    """"redis via fakeredis" for each backend handle that is an emulation, not the real server."""
    return [f"{name} via {getattr(getattr(hd, 'server', hd), 'provider', 'an emulation')}"
            for name, hd in sorted(handles.items()) if getattr(hd, "emulated", False)]


def judge_outcome(loaded: LoadedScenario, result: Any, elapsed: float,
          report_dir: str | Path | None = None,
          backends: dict[str, Any] | None = None) -> ScenarioOutcome:
    """Compare a RunResult with the scenario's ``expect`` (and ``expect_invariant``)."""
    spec = loaded.spec
    first = result.first_failure
    broken = sorted({v.invariant for v in first.violations}) if first is not None else []
    trials = f"{result.trials_run}/{result.trials_requested} trials"
    verdict = result.verdict
    if verdict in (INCONCLUSIVE, ERROR):
        why = "; ".join(result.reasons)
        if verdict == ERROR:
            status, message = ERROR, f"racecheck error in {trials}: {why}"
        elif spec.expect == INCONCLUSIVE:
            status, message = AS_EXPECTED, f"inconclusive as expected ({trials}): {why}"
        else:
            status, message = INCONCLUSIVE, f"inconclusive, no violation in {trials} ({elapsed:.1f}s): {why}"
        outcome = ScenarioOutcome(spec.name, str(loaded.file), loaded.line, spec.expect, status, message,
                                  RUN if status == ERROR else None, report=result.report(), elapsed=elapsed,
                                  trials_run=result.trials_run, trials_requested=result.trials_requested,
                                  result_dict=result.to_dict(), result=result)
        return outcome
    if spec.expect == INCONCLUSIVE:
        status = UNEXPECTED_VIOLATION if first is not None else UNEXPECTED_PASS
        message = (f"expected an inconclusive run but it {'found a violation' if first else 'passed'} "
                   f"({trials}); set 'expect: {'violation' if first else 'pass'}' if that is now right")
    elif spec.expect == "pass":
        if result.ok:
            status, message = AS_EXPECTED, f"no violation in {trials} ({elapsed:.1f}s)"
        else:
            status = UNEXPECTED_VIOLATION
            message = (f"violation in trial {first.index + 1} ({trials}): "
                       + "; ".join(str(v) for v in first.violations[:2]))
    elif first is None:
        status = UNEXPECTED_PASS
        message = (f"unexpected pass: expected a violation but {trials} passed ({elapsed:.1f}s); the bug may be "
                   "fixed (then set 'expect: pass') or need more trials or another strategy")
    elif spec.expect_invariant and spec.expect_invariant not in broken:
        status = UNEXPECTED_VIOLATION
        message = (f"expected {spec.expect_invariant} to break but trial {first.index + 1} broke "
                   f"{', '.join(broken)}: " + "; ".join(str(v) for v in first.violations[:2]))
    else:
        status = AS_EXPECTED
        message = (f"expected violation caught in trial {first.index + 1} ({trials}, {elapsed:.1f}s): "
                   + ", ".join(broken))
    outcome = ScenarioOutcome(spec.name, str(loaded.file), loaded.line, spec.expect, status, message,
                              report=result.report() if first is not None else result.summary(),
                              elapsed=elapsed, trials_run=result.trials_run,
                              trials_requested=result.trials_requested, result_dict=result.to_dict(),
                              result=result, backends=dict(backends or {}))
    if report_dir is not None and first is not None:
        outcome.html = _write_html(result, first, report_dir, outcome.backends)
    return outcome


def _write_html(result: Any, trial: Any, report_dir: str | Path,
                backends: dict[str, Any] | None = None) -> str | None:
    try:
        from ..report import write_html
    except ImportError:
        return None
    try:
        return str(write_html(result, trial, Path(report_dir), backends=backends))
    except Exception:  # noqa: BLE001 - a report that cannot be written must not lose the outcome
        return None
