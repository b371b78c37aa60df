"""No orphans: servers die with a SIGKILLed pytest, and stale session dirs are reclaimed on the next start."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from racecheck.backends.cleanup import proc_alive, procs_in_dirs, reclaim_stale, temp_root

INNER = textwrap.dedent('''
    import json, os, time

    def test_sleeps_mid_test(race_postgres, race_redis):
        pg = race_postgres.server
        rd = race_redis.server
        conn = race_postgres.connect()          # a live backend process too
        conn.execute("select 1")
        race_redis.client().ping()
        info = {
            "pytest": os.getpid(),
            "postmaster": pg.process.proc.pid,
            "redis": rd.proc.pid,
            "dirs": [str(pg.process.base), str(rd.base)],
            "session": str(pg.process.sess.dir),
            "watchdog": pg.process.sess.watchdog_pid,
        }
        with open(os.environ["RC_INFO"] + ".tmp", "w") as f:
            json.dump(info, f)
        os.rename(os.environ["RC_INFO"] + ".tmp", os.environ["RC_INFO"])
        time.sleep(120)
''')


def _server_procs(info: dict) -> list[int]:
    """Live (non-zombie) processes that are the servers or run inside their dirs (postgres backends)."""
    pids = set(procs_in_dirs(info["dirs"])) | {p for p in (info["postmaster"], info["redis"]) if proc_alive(p)}
    return sorted(p for p in pids if proc_alive(p))


@pytest.mark.parametrize("provider", ["local", "embedded"])
def test_sigkill_pytest_leaves_no_servers(tmp_path, provider):
    """SIGKILL a pytest run mid-test: within 10 s none of its servers, backends or temp dirs remain."""
    (tmp_path / "test_inner.py").write_text(INNER)
    info_path = tmp_path / "info.json"
    env = dict(os.environ, RC_INFO=str(info_path), RACECHECK_PROVIDERS=provider)
    env.pop("PYTEST_XDIST_WORKER", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:xdist",
         "-p", "no:randomly", str(tmp_path / "test_inner.py")],
        cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while not info_path.exists():
            assert proc.poll() is None, "inner pytest ended before reaching the sleep"
            assert time.monotonic() < deadline, "inner pytest never reached the sleep"
            time.sleep(0.05)
        info = json.loads(info_path.read_text())
        assert proc_alive(info["postmaster"]) and proc_alive(info["redis"])
        assert len(_server_procs(info)) >= 4  # postmaster + auxiliaries + a backend + redis
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
        t0 = time.monotonic()
        while time.monotonic() - t0 < 10:
            left = _server_procs(info)
            dirs = [d for d in info["dirs"] + [info["session"]] if Path(d).exists()]
            if not left and not dirs:
                break
            time.sleep(0.05)
        assert not left, f"server processes survived the SIGKILL: {left}"
        assert not dirs, f"temp dirs survived: {dirs}"
        assert not proc_alive(info["watchdog"]) or time.monotonic() - t0 < 10
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_stale_session_is_reclaimed_on_next_start(tmp_path):
    """A session dir whose owner is dead is reclaimed: its listed server process is killed and the dir removed."""
    root = temp_root()
    victim = subprocess.Popen(["sleep", "300"], start_new_session=True)
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    d = root / f"s-{dead.pid}-test{os.getpid()}"
    d.mkdir()
    (d / "owner").write_text(f"{dead.pid} 1\n")
    from racecheck.backends.cleanup import proc_starttime

    (d / "manifest.json").write_text(json.dumps({
        "procs": [{"pid": victim.pid, "start": proc_starttime(victim.pid), "pgid": victim.pid}],
        "dirs": [], "pg_drop": [], "shm_ids": []}))
    try:
        assert reclaim_stale(root) >= 1
        assert not d.exists()
        assert victim.wait(5) == -signal.SIGKILL
    finally:
        if victim.poll() is None:
            victim.kill()
