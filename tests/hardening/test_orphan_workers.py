"""SIGKILL of pytest during a process-mode trial leaves no worker process and no temp dir (5/5)."""

from __future__ import annotations

import glob
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

    def sleeper():
        with open(os.path.join(os.environ["RC_PIDS"], str(os.getpid())), "w") as f:
            f.write(str(os.getppid()))
        time.sleep(120)
''')

INNER = textwrap.dedent('''
    import racecheck

    def test_process_trial_in_flight():
        racecheck.run("orphan_targets:sleeper", mode="processes", n=2, trials=3, timeout=300)
''')


@pytest.mark.parametrize("round_", range(5))
def test_sigkill_mid_process_trial_leaves_no_workers(round_: int, tmp_path: Path) -> None:
    (tmp_path / "orphan_targets.py").write_text(TARGETS)
    (tmp_path / "test_inner.py").write_text(INNER)
    pids_dir = tmp_path / "pids"
    pids_dir.mkdir()
    env = dict(os.environ, RC_PIDS=str(pids_dir), PYTHONPATH=f"{ROOT}{os.pathsep}{tmp_path}")
    env.pop("PYTEST_XDIST_WORKER", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:xdist",
         str(tmp_path / "test_inner.py")],
        cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while sum(1 for p in pids_dir.iterdir() if p.read_text()) < 2:  # pid and parent written
            assert proc.poll() is None, "inner pytest ended before its workers ran"
            assert time.monotonic() < deadline, "the workers never started"
            time.sleep(0.05)
        workers = [int(p) for p in os.listdir(pids_dir)]
        # a worker forked from the warm template has the template as its parent: it must go too
        workers += {int((pids_dir / p).read_text()) for p in os.listdir(pids_dir)} - {proc.pid}
        tmp_dirs = glob.glob(os.path.join("/tmp", f"racecheck-procs-{proc.pid}-*"))
        assert tmp_dirs and all(proc_alive(w) for w in workers)
        os.kill(proc.pid, signal.SIGKILL)  # only pytest: its process group lives on
        proc.wait(10)
        t0 = time.monotonic()
        while time.monotonic() - t0 < 10:
            left = [w for w in workers if proc_alive(w)]
            dirs = [d for d in tmp_dirs if os.path.exists(d)]
            if not left and not dirs:
                break
            time.sleep(0.05)
        assert not left, f"worker processes survived the SIGKILL: {left}"
        assert not dirs, f"temp dirs survived: {dirs}"
    finally:
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
        for p in os.listdir(pids_dir):
            if proc_alive(int(p)):
                os.kill(int(p), signal.SIGKILL)
