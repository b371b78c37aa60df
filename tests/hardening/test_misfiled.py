"""Outcomes filed under the right exit code: a service that cannot start is infrastructure (3)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

MISSING_DEP_SERVICE = """
name: service-missing-dependency
service:
  command: ["{python}", "-c", "import racecheck_no_such_dependency_xyz"]
  ready: /health
  ready_timeout: 10
trigger:
  http: {{url: "${{SERVICE_URL}}/dispatch"}}
n: 2
trials: 1
invariants:
  - no_exceptions: {{}}
expect: pass
"""


def test_service_that_cannot_start_is_an_infrastructure_failure(tmp_path: Path) -> None:
    """A service whose dependency is missing exits before it is ready: exit 3 (infra), not 2 (input)."""
    (tmp_path / "svc.race.yaml").write_text(MISSING_DEP_SERVICE.format(python=sys.executable))
    proc = subprocess.run([sys.executable, "-m", "racecheck.cli", "run", str(tmp_path), "--json",
                           str(tmp_path / "out.json")], cwd=ROOT, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 3, proc.stdout + proc.stderr
    out = json.loads((tmp_path / "out.json").read_text())["scenarios"][0]
    assert out["status"] != "bad-input" and "racecheck_no_such_dependency_xyz" in out["message"]
