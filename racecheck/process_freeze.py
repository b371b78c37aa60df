"""The ``freeze`` fault: stop a whole worker process (SIGSTOP) for a while, then SIGCONT.

Unlike ``pause`` (one thread sleeps), every thread of the process stops, including a
lock's renewal thread: the classic way an auto-renewing lease still expires (a long GC
pause, a VM migration, a laptop lid). Only a worker *process* can be frozen: a thread or
a task shares its process with the runner. A process cannot wake itself from SIGSTOP, so
the worker asks the runner, which stops it and schedules the SIGCONT.
"""

from __future__ import annotations

import os
import signal
import threading
from typing import TYPE_CHECKING, Any

from .errors import ConfigError

if TYPE_CHECKING:
    from ._runtime import Runtime
    from .faults import Fault

NEEDS_PROCESSES = ("fault freeze stops a whole worker process and needs mode='processes' "
                   "(threads and asyncio tasks share the runner's process); use pause for one thread")


def apply_freeze(rt: Runtime, worker: int, label: str, fault: Fault) -> None:
    """In the worker: ask the runner to freeze this process for the fault's ``seconds``."""
    if rt.mode != "processes" or rt.parent_call is None:
        raise ConfigError(NEEDS_PROCESSES)
    from . import _runtime

    token = _runtime.set_worker(None)  # the runner's answer is not the worker's history
    try:
        rt.parent_call("freeze", {"pid": os.getpid(), "seconds": float(fault.params.get("seconds", 0.0))})
    finally:
        _runtime._worker.reset(token)


def freeze_process(params: dict[str, Any]) -> None:
    """In the runner: SIGSTOP the process now and SIGCONT it after ``seconds``."""
    pid, seconds = int(params["pid"]), float(params.get("seconds", 0.0))

    def thaw() -> None:
        try:
            os.kill(pid, signal.SIGCONT)
        except ProcessLookupError:
            pass

    timer = threading.Timer(seconds, thaw)
    timer.daemon = True
    os.kill(pid, signal.SIGSTOP)
    timer.start()
