"""The controller: only one worker moves between points; the strategy picks which.

A worker released from a point that does not reach its next point within an adaptive
quantum is marked *blocked* (it may wait on a row lock held by a parked worker) and
another worker is released; it rejoins when it arrives. If every unfinished worker is
blocked, the trial's timeout reports a deadlock with stacks.

A worker inside a critical section (it arrived at a section's ``:held`` point and has
not passed its ``:release`` point yet) runs only when no worker outside a section is
waiting: the others get to try to enter while it holds, which is what
``mutual_exclusion`` needs to see a lock that admits two holders.

A handoff costs one wakeup: each worker waits on its own condition (all share one lock)
and only the chosen one is notified. The waiting set is kept sorted as workers come and
go, and fairness reads how long each has waited from one counter of decisions, so a
step does not scan every worker.
"""

from __future__ import annotations

import heapq
import threading
import time
from bisect import bisect_left, insort

from .strategies import Strategy

NEW, RUNNING, WAITING, BLOCKED, DONE = "new", "running", "waiting", "blocked", "done"
HELD, RELEASE = ":held", ":release"  # suffixes of the scheduling points inside a critical section


class Controller:
    def __init__(self, strategy: Strategy, n: int, *, quantum: float | None = None,
                 start_timeout: float = 10.0, fairness: int = 16, burst: int = 8) -> None:
        self.strategy = strategy
        self.n = n
        self.fixed_quantum = quantum
        self.quantum = quantum or 0.02
        self._ewma: float | None = None
        self.start_timeout = start_timeout
        self._lock = threading.Lock()
        self.cv = threading.Condition(self._lock)  # the watchdog's tick; notified on close
        self._wake = {w: threading.Condition(self._lock) for w in range(n)}  # one per worker
        self.state = dict.fromkeys(range(n), NEW)
        self._new = n  # workers still NEW: the first step waits for all of them
        self._waiting: list[int] = []  # sorted; what the strategy chooses from
        # Fairness: a waiting worker has been passed over (decisions - entered[w]) times, since
        # it entered the waiting set right after its last choice. The heap finds the longest
        # waiter: smallest (entered, worker); stale entries are dropped when they surface.
        self._decisions = 0
        self._entered: dict[int, int] = {}
        self._by_entry: list[tuple[int, int]] = []
        self._clock: dict[int, int] = {}  # worker -> CPU clock id of its thread (threads mode)
        self.labels: dict[int, str] = {}
        getattr(strategy, "see_labels", lambda labels: None)(self.labels)  # search: where each worker waits
        self.current: int | None = None
        self.last: int | None = None
        self.started = False
        self.free = False
        self.step = 0
        self.choices: list[int] = []
        self.steps: list[tuple[int, str]] = []
        self.blocked_marks = 0
        self._released_at = 0.0
        self._acked = False
        self.wake_timeout = 2.0  # a chosen thread that has not even woken after this is treated as blocked
        self._waiting_since = 0.0
        self.task_of: dict[int, int] = {}
        self.fairness = fairness  # 0: none; else a waiting worker runs after this many pass-overs
        self.forced_fair = 0
        self.burst = burst  # steps a starved worker runs once fairness picks it
        self._burst_worker: int | None = None
        self._burst_left = 0
        self._acked_at = 0.0
        self._cpu_mark: int | None = None
        self.busy_limit = 5.0  # a worker on the CPU this long without reaching a point counts as blocked
        self.inside: dict[int, int] = {}  # worker -> depth of critical sections it is inside
        self._leaving: set[int] = set()
        self._t0 = time.monotonic()
        self._watchdog = threading.Thread(target=self._watch, name="racecheck-controller", daemon=True)
        self._watchdog.start()

    # -- called by workers (threads, or proxy threads for processes) -------------------
    def arrive(self, worker: int, label: str) -> None:
        with self._lock:
            if self.free:
                return
            if self.current == worker:
                self._note_step_time()
                self.current = None
            wake = self._wake.get(worker) or self._wake.setdefault(worker, threading.Condition(self._lock))
            self._set_waiting(worker)
            self.labels[worker] = label
            self._track_section(worker, label)
            self._schedule(force=False)
            while self.current != worker and not self.free:
                wake.wait()
                if self.state[worker] == BLOCKED and self.current != worker:
                    # Released, but marked blocked before this thread woke up (a loaded machine):
                    # it never ran, so it is still waiting here; without this it is never chosen again.
                    self._set_waiting(worker)
                    self._schedule(force=False)
            if worker not in self.task_of:
                self.task_of[worker] = threading.get_native_id()
                try:
                    self._clock[worker] = time.pthread_getcpuclockid(threading.get_ident())
                except (AttributeError, OSError):
                    pass  # no per-thread CPU clock here: /proc/<tid>/schedstat is read instead
            if self.current == worker:
                # The quantum starts when the chosen thread actually runs, not when it was
                # chosen: on a loaded machine waking up can take longer than a step.
                self._acked = True
                self._released_at = self._acked_at = time.monotonic()
                self._cpu_mark = self._cpu_ns(worker)
            # current == worker: it runs now.

    def finish(self, worker: int) -> None:
        with self._lock:
            if self.current == worker:
                self._note_step_time()
                self.current = None
            self._set(worker, DONE)
            self._schedule(force=False)

    def close(self) -> None:
        """Release everyone to run freely (trial over, timed out or aborted)."""
        with self._lock:
            self.free = True
            self.cv.notify_all()
            for wake in self._wake.values():
                wake.notify_all()

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
        tid = self.task_of.get(worker)
        if tid is None:
            return None
        try:
            with open(f"/proc/{tid}/schedstat", "rb") as fh:
                return int(fh.read().split()[0])
        except (OSError, ValueError, IndexError):
            return None

    def _still_busy(self, worker: int, now: float) -> bool:
        """True when the worker used the CPU during the last quantum: it is slow, not blocked.

        A worker waiting on a lock, a row lock or a socket uses no CPU; one that computes
        (or is starved on a loaded machine and gets some CPU) does. Extending its quantum
        keeps the schedule the same whatever the load; elsewhere the quantum alone decides.
        """
        if not self._acked or now - self._acked_at > self.busy_limit:
            return False
        used = self._cpu_ns(worker)
        if used is None or self._cpu_mark is None:
            return False
        busy = used - self._cpu_mark > 0.2 * self.quantum * 1e9
        self._cpu_mark = used
        if busy:
            self._released_at = now  # one more quantum
        return busy

    def blocked_workers(self) -> list[int]:
        with self._lock:
            return [w for w, s in self.state.items() if s == BLOCKED]

    @property
    def passed_over(self) -> dict[int, int]:
        """How many choices each waiting worker has been passed over for since it last ran."""
        with self._lock:
            return {w: self._decisions - d for w, d in self._entered.items()}

    # -- internals (hold self._lock) -------------------------------------------------------
    def _track_section(self, worker: int, label: str) -> None:
        if worker in self._leaving:
            self._leaving.discard(worker)
            self.inside[worker] = max(0, self.inside.get(worker, 0) - 1)
        if label.endswith(HELD):
            self.inside[worker] = self.inside.get(worker, 0) + 1
        elif label.endswith(RELEASE) and self.inside.get(worker):
            self._leaving.add(worker)  # still inside until it moves past the release point

    def _set(self, worker: int, state: str) -> None:
        old = self.state.get(worker)
        if old == state:
            return
        if old == NEW:
            self._new -= 1
        elif old == WAITING:
            del self._waiting[bisect_left(self._waiting, worker)]
            del self._entered[worker]
        self.state[worker] = state

    def _set_waiting(self, worker: int) -> None:
        if self.state.get(worker) == WAITING:
            return
        self._set(worker, WAITING)
        insort(self._waiting, worker)
        self._entered[worker] = self._decisions
        if self.fairness:
            heapq.heappush(self._by_entry, (self._decisions, worker))

    def _longest_waiter(self) -> int | None:
        """The waiting worker passed over most often (lowest id on a tie), if at least ``fairness`` times."""
        heap = self._by_entry
        while heap and self._entered.get(heap[0][1]) != heap[0][0]:
            heapq.heappop(heap)  # stale: that worker ran since
        if heap and self._decisions - heap[0][0] >= self.fairness:
            return heap[0][1]
        return None

    def _note_step_time(self) -> None:
        dt = time.monotonic() - self._released_at
        self._ewma = dt if self._ewma is None else 0.8 * self._ewma + 0.2 * dt
        if self.fixed_quantum is None:
            self.quantum = min(0.25, max(0.01, 20 * self._ewma))

    def _schedule(self, force: bool) -> None:
        if self.current is not None or self.free:
            return
        if not self.started:
            if self._new and not force:
                return
            self.started = True
        if not self._waiting:
            return
        waiting = self._waiting[:]
        if not self._waiting_since:
            self._waiting_since = time.monotonic()
        choice: int | None = self._longest_waiter() if self.fairness else None
        if (choice is None and self._burst_left > 0 and self._burst_worker is not None
                and self.state.get(self._burst_worker) == WAITING):
            choice = self._burst_worker
        if choice is not None:
            # Bounded unfairness: a worker passed over this many times runs now, for a short burst.
            # Without it a strategy can park a lock holder while a contender burns all its retries,
            # a legal but unrealistic stall that would be reported as the target's failure.
            if choice != self._burst_worker or self._burst_left <= 0:
                self._burst_worker, self._burst_left = choice, self.burst
            self._burst_left -= 1
            self.forced_fair += 1
            note = getattr(self.strategy, "note_forced", None)
            if note is not None:
                note(waiting, self.step, self.last, choice)
        else:
            self._burst_left = 0
            # holders of a section wait while others can move (scanned only once a section was seen)
            outside = [w for w in waiting if not self.inside.get(w)] if self.inside else waiting
            candidates = outside or waiting
            choice = self.strategy.choose(candidates, self.step, self.last, force)
        if choice is None:
            return  # the strategy waits for a worker that has not arrived yet
        if self.state.get(choice) != WAITING:
            choice = waiting[0]
        self._set(choice, RUNNING)
        self._decisions += 1  # every other waiting worker was passed over once more
        self._waiting_since = 0.0
        self.current = choice
        self.last = choice
        self.choices.append(choice)
        self.steps.append((choice, self.labels.get(choice, "")))
        self.step += 1
        self._released_at = time.monotonic()
        self._acked = False
        self._wake[choice].notify()

    def _watch(self) -> None:
        while True:
            with self._lock:
                if self.free:
                    return
                now = time.monotonic()
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
                self.cv.wait(timeout=max(0.002, self.quantum / 4))
