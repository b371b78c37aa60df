"""The seed scenario suite end to end: ``racecheck run scenarios/seeds`` exits 0 (every buggy caught, every fixed passing)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SEEDS = ROOT / "scenarios" / "seeds"


def test_seed_suite_fast_profile_exits_zero(tmp_path: Path) -> None:
    """Every seed scenario behaves as its 'expect' says: each buggy one is caught, each fixed one passes."""
    report = tmp_path / "seeds.json"
    proc = subprocess.run(
        [sys.executable, "-m", "racecheck.cli", "run", str(SEEDS), "--profile", "fast", "-j", "2",
         "--json", str(report), "--no-progress"],
        cwd=ROOT, capture_output=True, text=True, timeout=900,
    )
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-3000:]
    data = json.loads(report.read_text())
    text = json.dumps(data)
    for stem in ("000-trigger-buggy", "001-groomer-fixed", "002-env-scrub-lazy-url-buggy",
                 "003-lease-split-brain-buggy", "004-reclaim-live-review-guarded-fixed"):
        assert stem in text
