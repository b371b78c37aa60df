"""Ctrl-C in `racecheck run` (also with -j 2): a real SIGINT keeps the summary of the finished
scenarios, writes the --json/--junit reports of what finished, and exits 130."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

TARGETS = """\
import time

def quick():
    pass

def slow():
    time.sleep(0.2)
"""

FAST = """\
name: {name}
target: ux_sigint_targets:quick
n: 2
trials: 2
expect: pass
"""

SLOW = """\
name: {name}
target: ux_sigint_targets:slow
n: 2
trials: 100000
expect: pass
"""


def _suite(d: Path, names: list[tuple[str, str]]) -> list[str]:
    (d / "ux_sigint_targets.py").write_text(TARGETS)
    paths = []
    for i, (kind, name) in enumerate(names):
        p = d / f"{i}_{name}.race.yaml"
        p.write_text((FAST if kind == "fast" else SLOW).format(name=name))
        paths.append(str(p))
    return paths


def _run_and_interrupt(d: Path, paths: list[str], *extra: str) -> tuple[int, str, str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "NO_COLOR": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "racecheck.cli", "run", *paths, "--no-progress",
                             "--json", str(d / "r.json"), "--junit", str(d / "r.xml"), *extra],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=d)
    assert proc.stdout is not None
    seen = []
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:  # wait until the quick scenario has been reported
        line = proc.stdout.readline()
        seen.append(line)
        if line.startswith("PASS   quick-one"):
            break
    else:
        proc.kill()
        pytest.fail("the quick scenario never finished: " + "".join(seen))
    time.sleep(1.0)  # the slow one is now well inside its trials
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    return proc.returncode, "".join(seen) + out, err


@pytest.mark.parametrize("jobs", [[], ["-j", "2"]], ids=["sequential", "j2"])
def test_sigint_keeps_partial_summary_and_writes_reports(tmp_path: Path, jobs: list[str]) -> None:
    paths = _suite(tmp_path, [("fast", "quick-one"), ("slow", "slow-one"), ("slow", "slow-two")])
    code, out, err = _run_and_interrupt(tmp_path, paths, *jobs)
    assert code == 130, out + err
    assert "Traceback" not in err, err
    summary = out[out.index("scenario "):]
    assert "quick-one" in summary and "slow-one" not in summary and "slow-two" not in summary
    assert "interrupted: 1 of 3 scenario(s) finished" in out
    assert "total time" in out and out.rstrip().endswith("exit 130")
    doc = json.loads((tmp_path / "r.json").read_text())
    assert [s["scenario"] for s in doc["scenarios"]] == ["quick-one"]
    cases = ET.parse(tmp_path / "r.xml").getroot().findall("testsuite/testcase")
    assert [c.get("name") for c in cases] == ["quick-one"]


def test_sigint_leaves_no_scenario_worker_process(tmp_path: Path) -> None:
    paths = _suite(tmp_path, [("fast", "quick-one"), ("slow", "slow-one"), ("slow", "slow-two")])
    before = _children_named("racecheck.scenario.child", tmp_path)
    assert before == []
    code, out, err = _run_and_interrupt(tmp_path, paths, "-j", "2")
    assert code == 130, out + err
    assert _children_named("racecheck.scenario.child", tmp_path) == []


def _children_named(module: str, where: Path) -> list[int]:
    """Processes running ``module`` with a job of this test's folder (nobody else's)."""
    out = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
            cwd = os.readlink(f"/proc/{pid}/cwd")
        except OSError:
            continue
        if module.encode() in cmd and cwd == str(where):
            out.append(int(pid))
    return out
