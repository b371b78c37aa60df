"""Postgres servers racecheck starts leave no SysV shared-memory segment behind, even when killed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from racecheck.backends import provide_postgres

ROOT = Path(__file__).resolve().parents[2]


def _segments_of(cpid: int) -> list[str]:
    rows = Path("/proc/sysvipc/shm").read_text().splitlines()[1:]
    return [r.split()[1] for r in rows if len(r.split()) > 4 and r.split()[4] == str(cpid)]


pytestmark = pytest.mark.skipif(not Path("/proc/sysvipc/shm").exists(), reason="needs /proc/sysvipc")


@pytest.mark.parametrize("round_", range(5))
def test_crash_stop_and_close_leave_no_segment(round_: int) -> None:
    """A backend_down-style SIGKILL of the postmaster, a restart and the close: no segment stays."""
    srv = provide_postgres(providers=["local", "embedded"])
    pids = []
    try:
        db = srv.database()
        conn = db.connect()
        conn.execute("select 1")
        pids.append(srv.process.proc.pid)
        assert _segments_of(pids[-1]), "postgres made no SysV segment: nothing to check"
        srv.stop("kill")
        conn.close()
        srv.start()
        pids.append(srv.process.proc.pid)
        db.execute("select 1")
    finally:
        srv.close()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(_segments_of(p) for p in pids):
        time.sleep(0.05)
    assert [s for p in pids for s in _segments_of(p)] == []


CHILD = textwrap.dedent('''
    import sys, time
    from racecheck.backends import provide_postgres
    srv = provide_postgres(providers=["local", "embedded"])
    srv.database().execute("select 1")
    print(srv.process.proc.pid, flush=True)
    time.sleep(120)
''')


@pytest.mark.parametrize("round_", range(5))
def test_sigkilled_owner_leaves_no_segment(round_: int, tmp_path: Path) -> None:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    child = subprocess.Popen([sys.executable, "-c", CHILD], env=env, stdout=subprocess.PIPE, text=True,
                             start_new_session=True)
    try:
        assert child.stdout is not None
        postmaster = int(child.stdout.readline())
        assert _segments_of(postmaster)
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and _segments_of(postmaster):
        time.sleep(0.05)
    assert _segments_of(postmaster) == []
