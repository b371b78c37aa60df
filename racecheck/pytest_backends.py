"""The backends a pytest session used, in its terminal summary and JUnit XML, also under xdist.

Each xdist worker starts its own servers; it sends its summary lines to the controller in
``workeroutput`` and the controller prints the union, so the line does not disappear with ``-n``.
"""

from __future__ import annotations

from typing import Any

import pytest

WORKER_KEY = "racecheck_backend_lines"
_FROM_WORKERS = pytest.StashKey[list[str]]()


def _local_lines() -> list[str]:
    try:
        from .backends.pytest_fixtures import backend_summary_lines
    except ImportError:
        return []
    return list(backend_summary_lines())


def session_lines(config: pytest.Config) -> list[str]:
    """This process's lines, then the workers' (each once, in first-seen order)."""
    out: list[str] = []
    for line in _local_lines() + config.stash.get(_FROM_WORKERS, []):
        if line not in out:
            out.append(line)
    return out


def send_to_controller(session: pytest.Session) -> None:
    """On an xdist worker: hand this worker's lines to the controller."""
    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:
        workeroutput[WORKER_KEY] = _local_lines()


def receive_from_worker(config: pytest.Config, node: Any) -> None:
    """On the controller: keep what a finished worker used."""
    lines = getattr(node, "workeroutput", {}).get(WORKER_KEY) or []
    config.stash.setdefault(_FROM_WORKERS, []).extend(lines)


def junit_properties(config: pytest.Config) -> None:
    """``racecheck.backend.<kind>`` global properties in ``--junitxml`` (before it is written)."""
    try:
        from _pytest.junitxml import xml_key
    except ImportError:  # pragma: no cover - a pytest without junitxml
        return
    xml = config.stash.get(xml_key, None)
    if xml is None:
        return
    for line in session_lines(config):
        kind, _, rest = line.removeprefix("racecheck ").partition(": ")
        xml.add_global_property(f"racecheck.backend.{kind}", rest)
