"""The racecheck pytest options and the warning the plugin raises: shared by the plugin
(``racecheck.pytest_plugin``) and the scenario collector (``racecheck.scenario.pytest_collect``),
so neither imports the other."""

from __future__ import annotations

from typing import Any

import pytest

OPTIONS: dict[str, tuple[str, type, Any, str]] = {
    # name: (ini key, type, default, help)
    "trials": ("racecheck_trials", int, None, "trials per race.run (default: what the test asks, else 50)"),
    "strategy": ("racecheck_strategy", str, None, "scheduling strategy: stress, random, pct, dfs, hypothesis"),
    "seed": ("racecheck_seed", int, None, "seed for strategies and seeded faults (default: random, printed on failure)"),
    "timeout": ("racecheck_timeout", float, None, "seconds a trial may take before it is reported as a hang"),
    "replay": ("racecheck_replay", str, None, "replay this schedule string ('rc1:...') in the selected test"),
    "replays": ("racecheck_replays", int, 10, "how many times --racecheck-replay runs the schedule"),
    "example_db": ("racecheck_example_db", str, None,
                   "folder of saved failing schedules replayed first (default .racecheck under the "
                   "rootdir; 'off' disables it)"),
    "inconclusive": ("racecheck_inconclusive", str, "fail",
                     "what an inconclusive race.run whose verdict the test never read does: fail (default) "
                     "or warn (see docs/verdicts.md)"),
}
INCONCLUSIVE_MODES = ("fail", "warn")


class InconclusiveWarning(pytest.PytestWarning):
    """A race.run was inconclusive and the test never read its verdict (--racecheck-inconclusive=warn)."""


def setting(config: pytest.Config, name: str) -> Any:
    """The value of option ``name``: its command-line flag, else its ini key, else its default."""
    ini, typ, default, _ = OPTIONS[name]
    value = config.getoption(ini, default=None)
    if value is None:
        raw = config.getini(ini)
        value = typ(raw) if raw not in (None, "", []) else default
    return value
