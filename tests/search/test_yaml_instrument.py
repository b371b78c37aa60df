"""YAML ``instrument:``: the in-memory check-then-add is found only when its module is instrumented."""

from __future__ import annotations

import textwrap
import uuid
from pathlib import Path

import pytest

from racecheck.cli import main

MODULE = '''
import racecheck

SEEN = set()


def reset():
    SEEN.clear()


def add_once():
    if "k" in SEEN:
        return
    SEEN.add("k")
    racecheck.effect("spawn", key="k")
'''


def _scenario(folder: Path, instrument: bool, expect: str) -> Path:
    mod = f"yaml_search_{uuid.uuid4().hex[:10]}"
    (folder / f"{mod}.py").write_text(MODULE, encoding="utf-8")
    body = f"""
    name: instrumented-check-then-add
    target: {mod}:add_once
    n: 2
    trials: 10
    strategy: random
    seed: 1
    setup: {mod}:reset
    {'instrument: [' + mod + ']' if instrument else ''}
    invariants:
      - at_most_once: spawn
    expect: {expect}
    """
    path = folder / "s.race.yaml"
    path.write_text(textwrap.dedent(body).lstrip(), encoding="utf-8")
    return path


def test_yaml_instrument_finds_the_race(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", str(_scenario(tmp_path, True, "violation"))]) == 0, capsys.readouterr().out


def test_yaml_without_instrument_sees_no_race(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The same scenario, not instrumented: nothing to switch at, so the run cannot pass: inconclusive (exit 4)."""
    code = main(["run", str(_scenario(tmp_path, False, "violation"))])
    out = capsys.readouterr().out
    assert code == 4, out
    assert "no scheduling point reached" in out, out
