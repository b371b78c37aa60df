"""A controlled thread trial runs its workers on one CPU, as batch tasks: a handoff is one switch.

Under a controlled strategy only one worker moves between points at a time, and worker
threads share the GIL anyway, so spreading them over CPUs buys no parallelism. What it
costs is the handoff: waking a thread that sleeps on another CPU of a virtual machine took
28-84 µs on the 2-core machine, against 6-7 µs when both threads are on the same CPU.

The workers are also ``SCHED_BATCH`` tasks, which the kernel does not let preempt the task
that woke them. Without it the woken worker preempted the one handing over while that one
still held the GIL, waited for the GIL, and was switched out and in again: three context
switches per handoff instead of one (measured with ``perf stat``: 1.4 per point under
``random`` at N=2, 0.56 with it). Batch tasks keep their fair share of the CPU; only that
wakeup preemption goes. ``benchmarks/bench_handoff.py`` measures the per-point cost.

The CPU is chosen per trial: the one the runner's thread is on as the trial starts (the
kernel put it where there was room), among the CPUs the process may use. Only the trial's
worker threads are pinned (and the threads they start, which inherit it); each is a fresh
thread that ends with its trial, so nothing else in the process changes. Nothing is pinned
(nor made a batch task) when the process may use one CPU only, off Linux, or when
``RACECHECK_ONE_CPU=0``.
"""

from __future__ import annotations

import os
from collections.abc import Callable

_getcpu: list[Callable[[], int] | None] = []  # [libc's sched_getcpu or None], looked up once


def _current_cpu() -> int | None:
    if not _getcpu:
        try:
            import ctypes

            found = ctypes.CDLL(None, use_errno=True).sched_getcpu
            found.restype = ctypes.c_int
            found.argtypes = []
            _getcpu.append(found)
        except (OSError, AttributeError):
            _getcpu.append(None)
    getcpu = _getcpu[0]
    if getcpu is None:
        return None
    cpu = getcpu()
    return cpu if isinstance(cpu, int) and cpu >= 0 else None


def _choice() -> tuple[set[int], int] | None:
    """The CPUs this thread may use and the one to pin to, or None to leave threads alone."""
    if os.environ.get("RACECHECK_ONE_CPU", "1") == "0" or not hasattr(os, "sched_setaffinity"):
        return None
    try:
        allowed = os.sched_getaffinity(0)
    except OSError:
        return None
    if len(allowed) < 2:
        return None
    cpu = _current_cpu()
    return allowed, cpu if cpu in allowed else min(allowed)


def trial_cpu() -> int | None:
    """The CPU this trial's controlled worker threads should share, or None to leave them alone."""
    got = _choice()
    return None if got is None else got[1]


def start_threads_here() -> set[int] | None:
    """Pin the calling thread, which is about to start threads, to the CPU it is on; the CPUs to
    give those threads back (each calls ``unpin_this_thread``), or None when nothing was pinned.

    ``Thread.start()`` waits until the new thread has run: 140-160 µs when it wakes on the other
    CPU, 65-85 µs on the starter's (new threads inherit the starter's CPUs).
    """
    got = _choice()
    if got is None:
        return None
    allowed, cpu = got
    try:
        os.sched_setaffinity(0, {cpu})
    except OSError:
        return None
    return allowed


def unpin_this_thread(allowed: set[int]) -> None:
    try:
        os.sched_setaffinity(0, allowed)
    except OSError:
        pass  # a CPU went away since: it keeps the one it has


def pin_this_thread(cpu: int) -> None:
    """Run the calling thread (only it: on Linux, pid 0 is the calling thread) on ``cpu``, as a batch task."""
    try:
        os.sched_setaffinity(0, {cpu})
    except OSError:
        pass  # the CPU went away (hotplug, a cpuset change): the trial runs unpinned, just slower
    try:
        os.sched_setscheduler(0, os.SCHED_BATCH, os.sched_param(0))
    except (OSError, AttributeError):
        pass  # not Linux, or a policy this thread may not change: handoffs just switch more often


__all__ = ["pin_this_thread", "start_threads_here", "trial_cpu", "unpin_this_thread"]
