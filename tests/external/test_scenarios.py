"""External triggers, the effect sink and services in scenario YAML, run by the racecheck CLI."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from .conftest import ROOT

PYDISPATCHER = Path(__file__).with_name("pydispatcher.py")


def racecheck_cli(*args: str, cwd: Path = ROOT, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", "import sys; from racecheck.cli import main; sys.exit(main())", *args],
                          cwd=cwd, capture_output=True, text=True, timeout=timeout)


def http_scenario(variant: str, expect: str) -> str:
    return f"""
name: py-dispatch-{variant}
service:
  command: ["{sys.executable}", "{PYDISPATCHER}"]
  env: {{VARIANT: {variant}}}
  ready: /health
trigger:
  http: {{url: "${{SERVICE_URL}}/dispatch"}}
setup: reset_steps:reset
effect_sink: {{env: REVIEWER_URL, key: "path:-1"}}
n: 4
trials: 5
invariants:
  - exactly_once: {{effect: review, keys: [j1]}}
expect: {expect}
"""


RESET_STEPS = """
import os
import urllib.request

def reset():
    urllib.request.urlopen(urllib.request.Request(os.environ["SERVICE_URL"] + "/reset", data=b"", method="POST")).read()
"""


def test_http_scenarios_catch_the_buggy_service_and_pass_the_fixed_one(tmp_path: Path) -> None:
    """A YAML http trigger against a started service catches check-then-act and passes the locked claim."""
    (tmp_path / "reset_steps.py").write_text(RESET_STEPS)
    (tmp_path / "buggy.race.yaml").write_text(http_scenario("buggy", "violation"))
    (tmp_path / "fixed.race.yaml").write_text(http_scenario("fixed", "pass"))
    proc = racecheck_cli("run", str(tmp_path), "--json", str(tmp_path / "out.json"), "-j", "1")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    statuses = {s["scenario"]: (s["status"], s["result"]["trials_run"]) for s in json.loads((tmp_path / "out.json").read_text())["scenarios"]}
    assert statuses["py-dispatch-fixed"] == ("as-expected", 5)
    assert statuses["py-dispatch-buggy"][0] == "as-expected"


COMMAND_SCENARIO = """
name: append-{name}
trigger:
  command:
    argv: [sh, -c, '{cmd}']
    env: {{OUT: "{out}"}}
setup: file_steps:reset
n: 4
trials: 5
invariants:
  - custom: {{check: "file_steps:one_line"}}
expect: {expect}
"""

FILE_STEPS = """
import os
OUT = {out!r}

def reset():
    open(OUT, "w").close()

def one_line(history):
    lines = open(OUT).read().splitlines()
    return None if len(lines) == 1 else f"{{len(lines)}} lines: {{lines}}"
"""

APPEND = 'if [ ! -s "$OUT" ]; then sleep 0.02; echo $RACECHECK_WORKER >> "$OUT"; fi'


def test_command_scenarios_catch_check_then_append_and_pass_flock(tmp_path: Path) -> None:
    """A YAML command trigger catches the racy append and passes the flock-protected one."""
    out = tmp_path / "claims"
    (tmp_path / "file_steps.py").write_text(FILE_STEPS.format(out=str(out)))
    (tmp_path / "buggy.race.yaml").write_text(COMMAND_SCENARIO.format(name="buggy", cmd=APPEND, out=out,
                                                                      expect="violation"))
    locked = f"flock {tmp_path / 'lock'} sh -c \\'{APPEND}\\'".replace("\\'", "\"")
    (tmp_path / "fixed.race.yaml").write_text(COMMAND_SCENARIO.format(name="fixed", cmd=locked.replace('"$OUT"', "$OUT"),
                                                                      out=out, expect="pass"))
    proc = racecheck_cli("run", str(tmp_path), "-j", "1")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "CAUGHT append-buggy" in proc.stdout and "PASS   append-fixed" in proc.stdout


def test_service_that_cannot_start_is_reported_with_the_scenario(tmp_path: Path) -> None:
    """A service command that exits at once is an infrastructure error (exit 3) naming the service, not a hang."""
    (tmp_path / "dead.race.yaml").write_text(f"""
name: dead-service
service: {{command: ["{sys.executable}", "-c", "raise SystemExit(7)"]}}
trigger: {{http: {{url: "${{SERVICE_URL}}/x"}}}}
n: 1
trials: 1
""")
    proc = racecheck_cli("run", str(tmp_path))
    assert proc.returncode == 3, proc.stdout + proc.stderr
    assert "service" in proc.stdout and "exited 7" in proc.stdout


def test_node_scenarios_run_as_expected(node_dispatcher: Path) -> None:
    """`racecheck run scenarios/node` catches the buggy Node dispatchers and passes the fixed ones (exit 0)."""
    proc = racecheck_cli("run", "scenarios/node", "--trials", "2")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.count("CAUGHT") == 2 and proc.stdout.count("PASS ") == 2
