"""Process-mode runs leave no event directory behind and reclaim those of killed runs."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import racecheck


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_stale_directory_of_a_dead_run_is_reclaimed_and_a_live_one_kept() -> None:
    """A racecheck-procs directory whose pid is dead is removed; one whose pid lives is kept."""
    base = Path(tempfile.gettempdir())
    stale = base / f"racecheck-procs-{_dead_pid()}-test"
    live = base / f"racecheck-procs-{os.getpid()}-keepme"
    stale.mkdir(exist_ok=True)
    live.mkdir(exist_ok=True)
    try:
        racecheck.run("engine.targets:noop", n=2, trials=1, mode="processes")
        assert not stale.exists()
        assert live.exists()
    finally:
        for d in (stale, live):
            if d.exists():
                d.rmdir()


def test_process_run_removes_its_own_directory() -> None:
    """After a process-mode run, no directory named for this process remains but those made by hand."""
    racecheck.run("engine.targets:noop", n=2, trials=2, mode="processes")
    mine = [p for p in Path(tempfile.gettempdir()).glob(f"racecheck-procs-{os.getpid()}-*")]
    assert mine == []
