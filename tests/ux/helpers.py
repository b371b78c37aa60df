"""Shared helpers for the ux tests: small real runs and a headless Chromium."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile

import pytest

import racecheck
from racecheck.result import RunResult

from . import ux_targets as t

SPAWN = f"{t.__name__}:spawn"


def small_result(n: int = 3, fn: str = "buggy", trials: int = 50) -> RunResult:
    """A real in-memory run of the check-then-act dispatcher (buggy: spawns twice)."""
    return racecheck.run(getattr(t, fn), n=n, trials=trials, strategy="random", seed=1, setup=t.reset,
                         spies=[racecheck.spy(SPAWN, key="job")],
                         invariants=[racecheck.exactly_once("spawn")])


def chromium() -> str:
    for cand in ("/usr/bin/chromium", shutil.which("chromium") or "", "/usr/lib/chromium/chromium"):
        if cand and os.path.exists(cand):
            return cand
    pytest.fail("chromium not found: install it with `sh scripts/install-system-deps.sh`")


FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def dump_dom(path: str, width: int = 1400) -> str:
    """The DOM after the page's script ran in headless Chromium."""
    with tempfile.TemporaryDirectory(prefix="racecheck-ux-chromium-") as profile:
        proc = subprocess.run([chromium(), *FLAGS, f"--window-size={width},1000", f"--user-data-dir={profile}",
                               "--virtual-time-budget=3000", "--dump-dom", f"file://{path}"],
                              capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout


# A check-then-act claim written as a target module of its own (pytester and CLI projects):
# racecheck.point between the check and the act lets a controlled strategy interleave them.
CLAIM_BUGGY = """\
import racecheck
claims = {}
def reset(): claims.clear()
def spawn(job): ...
def trigger(job="j"):
    racecheck.point("check")
    if job in claims:
        return False
    racecheck.point("claim")
    claims[job] = 1
    spawn(job)
    return True
"""
CLAIM_FIXED = CLAIM_BUGGY.replace('    racecheck.point("claim")\n', "")  # no switch between check and act: atomic
