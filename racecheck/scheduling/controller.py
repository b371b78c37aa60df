"""The controller: only one worker moves between points; the strategy picks which.

A worker released from a point that does not reach its next point within an adaptive
quantum is marked *blocked* (it may wait on a row lock held by a parked worker) and
another worker is released; it rejoins when it arrives. If every unfinished worker is
blocked, the trial's timeout reports a deadlock with stacks.

A worker inside a critical section (it arrived at a section's ``:held`` point and has
not passed its ``:release`` point yet) runs only when no worker outside a section is
waiting: the others get to try to enter while it holds, which is what
``mutual_exclusion`` needs to see a lock that admits two holders.

A handoff costs one wakeup: each worker sleeps on its own baton (a lock used as a binary
semaphore, cheaper than a condition's fresh waiter lock per wait) and only the chosen one
is woken, after the controller's lock is released: woken while the lock was still held, it
would wake only to wait for that lock, two more switches per handoff. The waiting set is
kept sorted as workers come and go, and fairness reads how long each has waited from one
counter of decisions, so a step does not scan every worker.
"""

from __future__ import annotations

import threading
import time

from .decision import BLOCKED, DONE, HELD, NEW, RELEASE, RUNNING, WAITING, Decisions
from .strategies import Strategy

# The real clock, taken before any run: virtual time (scheduling/virtual_time.py) patches
# time.monotonic during a run, and its patched clock returns the real time to racecheck's own
# frames only after inspecting the caller's frame, five times per point here.
_now = time.monotonic

__all__ = ["BLOCKED", "DONE", "HELD", "NEW", "RELEASE", "RUNNING", "WAITING", "Controller"]


def _new_baton() -> threading.Lock:
    baton = threading.Lock()
    baton.acquire()  # held: the worker parked on it sleeps until ``_wake`` releases it
    return baton


def _wake(baton: threading.Lock) -> None:
    """Let the worker parked on ``baton`` go (or the next one that parks on it, at once)."""
    try:
        baton.release()
    except RuntimeError:
        pass  # already woken and not yet taken: one wake is kept, as a binary semaphore does


def _wake_all(batons: list[threading.Lock]) -> None:
    for baton in batons:
        _wake(baton)


def _schedstat(tid: int | None) -> tuple[int, int] | None:
    """(ns on a CPU, ns ready in a run queue) of an OS task, from /proc/<tid>/schedstat."""
    if tid is None:
        return None
    try:
        with open(f"/proc/{tid}/schedstat", "rb") as fh:
            run, queued = fh.read().split()[:2]
        return int(run), int(queued)
    except (OSError, ValueError):
        return None


def _task_state(tid: int | None) -> tuple[bool, int] | None:
    """(runnable now, ns on a CPU plus ns queued for one) of an OS task, from /proc."""
    stat = _schedstat(tid)
    if stat is None:
        return None
    try:
        with open(f"/proc/{tid}/stat", "rb") as fh:
            state = fh.read().rsplit(b")", 1)[1].split()[0]
    except (OSError, IndexError):
        return None
    return state == b"R", stat[0] + stat[1]


class Controller(Decisions):
    def __init__(self, strategy: Strategy, n: int, *, quantum: float | None = None,
                 start_timeout: float = 10.0, fairness: int = 16, burst: int = 8) -> None:
        self.init_decisions(strategy, n, fairness, burst)
        self.fixed_quantum = quantum
        self.quantum = quantum or 0.02
        self._ewma: float | None = None
        self.start_timeout = start_timeout
        self._lock = threading.Lock()
        self.cv = threading.Condition(self._lock)  # the watchdog's tick; notified on close
        self._baton: dict[int, threading.Lock] = {w: _new_baton() for w in range(n)}  # one per worker
        self._to_wake: list[threading.Lock] = []  # batons to wake once the lock is released
        self._clock: dict[int, int] = {}  # worker -> CPU clock id of its thread (threads mode)
        self.current: int | None = None
        self.started = False
        self.free = False
        self.blocked_marks = 0
        self._released_at = 0.0
        self._acked = False
        self.wake_timeout = 2.0  # a chosen thread that has not even woken after this is treated as blocked
        self._waiting_since = 0.0
        self.task_of: dict[int, int] = {}
        self._acked_at = 0.0
        self._cpu_mark: int | None = None
        self._ready_mark: tuple[float, int] | None = None  # (when, run + queued ns): see _ready
        self.busy_limit = 5.0  # a worker on the CPU this long without reaching a point counts as blocked
        self._t0 = _now()
        self._watchdog = threading.Thread(target=self._watch, name="racecheck-controller", daemon=True)
        self._watchdog.start()

    # -- called by workers (threads, or proxy threads for processes) -------------------
    def arrive(self, worker: int, label: str) -> None:
        with self._lock:
            self._arrive(worker, label)
            woken = self._take_wakes()
        _wake_all(woken)

    def _arrive(self, worker: int, label: str) -> None:  # holds self._lock
        if self.free:
            return
        if self.current == worker:
            self._note_step_time()
            self.current = None
        baton = self._baton.get(worker) or self._baton.setdefault(worker, _new_baton())
        self._set(worker, WAITING)
        self.labels[worker] = label
        self._track_section(worker, label)
        self._schedule(force=False)
        while self.current != worker and not self.free:
            self._park(baton)
            if self.state[worker] == BLOCKED and self.current != worker:
                # Released, but marked blocked before this thread woke up (a loaded machine):
                # it never ran, so it is still waiting here; without this it is never chosen again.
                self._set(worker, WAITING)
                self._schedule(force=False)
        if worker not in self.task_of:
            self.task_of[worker] = threading.get_native_id()
            try:
                self._clock[worker] = time.pthread_getcpuclockid(threading.get_ident())
            except (AttributeError, OSError):
                pass  # no per-thread CPU clock here: /proc/<tid>/schedstat is read instead
        if self.current == worker:
            if baton in self._to_wake:
                self._to_wake.remove(baton)  # chosen on arrival: it runs on, nothing to wake
            # The quantum starts when the chosen thread actually runs, not when it was
            # chosen: on a loaded machine waking up can take longer than a step.
            self._acked = True
            self._released_at = self._acked_at = _now()
            self._cpu_mark = self._cpu_ns(worker)
            self._ready_mark = None
        # current == worker: it runs now.

    def finish(self, worker: int) -> None:
        with self._lock:
            if self.current == worker:
                self._note_step_time()
                self.current = None
            self._set(worker, DONE)
            self._schedule(force=False)
            woken = self._take_wakes()
        _wake_all(woken)

    def close(self) -> None:
        """Release everyone to run freely (trial over, timed out or aborted)."""
        with self._lock:
            self.free = True
            self.cv.notify_all()
            _wake_all(list(self._baton.values()))

    def register_task(self, worker: int, task_id: int) -> None:
        """Tell the controller which OS thread or process runs ``worker`` (see ``_on_cpu``)."""
        with self._lock:
            self.task_of[worker] = task_id
            self._clock.pop(worker, None)

    def _cpu_ns(self, worker: int) -> int | None:
        """CPU time the worker's OS task has used (ns), or None.

        A worker thread of this process is read from its CPU clock (the same sum of run time
        as /proc/<tid>/schedstat, without opening a file on every step); a task registered
        with ``register_task`` (a worker process) from /proc/<tid>/schedstat.
        """
        clock = self._clock.get(worker)
        if clock is not None:
            try:
                return time.clock_gettime_ns(clock)
            except OSError:
                return None  # the thread is gone
        stat = _schedstat(self.task_of.get(worker))
        return None if stat is None else stat[0]

    def _still_busy(self, worker: int, now: float) -> bool:
        """True when the worker used the CPU during the last quantum, or was ready to and
        waited for one: it is slow, not blocked.

        A worker waiting on a lock, a row lock or a socket uses no CPU; one that computes
        does, and one starved on a loaded machine sits in its CPU's run queue. Extending its
        quantum keeps the schedule the same whatever the load; elsewhere the quantum alone
        decides.
        """
        if not self._acked or now - self._acked_at > self.busy_limit:
            return False
        used = self._cpu_ns(worker)
        if used is None or self._cpu_mark is None:
            return False
        busy = used - self._cpu_mark > 0.2 * self.quantum * 1e9
        self._cpu_mark = used
        if busy:
            self._ready_mark = None
            self._released_at = now  # one more quantum
            return True
        return self._ready(worker, now)

    def _ready(self, worker: int, now: float) -> bool:
        """True while the worker's task is running or waiting in a run queue for a CPU.

        Asked only after a quantum with too little CPU. A task the kernel has as runnable is
        ready. One asleep is ready if, since the mark ``_mark_ready`` took half a quantum in,
        it ran or was queued for a fifth of the time: Python threads take turns on the
        interpreter, so a starved spinner is asleep whenever another thread holds it, and the
        kernel adds a task's queued time only when it gets a CPU. A task asleep on a lock, a
        socket or a delay does neither, and is marked blocked when it was before. Without a
        mark (the watchdog itself was late) the worker gets one more tick.
        """
        sample = _task_state(self.task_of.get(worker))
        if sample is None:
            return False
        runnable, spent = sample
        mark, self._ready_mark = self._ready_mark, (now, spent)
        if runnable:
            return True
        if mark is None:
            return True  # look again at the next tick
        return spent - mark[1] > 0.2 * (now - mark[0]) * 1e9

    def _mark_ready(self, now: float) -> None:
        """Half a quantum into a step, note the running worker's run and queued time, so that a
        quantum without CPU is judged at once (see ``_ready``). Short steps never get here."""
        if (self.current is None or not self._acked or self._ready_mark is not None
                or now - self._released_at <= 0.5 * self.quantum):
            return
        sample = _task_state(self.task_of.get(self.current))
        if sample is not None:
            self._ready_mark = (now, sample[1])

    def blocked_workers(self) -> list[int]:
        with self._lock:
            return [w for w, s in self.state.items() if s == BLOCKED]

    @property
    def passed_over(self) -> dict[int, int]:
        """How many choices each waiting worker has been passed over for since it last ran."""
        with self._lock:
            return super().passed_over

    # -- internals (hold self._lock) -------------------------------------------------------
    def _park(self, baton: threading.Lock) -> None:
        """Wake whoever was chosen, then sleep until ``baton`` is woken, without holding the
        controller's lock meanwhile.

        A wake that came before this sleep is kept, so this may return at once: every caller
        re-checks what it waits for."""
        woken = self._take_wakes()
        self._lock.release()
        try:
            _wake_all(woken)
            baton.acquire()
        finally:
            self._lock.acquire()

    def _take_wakes(self) -> list[threading.Lock]:
        woken, self._to_wake = self._to_wake, []
        return woken

    def _note_step_time(self) -> None:
        dt = _now() - self._released_at
        self._ewma = dt if self._ewma is None else 0.8 * self._ewma + 0.2 * dt
        if self.fixed_quantum is None:
            self.quantum = min(0.25, max(0.01, 20 * self._ewma))

    def _schedule(self, force: bool) -> None:
        if self.current is not None or self.free:
            return
        if not self.started:
            if self._any(NEW) and not force:
                return  # the first step waits for every worker
            self.started = True
        if not self.waiting:
            return
        if not self._waiting_since:
            self._waiting_since = _now()
        choice = self.decide(force)
        if choice is None:
            return  # the strategy waits for a worker that has not arrived yet
        self._waiting_since = 0.0
        self.current = choice
        self._released_at = _now()
        self._acked = False
        self._to_wake.append(self._baton[choice])  # woken by the caller once it releases the lock

    def _watch(self) -> None:
        while True:
            with self._lock:
                if self.free:
                    return
                now = _now()
                self._mark_ready(now)
                if not self.started and now - self._t0 > self.start_timeout:
                    self._schedule(force=True)
                elif self.current is not None and now - self._released_at > (
                        self.quantum if self._acked else max(self.quantum, self.wake_timeout)) and not (
                        self._still_busy(self.current, now)):
                    # Released but silent: waiting on something (a lock) or just slow.
                    self._set(self.current, BLOCKED)
                    self.blocked_marks += 1
                    self.current = None
                    self._schedule(force=True)
                elif self.current is None and self._waiting_since and now - self._waiting_since > self.quantum:
                    self._schedule(force=True)
                elif self.current is None and self.started:
                    self._schedule(force=False)
                _wake_all(self._take_wakes())  # the watchdog's own wait releases the lock: wake now
                self.cv.wait(timeout=max(0.002, self.quantum / 4))
