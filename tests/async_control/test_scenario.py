"""Scenario files: mode asyncio runs under a controlled strategy (no longer refused), buggy and fixed."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from racecheck.cli import main

TARGETS = '''
import asyncio
import racecheck

RUNS = {}
LOCK = []


def reset():
    RUNS.clear()
    LOCK[:] = [asyncio.Lock()]


async def buggy(key):
    if key not in RUNS:
        await racecheck.apoint("checked")
        racecheck.effect("spawn", key=key)
        RUNS[key] = 1


async def fixed(key):
    async with LOCK[0]:
        if key not in RUNS:
            await racecheck.apoint("checked")
            racecheck.effect("spawn", key=key)
            RUNS[key] = 1
'''


def scenario(folder: Path, variant: str, expect: str, strategy: str) -> Path:
    (folder / "async_scenario_targets.py").write_text(TARGETS)
    path = folder / f"async-{variant}-{strategy}.race.yaml"
    path.write_text(textwrap.dedent(f"""\
        name: async-{variant}-{strategy}
        target: async_scenario_targets:{variant}
        args: [job-1]
        mode: asyncio
        n: 3
        trials: 20
        strategy: {strategy}
        seed: 1
        setup: async_scenario_targets:reset
        invariants:
          - exactly_once: spawn
        expect: {expect}
        """))
    return path


@pytest.mark.parametrize("strategy", ["random", "pct", "dfs"])
def test_asyncio_scenario_under_a_controlled_strategy(tmp_path: Path, strategy: str,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    """The buggy async scenario's violation is caught and the locked one passes: exit 0 for both."""
    buggy = scenario(tmp_path, "buggy", "violation", strategy)
    fixed = scenario(tmp_path, "fixed", "pass", strategy)
    assert main(["run", str(buggy), str(fixed)]) == 0, capsys.readouterr().out


def test_wrong_expectation_is_reported(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Expecting the buggy async scenario to pass is an unexpected violation (exit 1): control really ran."""
    assert main(["run", str(scenario(tmp_path, "buggy", "pass", "pct"))]) == 1
