"""A helper process that dies with its parent, even a SIGKILLed one (no orphan workers).

Process-mode workers start :func:`watch_parent` first: a daemon thread polls the parent pid
and, once it changed (the parent died and the worker was reparented), removes the run's temp
dir and exits. Polling works whichever thread spawned the worker, unlike PR_SET_PDEATHSIG,
which fires when the spawning *thread* ends.
"""

from __future__ import annotations

import os
import shutil
import threading
import time


def watch_parent(cleanup_dir: str | None = None, poll: float = 0.2) -> threading.Thread:
    parent = os.getppid()

    def loop() -> None:
        while True:
            time.sleep(poll)
            if os.getppid() != parent:
                if cleanup_dir:
                    shutil.rmtree(cleanup_dir, ignore_errors=True)
                os._exit(1)

    thread = threading.Thread(target=loop, name="racecheck-parent-watch", daemon=True)
    thread.start()
    return thread
