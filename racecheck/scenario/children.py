"""The scenario worker processes of ``racecheck run -j N``: started, tracked, and stopped together.

On SIGINT or SIGTERM the CLI calls :meth:`Children.stop`: every child gets SIGTERM (it closes
its servers on the way out; its watchdog and the servers' parent-death signal are the backstop),
then SIGKILL after a grace period, and no new child starts.
"""

from __future__ import annotations

import contextlib
import signal
import subprocess
import threading
import time
from collections.abc import Sequence

from ..errors import RacecheckError


def _die_with_parent() -> None:
    """In the child: SIGTERM when the thread that started it (blocked on it) dies with the CLI."""
    with contextlib.suppress(Exception):
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM, 0, 0, 0)  # PR_SET_PDEATHSIG


class Interrupted(RacecheckError):
    """The run is stopping: no new scenario process starts."""


class Children:
    def __init__(self) -> None:
        self._procs: set[subprocess.Popen[str]] = set()
        self._lock = threading.Lock()
        self.stopping = False

    def run(self, argv: Sequence[str]) -> tuple[int, str, str]:
        """Run one child to completion; (returncode, stdout, stderr)."""
        with self._lock:
            if self.stopping:
                raise Interrupted("the run was interrupted")
            proc = subprocess.Popen(list(argv), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                    stdin=subprocess.DEVNULL, text=True, start_new_session=True,
                                    preexec_fn=_die_with_parent)
            self._procs.add(proc)
        try:
            out, err = proc.communicate()
        finally:
            with self._lock:
                self._procs.discard(proc)
        return proc.returncode, out, err

    def stop(self, grace: float = 10.0) -> None:
        """SIGTERM every running child, SIGKILL those still alive after ``grace`` seconds."""
        with self._lock:
            self.stopping = True
            procs = list(self._procs)
        for p in procs:
            with contextlib.suppress(ProcessLookupError):
                p.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + grace
        for p in procs:
            with contextlib.suppress(subprocess.TimeoutExpired):
                p.wait(max(0.0, deadline - time.monotonic()))
            if p.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    p.kill()
                with contextlib.suppress(subprocess.TimeoutExpired):
                    p.wait(5)


def terminate_as_interrupt() -> None:
    """Make SIGTERM behave like Ctrl-C (KeyboardInterrupt) in this process's main thread."""
    def handler(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    with contextlib.suppress(ValueError):  # not the main thread
        signal.signal(signal.SIGTERM, handler)
