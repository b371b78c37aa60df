"""YAML scenarios: a schema, a loader with file:line errors, a builder and a runner.

``load_paths`` reads files and folders (``*.race.yaml``); ``run_scenario`` runs one and
judges it against its ``expect``; the CLI and the pytest collector are thin layers on these.
Names are imported lazily so that the pytest collector costs nothing until a scenario file is seen.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "PATTERNS": "loader",
    "LoadedScenario": "loader",
    "ScenarioError": "loader",
    "load_file": "loader",
    "load_paths": "loader",
    "ScenarioOutcome": "execute",
    "run_scenario": "execute",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
