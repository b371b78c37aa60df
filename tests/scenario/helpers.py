"""Shared helpers for the scenario tests: write scenario files next to a copy of the targets."""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

HERE = Path(__file__).parent
MALFORMED = HERE / "malformed"
EXAMPLES = HERE.parent.parent / "scenarios" / "examples"


def write_scenario(folder: Path, name: str, body: str) -> Path:
    """Write ``body`` as ``<name>.race.yaml`` in ``folder``, with scenario_targets.py beside it."""
    shutil.copy(HERE / "scenario_targets.py", folder / "scenario_targets.py")
    path = folder / f"{name}.race.yaml"
    path.write_text(textwrap.dedent(body).lstrip(), encoding="utf-8")
    return path


def claim(name: str, variant: str, expect: str, trials: int = 30, extra: str = "") -> str:
    """A claim scenario over scenario_targets (``variant`` is 'buggy' or 'fixed')."""
    return f"""
name: {name}
target: scenario_targets:claim_{variant}
args: [job-1]
n: 3
trials: {trials}
strategy: random
seed: 3
setup: scenario_targets:reset
spies:
  - target: scenario_targets:spawn
    key: job
invariants:
  - exactly_once: spawn
expect: {expect}
{extra}"""
