"""The run that is active in this process, and the user-facing hooks that report into it.

Outside a run every hook is a cheap no-op: ``point()`` reads one module global and
returns. Inside a run the worker a call belongs to is a context variable, set by the
runner in each worker thread, task or process.
"""

from __future__ import annotations

import contextvars
import itertools
import logging
import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Protocol

from . import history as h
from .errors import WorkerCrashed

if TYPE_CHECKING:
    from .faults import FaultInjector

RECOVER_WORKER = -1  # worker id given to events of the recovery step

_worker: contextvars.ContextVar[int | None] = contextvars.ContextVar("racecheck_worker", default=None)
# Set while an async point fires its faults: a delay there is collected and awaited, not slept.
_deferred_sleep: contextvars.ContextVar[list[float] | None] = contextvars.ContextVar(
    "racecheck_deferred_sleep", default=None)
_ACTIVE: Runtime | None = None
_real_time = time.time



class Gate(Protocol):
    """What a worker talks to at each point under a controlled strategy."""

    def arrive(self, worker: int, label: str) -> None: ...

    def finish(self, worker: int) -> None: ...


_PROCESS_WORKER: int | None = None  # set in a spawned worker process: threads it starts inherit it


def current_worker() -> int | None:
    """The racecheck worker id of the calling thread/task/process, or None outside a worker."""
    w = _worker.get()
    return _PROCESS_WORKER if w is None else w


def set_process_worker(worker: int | None) -> None:
    global _PROCESS_WORKER
    _PROCESS_WORKER = worker


def set_worker(worker: int | None) -> contextvars.Token[int | None]:
    return _worker.set(worker)


def active() -> Runtime | None:
    return _ACTIVE


class Runtime:
    """Per-process state of the current trial: where events go, which faults may fire, the gate."""

    def __init__(
        self,
        *,
        mode: str,
        sink: h.Sink,
        injector: FaultInjector | None = None,
        gate: Gate | None = None,
        parent_call: Callable[[str, dict[str, Any]], Any] | None = None,
    ) -> None:
        self.mode = mode
        self.sink = sink
        self.injector = injector
        self.gate = gate
        # Runs an action that must happen in the runner process (backend_down in process mode).
        self.parent_call = parent_call
        self.trial_over = threading.Event()
        self._calls = itertools.count(1)
        self._clock_shift: dict[int | None, float] = {}
        self._resources: dict[int | None, list[Callable[[], None]]] = {}
        self._lock = threading.Lock()
        self.crashed: set[int] = set()
        self.on_park: Callable[[int], None] | None = None  # asyncio: told when a crashed task parks

    # -- recording -------------------------------------------------------------------
    def record(self, kind: str, name: str = "", key: Any = None, **payload: Any) -> None:
        self.sink.write(h.make_event(current_worker(), kind, name, key, **payload))

    def next_call_id(self) -> int:
        return next(self._calls)

    # -- points ----------------------------------------------------------------------
    def at_point(
        self, label: str, kind: str = h.POINT, record: bool = True, **payload: Any
    ) -> None:
        """A worker reached a point: wait for the scheduler, record it, then fire faults."""
        worker = current_worker()
        if worker is None:
            return
        if self.gate is not None and worker >= 0:
            self.gate.arrive(worker, label)
        if record:
            self.record(kind, label, **payload)
        if self.injector is not None:
            self.injector.fire(self, worker, label, "before")

    def schedule_point(self, label: str) -> None:
        """A point for the scheduler only (no event, no fault): another worker may run here."""
        worker = current_worker()
        if worker is not None and self.gate is not None and worker >= 0:
            self.gate.arrive(worker, label)

    def after_point(self, label: str) -> None:
        """A statement or call matched by ``label`` completed: fire after-faults (ambiguous writes)."""
        worker = current_worker()
        if worker is not None and self.injector is not None:
            self.injector.fire(self, worker, label, "after")

    async def at_point_async(
        self, label: str, kind: str = h.POINT, record: bool = True, **payload: Any
    ) -> None:
        """``at_point`` for a coroutine: under a controlled asyncio trial the task awaits its turn
        (other tasks run meanwhile), and a delay fault is awaited instead of blocking the loop."""
        worker = current_worker()
        if worker is None:
            return
        gate = self.gate
        if gate is not None and worker >= 0:
            arrive_async = getattr(gate, "arrive_async", None)
            if arrive_async is not None:
                await arrive_async(worker, label)
            else:
                gate.arrive(worker, label)  # a thread gate: this coroutine runs on the worker's own thread
        if record:
            self.record(kind, label, **payload)
        if self.injector is not None:
            await self._fire_async(worker, label, "before")

    async def after_point_async(self, label: str) -> None:
        """``after_point`` for a coroutine."""
        worker = current_worker()
        if worker is not None and self.injector is not None:
            await self._fire_async(worker, label, "after")

    async def _fire_async(self, worker: int, label: str, phase: str) -> None:
        import asyncio

        assert self.injector is not None
        delays: list[float] = []
        token = _deferred_sleep.set(delays)
        crashed = False
        try:
            self.injector.fire(self, worker, label, phase)
        except WorkerCrashed:
            crashed = True
            raise
        finally:
            _deferred_sleep.reset(token)
            if delays:  # a delay fired before whatever else happened: hold only this task
                await asyncio.sleep(sum(delays))
            if crashed:
                await self._park(worker)

    async def _park(self, worker: int) -> None:
        """A crashed task stops here (its finally blocks do not run) until the trial cancels it."""
        import asyncio

        if self.mode != "asyncio":
            return
        if self.on_park is not None:
            self.on_park(worker)
        await asyncio.get_running_loop().create_future()

    def fault_sleep(self, seconds: float) -> None:
        """A delay/pause fault: sleep, or leave it to the async point that fired it."""
        delays = _deferred_sleep.get()
        if delays is None:
            time.sleep(seconds)
        else:
            delays.append(seconds)

    # -- crashes ---------------------------------------------------------------------
    def register_resource(self, close: Callable[[], None]) -> None:
        """Remember how to sever a connection the current worker opened (used when it crashes)."""
        worker = current_worker()
        with self._lock:
            self._resources.setdefault(worker, []).append(close)

    def sever(self, worker: int) -> None:
        with self._lock:
            closers = self._resources.pop(worker, [])
        for close in closers:
            try:
                close()
            except Exception:  # noqa: BLE001 - severing is best effort by design
                pass

    def crash(self, worker: int, label: str) -> None:
        """Crash the calling worker at ``label``: SIGKILL in a process, park forever in a thread."""
        self.record(h.CRASH, label)
        if self.mode == "processes":
            import signal

            os.kill(os.getpid(), signal.SIGKILL)
        with self._lock:
            self.crashed.add(worker)
        self.sever(worker)
        if self.gate is not None:
            self.gate.finish(worker)
        if self.mode == "threads":
            # Park until the whole run is over; then unwind as nobody, so the thread's
            # finally blocks neither record nor pass points in a later trial.
            self.trial_over.wait()
            _worker.set(None)
        elif self.mode == "asyncio":
            _worker.set(None)  # the task unwinds (or parks, at an async point) as nobody
        raise WorkerCrashed(f"worker {worker} crashed at {label}")

    # -- clock -------------------------------------------------------------------------
    def shift_clock(self, worker: int | None, seconds: float) -> None:
        with self._lock:
            self._clock_shift[worker] = self._clock_shift.get(worker, 0.0) + seconds

    def clock_shift(self) -> float:
        if not self._clock_shift:
            return 0.0
        return self._clock_shift.get(current_worker(), 0.0) + self._clock_shift.get(None, 0.0)


def set_active(rt: Runtime | None) -> None:
    """Make ``rt`` the active run of this process (None: no run is active)."""
    global _ACTIVE
    _ACTIVE = rt


def _shifted_time() -> float:
    rt = _ACTIVE
    if rt is None:
        return _real_time()
    return _real_time() + rt.clock_shift()


def patch_clock() -> Callable[[], None]:
    """Make ``time.time`` add each worker's clock shift; returns the undo."""
    time.time = _shifted_time
    return lambda: setattr(time, "time", _real_time)


# -- public hooks ------------------------------------------------------------------------


def point(name: str, **info: Any) -> None:
    """A named place where the scheduler may switch workers and a fault may fire; a no-op outside a run.

    Inside an asyncio task it records the point and fires its faults but cannot yield the
    turn (a delay there blocks the loop); use ``await racecheck.apoint(name)`` in coroutines."""
    rt = _ACTIVE
    if rt is None:
        return
    rt.at_point(name, h.POINT, **info)


async def apoint(name: str, **info: Any) -> None:
    """``point()`` for coroutines: ``await racecheck.apoint(name)``. Under a controlled asyncio
    trial the task waits here for its turn; a no-op outside a run."""
    rt = _ACTIVE
    if rt is None:
        return
    await rt.at_point_async(name, h.POINT, **info)


def effect(name: str, key: Any = None, **payload: Any) -> None:
    """Record that a side effect happened (e.g. a reviewer was spawned) for ``key``."""
    rt = _ACTIVE
    if rt is None or current_worker() is None:
        return
    rt.record(h.EFFECT, name, key, **payload)


def record_external(kind: str, name: str, key: Any = None, worker: int | None = None, **payload: Any) -> bool:
    """Record an event observed outside any worker (an effect sink hearing from a non-Python system).

    Returns False when no run is active.
    """
    rt = _ACTIVE
    if rt is None:
        return False
    rt.sink.write(h.make_event(worker, kind, name, key, **payload))
    return True


def log(message: str, level: str = "INFO", **payload: Any) -> None:
    """Record a free-form note in the history (shown in timelines)."""
    rt = _ACTIVE
    if rt is None or current_worker() is None:
        return
    rt.record(h.LOG, level, None, message=message, **payload)


@contextmanager
def section(name: str, key: Any = None) -> Iterator[None]:
    """Mark a critical section; ``mutual_exclusion(name)`` checks no two workers overlap per key.

    Under a controlled strategy the section has scheduling points just inside its begin
    (``<name>:held``) and its end (``<name>:release``), so another worker can run while
    this one holds it; otherwise sections would be serialized and never overlap.
    """
    rt = _ACTIVE
    if rt is None or current_worker() is None:
        yield
        return
    call = rt.next_call_id()
    rt.at_point(f"{name}:enter", record=False)
    rt.record(h.SECTION_BEGIN, name, key, call=call)
    rt.schedule_point(f"{name}:held")
    try:
        yield
    finally:
        if not isinstance(_current_exc(), WorkerCrashed):
            rt.schedule_point(f"{name}:release")
            rt.record(h.SECTION_END, name, key, call=call)


def _current_exc() -> BaseException | None:
    import sys

    return sys.exc_info()[1]


class HistoryLogHandler(logging.Handler):
    """Copies log records at WARNING and above, from workers, into the history (fail_closed reads them)."""

    def emit(self, record: logging.LogRecord) -> None:
        rt = _ACTIVE
        if rt is None or current_worker() is None:
            return
        try:
            msg = record.getMessage()
        except Exception:  # noqa: BLE001 - a bad log call must not break the target
            msg = str(record.msg)
        rt.record(h.LOG, record.levelname, None, message=msg, logger=record.name)


def install_log_handler() -> Callable[[], None]:
    handler = HistoryLogHandler(level=logging.WARNING)
    root = logging.getLogger()
    root.addHandler(handler)
    return lambda: root.removeHandler(handler)
