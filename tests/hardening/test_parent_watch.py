"""The pieces that make the warm template and its forked workers die with the runner."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from racecheck._warm import Template
from racecheck.backends.cleanup import proc_alive
from racecheck.parent_watch import _gone

from .test_orphan_workers import TARGETS as ORPHAN_TARGETS

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
def test_the_template_leaves_nothing_in_the_temp_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The template talks over a socket pair: no socket file, no pymp-* dir that only an orderly exit removes."""
    monkeypatch.setenv("TMPDIR", str(tmp_path))  # the template's (and its workers') temp dir
    template = Template("json:dumps", [])
    try:
        assert template.verdict(60)[0]
        assert list(tmp_path.iterdir()) == []
    finally:
        template.close()
    assert not proc_alive(template.pid)
    assert list(tmp_path.iterdir()) == []


SLEEPER = ORPHAN_TARGETS  # a trigger that writes its pid and its parent's, then sleeps

RUN = textwrap.dedent('''
    import racecheck
    res = racecheck.run("killed_template_targets:sleeper", mode="processes", n=2, trials=1, timeout=300)
    crashes = [e.name for t in res.trials for e in t.history if e.kind == "crash"]
    print(res.worker_start, "|", res.trials[0].hung, "|", crashes)
''')


@linux_only
def test_a_sigkilled_template_takes_its_workers_with_it_and_the_run_goes_on(tmp_path: Path) -> None:
    """A forked worker has the template as its parent and dies with it (PR_SET_PDEATHSIG); the runner,
    told by the closed socket, sees its workers gone instead of waiting out the timeout."""
    (tmp_path / "killed_template_targets.py").write_text(SLEEPER)
    pids = tmp_path / "pids"
    pids.mkdir()
    env = dict(ENV, RC_PIDS=str(pids), PYTHONPATH=f"{ROOT}{os.pathsep}{tmp_path}")
    proc = subprocess.Popen([sys.executable, "-c", RUN], cwd=tmp_path, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)
    workers: list[int] = []
    try:
        end = time.monotonic() + 120
        while sum(1 for p in pids.iterdir() if p.read_text()) < 2:
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < end, "the workers never started"
            time.sleep(0.05)
        workers = [int(p.name) for p in pids.iterdir()]
        (template,) = {int(p.read_text()) for p in pids.iterdir()}
        assert template != proc.pid
        os.kill(template, signal.SIGKILL)
        end = time.monotonic() + 10
        while any(proc_alive(w) for w in workers) and time.monotonic() < end:
            time.sleep(0.05)
        assert not [w for w in workers if proc_alive(w)], "workers outlived their SIGKILLed template"
        out, err = proc.communicate(timeout=60)  # far less than the trial's 300 s timeout
        assert proc.returncode == 0, err
        assert out.startswith("fork (from a warm template) | False |"), out
        assert out.count("exit code -9") == 2, out  # each worker's death is in the history
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        for w in workers:
            if proc_alive(w):
                os.kill(w, signal.SIGKILL)
