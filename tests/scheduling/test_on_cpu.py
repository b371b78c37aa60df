"""A worker that is busy on the CPU past the quantum is slow, not blocked; one waiting on a lock is blocked."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time

import pytest

import racecheck
import racecheck.execution.threads
from racecheck.scheduling import Controller


class Counting(Controller):
    instances: list[Counting] = []

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        Counting.instances.append(self)


@pytest.fixture
def controllers(monkeypatch: pytest.MonkeyPatch) -> list[Counting]:
    Counting.instances = []
    monkeypatch.setattr(racecheck.execution.threads, "Controller", Counting)
    return Counting.instances


def _spin(seconds: float) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        pass


def busy(i: int) -> None:
    racecheck.point("a")
    _spin(0.15)  # 15x the quantum, all of it on the CPU
    racecheck.point("b")


HOG_CPU = max(os.sched_getaffinity(0))


@pytest.fixture
def hog() -> object:
    """A process spinning on HOG_CPU for the test's length."""
    code = f"import os, sys\nos.sched_setaffinity(0, {{{HOG_CPU}}})\nsys.stdout.write('x')\nsys.stdout.flush()\nwhile True:\n    pass\n"
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE)
    try:
        assert proc.stdout is not None and proc.stdout.read(1) == b"x"  # spinning from here on
        yield proc
    finally:
        proc.kill()
        proc.wait()


LOCK = threading.Lock()


def waits_on_lock(i: int) -> None:
    if i == 0:
        with LOCK:
            racecheck.point("holding")  # parked here while w1 waits for the lock
    else:
        racecheck.point("before")
        with LOCK:
            pass


def test_cpu_bound_step_is_not_marked_blocked(controllers: list[Counting]) -> None:
    """Spinning past the quantum does not mark the worker blocked, so the schedule stays controlled."""
    result = racecheck.run(busy, n=2, trials=2, strategy="random", seed=1, quantum=0.01,
                           worker_args=lambda i: (i,), invariants=[])
    assert result.ok
    assert sum(c.blocked_marks for c in controllers) == 0


@pytest.mark.parametrize("mode", ["threads", "processes"])
def test_starved_worker_is_not_marked_blocked(controllers: list[Counting], hog: object, mode: str) -> None:
    """A worker ready to run but kept off its CPU by another process is slow, not blocked."""
    result = racecheck.run("scheduling.targets:starved", n=2, trials=2, strategy="random", seed=1, quantum=0.01,
                           mode=mode, worker_args=lambda i: (i, HOG_CPU), invariants=[], timeout=20)
    assert result.ok, result.report()
    assert len(controllers) == 2
    assert sum(c.blocked_marks for c in controllers) == 0


def test_worker_waiting_on_a_lock_is_marked_blocked(controllers: list[Counting]) -> None:
    """A worker asleep on a lock held by a parked worker is marked blocked and the trial still ends."""
    result = racecheck.run(waits_on_lock, n=2, trials=8, strategy="dfs", quantum=0.01,
                           worker_args=lambda i: (i,), invariants=[], timeout=10)
    assert result.ok, result.report()
    assert sum(c.blocked_marks for c in controllers) >= 1
