"""The asyncio gate: one task moves between points; the strategy picks which.

Every worker task lives on the trial's one event loop, so a point is an ``await``: the
task parks on a future of its own until it is chosen (``arrive_async``). Choosing is the
same code as for threads (:class:`~racecheck.scheduling.decision.Decisions`: worker
states, fairness, section holders, strategy calls and the record), so the strategies,
fairness and the recorded schedule are shared, and the strategy sees where each task waits
(its labels), as it does for threads (0.3.0: in 0.2.0 the gate hid them, which blinded pct's
change points; the golden schedules of labelled asyncio targets changed then, no others).

Blocking is read from the loop, not guessed from the wall clock. After the chosen task
is released, a callback queued behind its wake-up (``loop.call_soon``, which runs ready
callbacks in order) looks at what the task is suspended on (``Task._fut_waiter``):

* it reached its next point: ``arrive_async`` already handed the turn on;
* it is runnable (a bare ``await asyncio.sleep(0)`` or a wake-up still queued): look again
  on the next loop pass;
* it awaits the program (an ``asyncio.Lock``/``Event``/``Semaphore``/``Condition``/
  ``Queue``, or ``asyncio.sleep``: the innermost suspended frame, found by following
  ``cr_await``, is in ``asyncio.locks``/``asyncio.queues`` or is ``asyncio.sleep``): it is
  *blocked* at once and another task is chosen; it rejoins when it reaches its next point.
  A lock held by a parked task cannot deadlock the trial, and no clock is involved;
* it awaits anything else (a socket read of redis.asyncio or asyncpg, another task,
  ``wait_for``, ``gather``): it keeps the turn while the loop serves its I/O, like a
  thread inside a blocking call, and is woken by the future itself (a done callback, no
  polling). Only if the answer does not come within ``io_grace`` (adaptive: 20x the mean
  I/O wait seen, 20 to 250 ms, extended while the loop itself runs late on a starved
  machine) is it blocked (a row lock held by a parked task, a stalled server). So a
  schedule over a fast local server does not depend on reply timing.

The wall clock is otherwise used only when the strategy declines to choose (replay or dfs
waiting for the recorded worker) while some worker is blocked and might still arrive: the
choice is then forced after ``force_after`` seconds. With every worker waiting or done
nobody else can arrive, and the choice is forced at once.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from types import FrameType
from typing import Any

from .decision import BLOCKED, DONE, NEW, RUNNING, WAITING, Decisions
from .strategies import Strategy

# Where an await waits for another task of the program (never for the outside world): the
# synchronisation primitives, and asyncio.sleep (time, which a later virtual clock may own).
PROGRAM_WAITS = frozenset({("asyncio.locks", ""), ("asyncio.queues", ""), ("asyncio.tasks", "sleep")})


def waits_on_program(task: asyncio.Task[Any], waiter: asyncio.Future[Any]) -> bool:
    """True when ``task``, suspended on ``waiter``, waits for another task rather than for I/O.

    Awaiting another task (``wait_for``, ``gather``, a task group) counts as I/O: that task
    may be reading a socket (redis.asyncio sends through ``wait_for``)."""
    stack = task_frames(task)
    if not stack:
        return False
    module, name = stack[-1].f_globals.get("__name__", ""), stack[-1].f_code.co_name
    return (module, "") in PROGRAM_WAITS or (module, name) in PROGRAM_WAITS


def task_frames(task: asyncio.Task[Any]) -> list[FrameType]:
    """The frames of a suspended task, outermost first, following each ``await`` down to the future.

    (``Task.get_stack`` gives only the task's own coroutine frame.)"""
    frames: list[FrameType] = []
    coro: Any = task.get_coro()
    while coro is not None:
        frame = getattr(coro, "cr_frame", None) or getattr(coro, "gi_frame", None)
        if frame is None:
            break
        frames.append(frame)
        coro = getattr(coro, "cr_await", None) or getattr(coro, "gi_yieldfrom", None)
    return frames


class AsyncController(Decisions):
    def __init__(self, strategy: Strategy, n: int, *, fairness: int = 16, burst: int = 8,
                 force_after: float = 0.02) -> None:
        self.init_decisions(strategy, n, fairness, burst)
        self.force_after = force_after
        self.current: int | None = None
        self.started = False
        self.free = False
        self.blocked_marks = 0
        self.sync_points = 0  # racecheck.point() calls from tasks: recorded, but they cannot yield
        self._waiters: dict[int, deque[tuple[asyncio.Task[Any] | None, asyncio.Future[None]]]] = {
            w: deque() for w in range(n)}
        self._released: asyncio.Task[Any] | None = None  # the task given the turn last
        self._loop: asyncio.AbstractEventLoop | None = None
        self._watching = False
        self._force_timer: asyncio.TimerHandle | None = None
        self._blocked_at_close: list[int] = []
        self.io_grace = 0.02
        self.io_waits = 0  # outside-world waits the released task kept the turn through
        self._io_ewma: float | None = None
        self._io_wait: asyncio.Future[Any] | None = None
        self._io_since = 0.0
        self._io_timer: asyncio.TimerHandle | None = None
        self._io_deadline = 0.0
        self._io_extension = 0

    # -- called by worker tasks (on the loop's thread) ------------------------------------------
    async def arrive_async(self, worker: int, label: str) -> None:
        """Wait at a point until this task is chosen."""
        if self.free:
            return
        if self._loop is None:
            self._loop = asyncio.get_running_loop()
        task = asyncio.current_task()
        if self.current == worker and task is self._released:
            self._end_turn()
        elif self.current == worker and self._released is not None and self._suspended(self._released):
            # A helper task of the worker (gather, create_task) reached a point while the task that
            # holds the turn waits, most likely for these helpers: this is the worker's next point.
            self._end_turn()
        fut: asyncio.Future[None] = self._loop.create_future()
        self._waiters[worker].append((task, fut))
        self.labels[worker] = label
        self._track_section(worker, label)
        if self.current != worker:
            self._set(worker, WAITING)
        self._schedule(force=False)
        try:
            await fut
        except asyncio.CancelledError:
            self._drop(worker, fut)
            raise

    def arrive(self, worker: int, label: str) -> None:
        """A synchronous point inside a task (``racecheck.point()``, a section's held/release
        points): noted, but it cannot give the turn away."""
        self.sync_points += 1
        self._track_section(worker, label)

    def finish(self, worker: int) -> None:
        if self.state.get(worker) == DONE:
            return
        if self.current == worker:
            self._end_turn()
        self._set(worker, DONE)
        for _, fut in self._waiters[worker]:
            if not fut.done():
                fut.set_result(None)  # a crashed worker's other tasks run free as nobody
        self._waiters[worker].clear()
        self._schedule(force=False)

    def close(self) -> None:
        """Release everyone to run freely (trial over, timed out or aborted)."""
        if not self.free:
            self._blocked_at_close = [w for w, s in self.state.items() if s == BLOCKED]
        self.free = True
        self._cancel_force()
        self._end_io_wait()
        for q in self._waiters.values():
            for _, fut in q:
                if not fut.done():
                    fut.set_result(None)
            q.clear()

    def blocked_workers(self) -> list[int]:
        """Workers blocked on something that is not a point (as the trial was closed, once it was)."""
        if self.free:
            return list(self._blocked_at_close)
        return [w for w, s in self.state.items() if s == BLOCKED]

    # -- internals --------------------------------------------------------------------------------
    def _end_turn(self) -> None:
        self.current = None
        self._released = None
        self._end_io_wait()

    def _end_io_wait(self) -> None:
        self._io_wait = None
        if self._io_timer is not None:
            self._io_timer.cancel()
            self._io_timer = None

    @staticmethod
    def _suspended(task: asyncio.Task[Any]) -> bool:
        waiter = getattr(task, "_fut_waiter", None)
        return waiter is not None and not waiter.done()

    def _drop(self, worker: int, fut: asyncio.Future[None]) -> None:
        q = self._waiters[worker]
        for item in list(q):
            if item[1] is fut:
                q.remove(item)
        if not q and self.state[worker] == WAITING:
            self._set(worker, DONE)

    def _may_arrive(self) -> bool:
        """Could a worker that is not waiting now still reach a point?"""
        return self._any(NEW, BLOCKED, RUNNING)

    def _schedule(self, force: bool) -> None:
        if self.current is not None or self.free:
            return
        if not self.started:
            if self._any(NEW) and not force:
                return
            self.started = True
        if not self.waiting:
            return
        choice = self.decide(force)
        if choice is None and not force and not self._may_arrive():
            choice = self.decide(True)  # nobody else can arrive: waiting buys nothing
        if choice is None:
            self._arm_force()
            return
        self._cancel_force()
        task, fut = self._waiters[choice].popleft()
        self.current = choice  # decide() marked it running
        self._released = task
        fut.set_result(None)
        self._watch_soon()

    def _watch_soon(self) -> None:
        if not self._watching and self._loop is not None:
            self._watching = True
            self._loop.call_soon(self._watch)

    def _watch(self) -> None:
        """Runs after the released task's step: is it still runnable, or blocked on a non-point?"""
        self._watching = False
        if self.free or self.current is None:
            return
        task = self._released
        if task is None:
            return
        if not hasattr(task, "_fut_waiter"):  # a Task class without it: fall back to a quantum
            if self._io_timer is None and not task.done():
                assert self._loop is not None
                self._io_wait = self._loop.create_future()  # stands for "whatever it awaits"
                self._arm_io_timer()
            elif task.done():
                self._block()
            return
        waiter = task._fut_waiter
        if not task.done() and waiter is not None and not waiter.done() and not waits_on_program(task, waiter):
            if waiter is not self._io_wait:
                self._end_io_wait()
                self._io_wait, self._io_since = waiter, time.monotonic()
                self.io_waits += 1
                waiter.add_done_callback(self._io_done)
                assert self._loop is not None
                self._arm_io_timer()
            return  # the task keeps the turn while the loop serves its I/O
        if task.done() or (waiter is not None and not waiter.done()):
            # Blocked on the program (a lock, an event, a sleep), or a helper task of the worker
            # (one of its gather()ed coroutines) ended while the worker's main task waits elsewhere.
            self._block()
            return
        self._watch_soon()

    def _block(self) -> None:
        worker = self.current
        assert worker is not None
        self._set(worker, WAITING if self._waiters[worker] else BLOCKED)
        if not self._waiters[worker]:
            self.blocked_marks += 1
        self._end_turn()
        self._schedule(force=True)

    def _io_done(self, fut: asyncio.Future[Any]) -> None:
        if fut is not self._io_wait:
            return
        dt = time.monotonic() - self._io_since
        self._io_ewma = dt if self._io_ewma is None else 0.8 * self._io_ewma + 0.2 * dt
        self.io_grace = min(0.25, max(0.02, 20 * self._io_ewma))
        self._end_io_wait()
        self._watch_soon()

    def _arm_io_timer(self, extension: int = 0) -> None:
        assert self._loop is not None
        self._io_extension = extension
        self._io_deadline = time.monotonic() + self.io_grace
        self._io_timer = self._loop.call_later(self.io_grace, self._io_expired)

    def _io_expired(self) -> None:
        self._io_timer = None
        if self._io_wait is None or self.free or self.current is None:
            return
        if self._io_wait.done():
            return  # answered in this very loop pass (timers run after the I/O poll): _io_done follows
        if time.monotonic() - self._io_deadline > 0.5 * self.io_grace and self._io_extension < 5:
            # The loop itself ran late: the process is starved of CPU, and the answer may be
            # waiting unread. One more grace, a few times at most, rather than a spurious block.
            self._arm_io_timer(self._io_extension + 1)
            return
        self._io_wait = None
        self._block()  # no answer in time: waits on something a parked task holds, or a stalled server

    def _arm_force(self) -> None:
        if self._force_timer is None and self._loop is not None:
            self._force_timer = self._loop.call_later(self.force_after, self._force)

    def _cancel_force(self) -> None:
        if self._force_timer is not None:
            self._force_timer.cancel()
            self._force_timer = None

    def _force(self) -> None:
        self._force_timer = None
        self._schedule(force=True)


__all__ = ["AsyncController", "RUNNING"]
