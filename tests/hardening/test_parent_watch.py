"""The pieces that make the warm template and its forked workers die with the runner."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import pytest

from racecheck._warm import Template
from racecheck.backends.cleanup import proc_alive
from racecheck.parent_watch import _gone

ROOT = Path(__file__).resolve().parents[2]
ENV = dict(os.environ, PYTHONPATH=str(ROOT))
linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="prctl and /proc are Linux")


def test_gone_tells_a_running_a_zombie_and_a_reaped_process_apart() -> None:
    assert not _gone(os.getpid())
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    end = time.monotonic() + 30
    while not _gone(child.pid):  # exited but not reaped yet: a zombie has no parent to serve
        assert time.monotonic() < end, "a zombie child still counts as running"
        time.sleep(0.01)
    assert child.poll() == 0  # it really was a zombie: reaped only now
    assert _gone(child.pid)


def test_die_with_parent_exits_when_the_parent_is_not_the_expected_one() -> None:
    code = "from racecheck.parent_watch import die_with_parent as d; import os; d({}); print('alive')"
    wrong = subprocess.run([sys.executable, "-c", code.format(os.getpid() + 1_000_000)], env=ENV,
                           capture_output=True, text=True, timeout=60)
    assert (wrong.returncode, wrong.stdout) == (1, "")
    right = subprocess.run([sys.executable, "-c", code.format(os.getpid())], env=ENV,
                           capture_output=True, text=True, timeout=60)
    assert (right.returncode, right.stdout) == (0, "alive\n")


@linux_only
def test_die_with_parent_kills_the_child_when_its_parent_is_sigkilled(tmp_path: Path) -> None:
    pid_file = tmp_path / "child"
    middle = textwrap.dedent(f'''
        import subprocess, sys, time
        code = ("import os, time; from racecheck.parent_watch import die_with_parent; "
                "die_with_parent(os.getppid()); open({str(pid_file)!r}, 'w').write(str(os.getpid())); "
                "time.sleep(120)")
        subprocess.Popen([sys.executable, "-c", code])
        time.sleep(120)
    ''')
    proc = subprocess.Popen([sys.executable, "-c", middle], env=ENV, start_new_session=True)
    child = 0
    try:
        end = time.monotonic() + 60
        while not (pid_file.exists() and pid_file.read_text()):
            assert time.monotonic() < end, "the child never started"
            time.sleep(0.02)
        child = int(pid_file.read_text())
        assert proc_alive(child)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
        end = time.monotonic() + 10
        while proc_alive(child) and time.monotonic() < end:
            time.sleep(0.02)
        assert not proc_alive(child), "the child outlived its SIGKILLed parent"
    finally:
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
        if child and proc_alive(child):
            os.kill(child, signal.SIGKILL)


@linux_only
def test_the_template_socket_lives_in_the_run_temp_dir() -> None:
    """A SIGKILLed run leaves its temp dir to the next run's reclaim; a pymp-* dir nobody reclaims."""
    tmp = tempfile.mkdtemp(prefix="racecheck-test-warm-")
    template = Template("json:dumps", [], os.path.join(tmp, "template.json"))
    try:
        assert template.verdict(60)[0]
        assert os.path.dirname(template.server._forkserver_address) == tmp
    finally:
        template.close()
        left = os.listdir(tmp)
        shutil.rmtree(tmp)
    assert left == ["template.json"]  # close() removed the socket
