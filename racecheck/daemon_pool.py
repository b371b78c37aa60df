"""Daemon threads reused from call to call: the process workers' pipe servers and ``bounded()``.

Starting a thread costs a quarter of a millisecond or more on a busy 2-core machine, mostly
waiting for it to be scheduled, and both users start one per worker or per trial.
``concurrent.futures.ThreadPoolExecutor`` reuses threads too, but its threads are not
daemons: a call that never returns (a pipe that never closes, a ``setup()`` that hangs)
would keep the interpreter from exiting. A thread whose call has not returned is never
handed another one: the next call gets an idle thread or a new one.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from typing import Any


class DaemonPool:
    def __init__(self, name: str) -> None:
        self.name = name
        self._jobs: queue.SimpleQueue[tuple[Callable[..., Any], tuple[Any, ...], threading.Event] | None] = (
            queue.SimpleQueue())
        self._lock = threading.Lock()
        self._idle = 0
        self._threads = 0

    def submit(self, fn: Callable[..., Any], *args: Any) -> threading.Event:
        """Run ``fn(*args)`` on an idle thread (or a new one); the event is set once it returned."""
        done = threading.Event()
        with self._lock:
            new = self._idle == 0
            if new:
                self._threads += 1
            else:
                self._idle -= 1
        self._jobs.put((fn, args, done))
        if new:
            threading.Thread(target=self._loop, name=self.name, daemon=True).start()
        return done

    def _loop(self) -> None:
        while True:
            job = self._jobs.get()
            if job is None:
                return
            fn, args, done = job
            try:
                fn(*args)
            finally:
                with self._lock:
                    self._idle += 1  # before the caller hears: its next call finds this thread idle
                done.set()

    def close(self) -> None:
        """Let every thread end once its call (if any) returned."""
        with self._lock:
            count, self._threads, self._idle = self._threads, 0, 0
        for _ in range(count):
            self._jobs.put(None)


__all__ = ["DaemonPool"]
