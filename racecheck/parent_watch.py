"""A helper process that dies with its parent, even a SIGKILLed one (no orphan workers).

Process-mode workers start :func:`watch_parent` first: a daemon thread polls the parent pid
and, once it changed (the parent died and the worker was reparented) or the run's runner
process is gone, removes the run's temp dir and exits. Polling works whichever thread
spawned the worker, unlike PR_SET_PDEATHSIG, which fires when the spawning *thread* ends.
A worker forked from the warm template has the template as its parent, not the runner: it
watches both, so either death ends it (and the template itself dies with the runner, see
:func:`die_with_parent`).
"""

from __future__ import annotations

import os
import shutil
import signal
import threading
import time

PR_SET_PDEATHSIG = 1  # linux/prctl.h


def _gone(pid: int) -> bool:
    """True once ``pid`` has exited (a zombie counts as exited: nobody may have reaped it yet)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    try:
        with open(f"/proc/{pid}/stat") as fh:
            state = fh.read().rsplit(")", 1)[-1].split()
    except OSError:
        return False  # no /proc: the kill above is all we can tell
    return bool(state) and state[0] in ("Z", "X")


def watch_parent(cleanup_dir: str | None = None, poll: float = 0.2,
                 runner: int | None = None, also_dirs: tuple[str, ...] = ()) -> threading.Thread:
    parent = os.getppid()
    if runner == parent:
        runner = None  # a spawned worker: the parent watch already covers it
    dirs = tuple(d for d in (cleanup_dir, *also_dirs) if d)

    def loop() -> None:
        while True:
            time.sleep(poll)
            if os.getppid() != parent or (runner is not None and _gone(runner)):
                for d in dirs:
                    shutil.rmtree(d, ignore_errors=True)
                os._exit(1)

    thread = threading.Thread(target=loop, name="racecheck-parent-watch", daemon=True)
    thread.start()
    return thread


def die_with_parent(expected_parent: int, sig: int = signal.SIGKILL) -> None:
    """Make this process (a single-threaded one: the warm template) get ``sig`` when its parent dies.

    PR_SET_PDEATHSIG sends ``sig`` when the thread that started us ends; checking the parent
    pid right after closes the race of a parent that died before the prctl. Without prctl
    (not Linux) only the check is done.
    """
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, int(sig), 0, 0, 0)
    except (OSError, AttributeError):
        pass
    if os.getppid() != expected_parent:
        os._exit(1)
