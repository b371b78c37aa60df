"""pytest collects ``*.race.yaml`` files: one test item per scenario.

A failing item shows the same text report as ``racecheck.run(...).report()`` (the
timeline of the failing trial and the replay line); a file that does not validate
gives one item failing with the ``file:line: field: message`` sentence.
``--racecheck-trials`` and ``--racecheck-seed`` override every scenario's values.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

SUFFIXES = (".race.yaml", ".race.yml")  # loader.PATTERNS; not imported so collection stays cheap


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    if file_path.name.endswith(SUFFIXES):
        return ScenarioFile.from_parent(parent, path=file_path)
    return None


class ScenarioFailed(Exception):
    """The scenario did not behave as its ``expect`` says."""

    def __init__(self, outcome: Any) -> None:
        super().__init__(outcome.line_text())
        self.outcome = outcome


class ScenarioFile(pytest.File):
    def collect(self) -> Any:
        from .loader import LoadedScenario, check_unique, load_file

        seen: set[str] = set()
        for i, r in enumerate(check_unique(load_file(self.path))):
            name = r.name if isinstance(r, LoadedScenario) else (r.name or f"{self.path.name}#{i}")
            if name in seen:
                name = f"{name}#{i}"
            seen.add(name)
            yield ScenarioItem.from_parent(self, name=name, entry=r)


class ScenarioItem(pytest.Item):
    def __init__(self, *, entry: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.entry = entry
        self.outcome: Any = None

    def _overrides(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for opt, key in (("racecheck_trials", "trials"), ("racecheck_seed", "seed")):
            try:
                value = self.config.getoption(opt)
            except ValueError:
                value = None
            if value is not None:
                out[key] = value
        return out

    def runtest(self) -> None:
        from .execute import run_scenario
        from .loader import ScenarioError

        if isinstance(self.entry, ScenarioError):
            raise self.entry
        self.outcome = run_scenario(self.entry, overrides=self._overrides())
        if self.outcome.status == "inconclusive":
            from ..pytest_options import InconclusiveWarning, setting

            if setting(self.config, "inconclusive") == "warn":  # --racecheck-inconclusive=warn
                import warnings

                warnings.warn(InconclusiveWarning(self.outcome.line_text()), stacklevel=1)
                return
        if not self.outcome.ok:
            raise ScenarioFailed(self.outcome)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> Any:
        from .loader import ScenarioError

        exc = excinfo.value
        if isinstance(exc, ScenarioFailed):
            o = exc.outcome
            text = o.line_text()
            if o.report and o.report not in text:
                text += "\n\n" + o.report
            return text
        if isinstance(exc, ScenarioError):
            return str(exc)
        return super().repr_failure(excinfo)

    def reportinfo(self) -> tuple[Path, int | None, str]:
        line = getattr(self.entry, "line", None)
        return self.path, (line - 1) if line else None, f"scenario: {self.name}"
