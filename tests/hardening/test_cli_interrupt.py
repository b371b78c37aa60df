"""`racecheck run -j 2` stops on SIGINT/SIGTERM sent to its pid: no child, no server left (5/5)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from racecheck.backends.cleanup import proc_alive

ROOT = Path(__file__).resolve().parents[2]

TARGETS = textwrap.dedent('''
    import os, time

    def slow(url=None):
        with open(os.path.join(os.environ["RC_PIDS"], str(os.getpid())), "w") as f:
            f.write("x")
        time.sleep(2)
''')

SCENARIO = textwrap.dedent('''
    name: slow-{i}
    target: int_targets:slow
    n: 2
    trials: 100
    timeout: 60
    backends: {{postgres: {{url_kwarg: url}}, redis: {{}}}}
''')


def _descendants(pid: int) -> set[int]:
    out: set[int] = set()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[-1].split()
        if len(fields) > 3 and int(fields[1]) == pid:
            out.add(int(entry))
    for child in list(out):
        out |= _descendants(child)
    return out


@pytest.mark.parametrize(("round_", "sig"), [(i, s) for i, s in enumerate(
    [signal.SIGINT, signal.SIGINT, signal.SIGINT, signal.SIGTERM, signal.SIGTERM])])
def test_interrupt_stops_children_and_servers(round_: int, sig: int, tmp_path: Path) -> None:
    (tmp_path / "int_targets.py").write_text(TARGETS)
    for i in range(3):
        (tmp_path / f"slow{i}.race.yaml").write_text(SCENARIO.format(i=i))
    pids_dir = tmp_path / "pids"
    pids_dir.mkdir()
    env = dict(os.environ, RC_PIDS=str(pids_dir), PYTHONPATH=f"{ROOT}{os.pathsep}{tmp_path}")
    proc = subprocess.Popen([sys.executable, "-m", "racecheck.cli", "run", str(tmp_path), "-j", "2"],
                            cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while len(os.listdir(pids_dir)) < 2:
            assert proc.poll() is None, "racecheck run ended before its scenarios ran"
            assert time.monotonic() < deadline, "the scenarios never started"
            time.sleep(0.05)
        tree = _descendants(proc.pid)
        assert len(tree) >= 6  # two children, their servers, watchdogs, workers
        os.kill(proc.pid, sig)  # its pid only, as `kill -INT <pid>` does
        code = proc.wait(60)
        assert code == 130
        t0 = time.monotonic()
        while time.monotonic() - t0 < 15 and any(proc_alive(p) for p in tree):
            time.sleep(0.05)
        assert [p for p in tree if proc_alive(p)] == []
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
