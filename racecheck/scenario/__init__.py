"""YAML scenarios: a schema, a loader with file:line errors, a builder and a runner.

``load_paths`` reads files and folders (``*.race.yaml``); ``run_scenario`` runs one and
judges it against its ``expect``; the CLI and the pytest collector are thin layers on these.
"""

from __future__ import annotations

from .execute import ScenarioOutcome, run_scenario
from .loader import PATTERNS, LoadedScenario, ScenarioError, load_file, load_paths

__all__ = [
    "PATTERNS",
    "LoadedScenario",
    "ScenarioError",
    "ScenarioOutcome",
    "load_file",
    "load_paths",
    "run_scenario",
]
