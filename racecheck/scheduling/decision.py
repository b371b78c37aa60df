"""The choice rule of every controlled gate: who runs next, and the record of who ran.

A gate (the thread :class:`~racecheck.scheduling.controller.Controller`, the asyncio
:class:`~racecheck.scheduling.async_controller.AsyncController`) knows *when* a choice is
due (nobody runs and somebody waits) and how to hand the turn over (notify a thread,
resolve a future). This mixin is the one implementation of everything else:

* the workers' states (``new``, ``running``, ``waiting``, ``blocked``, ``done``), changed
  only through ``_set``, which keeps the sorted waiting set and a count per state, so a
  gate asks "is anyone new / could anyone still arrive" without scanning every worker;
* *who*: bounded unfairness first (a worker passed over ``fairness`` times runs a burst of
  ``burst`` steps), then section holders last (a worker inside a critical section runs
  only when nobody outside one waits), then the strategy;
* the record: every choice and the label it was made at, which is what the schedule
  string (and so replay) is made of.

Fairness reads how often each waiting worker was passed over from one counter of
decisions: a worker that joins the waiting set at decision ``d`` has been passed over
``decisions - d`` times, and a heap keyed on ``(d, worker)`` finds the longest waiter
(lowest id on a tie), so a step costs O(log n), not a scan. A worker that leaves the
waiting set without being chosen (it finished, its task was cancelled) keeps its count
if it comes back.
"""

from __future__ import annotations

import heapq
from bisect import bisect_left, insort

from .strategies import Strategy

NEW, RUNNING, WAITING, BLOCKED, DONE = "new", "running", "waiting", "blocked", "done"
HELD, RELEASE = ":held", ":release"  # suffixes of the scheduling points inside a critical section


class Decisions:
    """Mixin: ``init_decisions`` sets the state below; ``_set`` moves a worker; ``decide`` picks one."""

    strategy: Strategy
    n: int
    fairness: int  # 0: none; else a waiting worker runs after this many pass-overs
    burst: int  # steps a starved worker runs once fairness picks it
    forced_fair: int
    step: int
    last: int | None
    choices: list[int]
    steps: list[tuple[int, str]]
    labels: dict[int, str]  # worker -> the point it waits at (its next step)
    inside: dict[int, int]  # worker -> depth of critical sections it is inside
    state: dict[int, str]

    def init_decisions(self, strategy: Strategy, n: int, fairness: int, burst: int) -> None:
        """Start a run's choices; the strategy sees the live ``labels`` map (``see_labels``): where
        each worker or task waits, which pct's change points and dfs' reduction read."""
        self.strategy, self.n = strategy, n
        self.fairness, self.burst = fairness, burst
        self.forced_fair = 0
        self._burst_worker: int | None = None
        self._burst_left = 0
        self.step, self.last = 0, None
        self.choices, self.steps, self.labels = [], [], {}
        self.inside = {}
        self._leaving: set[int] = set()
        self.state = dict.fromkeys(range(n), NEW)
        self._count = {NEW: n, RUNNING: 0, WAITING: 0, BLOCKED: 0, DONE: 0}
        self.waiting: list[int] = []  # sorted: what the strategy chooses from
        self._decisions = 0
        self._entered: dict[int, int] = {}  # waiting worker -> decisions when it (last) joined
        self._carried: dict[int, int] = {}  # pass-overs of a worker that left unchosen
        self._by_entry: list[tuple[int, int]] = []  # (entered, worker); stale entries dropped lazily
        getattr(strategy, "see_labels", lambda labels: None)(self.labels)

    # -- states --------------------------------------------------------------------------------
    def _set(self, worker: int, state: str) -> None:
        old = self.state.get(worker)
        if old == state:
            return
        if old is not None:
            self._count[old] -= 1
        if old == WAITING:
            del self.waiting[bisect_left(self.waiting, worker)]
            self._carried[worker] = self._decisions - self._entered.pop(worker)
        self.state[worker] = state
        self._count[state] += 1
        if state == WAITING:
            insort(self.waiting, worker)
            entered = self._decisions - self._carried.pop(worker, 0)
            self._entered[worker] = entered
            if self.fairness:
                heapq.heappush(self._by_entry, (entered, worker))

    def _any(self, *states: str) -> bool:
        return any(self._count[s] for s in states)

    @property
    def passed_over(self) -> dict[int, int]:
        """How many choices each worker has been passed over for since it last ran (waiting ones, and
        those that left the waiting set unchosen)."""
        out = {w: c for w, c in self._carried.items() if c}
        out.update({w: self._decisions - d for w, d in self._entered.items()})
        return out

    def _track_section(self, worker: int, label: str) -> None:
        """Called as ``worker`` arrives at ``label``: follow its critical sections (held/release)."""
        if worker in self._leaving:
            self._leaving.discard(worker)
            self.inside[worker] = max(0, self.inside.get(worker, 0) - 1)
        if label.endswith(HELD):
            self.inside[worker] = self.inside.get(worker, 0) + 1
        elif label.endswith(RELEASE) and self.inside.get(worker):
            self._leaving.add(worker)  # still inside until it moves past the release point

    # -- the choice -----------------------------------------------------------------------------
    def _longest_waiter(self) -> int | None:
        """The waiting worker passed over most often (lowest id on a tie), if at least ``fairness`` times."""
        heap = self._by_entry
        while heap and self._entered.get(heap[0][1]) != heap[0][0]:
            heapq.heappop(heap)  # stale: that worker ran (or left) since
        if heap and self._decisions - heap[0][0] >= self.fairness:
            return heap[0][1]
        return None

    def decide(self, force: bool) -> int | None:
        """Choose among the waiting workers, mark the choice running and record it.

        None: nobody waits, or the strategy waits for a worker that has not arrived yet."""
        if not self.waiting:
            return None
        waiting = self.waiting[:]
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
            choice = self.strategy.choose(outside or waiting, self.step, self.last, force)
        if choice is None:
            return None
        if self.state.get(choice) != WAITING:
            choice = waiting[0]
        self._set(choice, RUNNING)
        self._carried.pop(choice, None)  # it runs: passed over no more
        self._decisions += 1  # every other waiting worker was passed over once more
        self.last = choice
        self.choices.append(choice)
        self.steps.append((choice, self.labels.get(choice, "")))
        self.step += 1
        return choice
