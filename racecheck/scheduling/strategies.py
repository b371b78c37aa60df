"""Scheduling strategies. Each answers: given the waiting workers, which one runs next?"""

from __future__ import annotations

import random
import time
from collections import deque
from typing import Any, Protocol

from ..errors import ConfigError
from .schedule import Schedule

STRATEGY_NAMES = ("stress", "random", "pct", "dfs", "replay", "hypothesis")


class Strategy(Protocol):
    name: str

    def begin_trial(self, trial: int, n: int) -> None: ...

    def choose(self, waiting: list[int], step: int, last: int | None, force: bool) -> int | None:
        """Pick a worker from ``waiting`` (sorted); None asks the controller to wait for more arrivals."""
        ...

    def end_trial(self) -> None: ...

    def exhausted(self) -> bool: ...


class _Base:
    name = "base"

    def begin_trial(self, trial: int, n: int) -> None:
        self.trial, self.n = trial, n

    def end_trial(self) -> None:
        return None

    def exhausted(self) -> bool:
        return False


class RandomWalk(_Base):
    """Uniformly random choice at each step, seeded per trial."""

    name = "random"

    def __init__(self, seed: int) -> None:
        self.seed = seed

    def begin_trial(self, trial: int, n: int) -> None:
        super().begin_trial(trial, n)
        self.rng = random.Random(f"random:{self.seed}:{trial}")

    def choose(self, waiting: list[int], step: int, last: int | None, force: bool) -> int | None:
        return self.rng.choice(waiting)


class PCT(_Base):
    """Probabilistic Concurrency Testing (Burckhardt et al., ASPLOS 2010).

    Each trial gives workers random distinct priorities >= d and picks d-1 random change
    points among the k steps expected; the highest-priority waiting worker runs, and at
    the i-th change point the running worker's priority drops to i. A bug of depth d is
    found with probability at least 1/(n * k^(d-1)) per trial.
    """

    name = "pct"

    def __init__(self, seed: int, depth: int = 3) -> None:
        if depth < 1:
            raise ConfigError(f"pct depth must be >= 1, got {depth}")
        self.seed = seed
        self.depth = depth
        self.k = 8  # steps with a choice per trial, learnt from the trials run so far (8 before any)
        self._steps = 0
        self._seen = 0

    def begin_trial(self, trial: int, n: int) -> None:
        super().begin_trial(trial, n)
        rng = random.Random(f"pct:{self.seed}:{trial}")
        prios = list(range(self.depth, self.depth + n))
        rng.shuffle(prios)
        self.prio = dict(enumerate(prios))
        k = max(self.k, 1)
        count = min(self.depth - 1, k)
        self.changes = dict(zip(sorted(rng.sample(range(1, k + 1), count)), range(count, 0, -1), strict=False))
        self._steps = 0

    def choose(self, waiting: list[int], step: int, last: int | None, force: bool) -> int | None:
        # Steps count only where there is a choice: a change point at a step with one
        # candidate (the others done, blocked, or parked holding a section) changes nothing.
        if len(waiting) < 2:
            return waiting[0]
        step = self._steps
        self._steps += 1
        if step in self.changes and last is not None:
            self.prio[last] = self.changes[step]
        return max(waiting, key=lambda w: (self.prio.get(w, 0), -w))

    def end_trial(self) -> None:
        self._seen = max(self._seen, self._steps)
        self.k = self._seen or self.k


class DFS(_Base):
    """Systematic search over schedules with a preemption bound, one schedule per trial.

    The first trial runs the non-preemptive schedule (keep the last worker running; on a
    forced switch take the lowest id). Each trial then adds, for every later step where a
    running worker could have been preempted, the schedule that preempts it there, as long
    as the bound allows. Schedules are run in the order they were found: fewer preemptions
    first and, among equals, earlier preemptions first (iterative preemption bounding, as in
    CHESS), so a bug at the first racy step is found in a handful of trials whatever the
    number of workers. No schedule runs twice; ``exhausted()`` turns true once every
    schedule within the bound has run.
    """

    name = "dfs"

    def __init__(self, max_preemptions: int = 2) -> None:
        self.bound = max_preemptions
        self.frontier: deque[tuple[int, ...]] = deque([()])
        self.prefix: tuple[int, ...] = ()
        self.path: list[tuple[tuple[int, ...], int | None, int]] = []  # (waiting, last, chosen)
        self._done = False
        self.diverged = 0

    def begin_trial(self, trial: int, n: int) -> None:
        super().begin_trial(trial, n)
        self.prefix = self.frontier.popleft() if self.frontier else ()
        self.path = []

    def choose(self, waiting: list[int], step: int, last: int | None, force: bool) -> int | None:
        default = last if last in waiting else min(waiting)
        choice = default
        if step < len(self.prefix):
            want = self.prefix[step]
            if want in waiting:
                choice = want
            elif not force:
                return None
            else:
                self.diverged += 1
        self.path.append((tuple(waiting), last, int(choice)))
        return int(choice)

    def note_forced(self, waiting: list[int], step: int, last: int | None, choice: int) -> None:
        """The controller chose for fairness: record the step, not as a branch point."""
        self.path.append((tuple(waiting), None, int(choice)))

    def end_trial(self) -> None:
        used = 0
        chosen = tuple(c for _, _, c in self.path)
        for step, (waiting, last, choice) in enumerate(self.path):
            preemptible = last is not None and last in waiting
            if step >= len(self.prefix) and preemptible and used < self.bound:
                for alt in waiting:
                    if alt != choice:
                        self.frontier.append(chosen[:step] + (alt,))
            if preemptible and choice != last:
                used += 1
        if not self.frontier:
            self._done = True

    def exhausted(self) -> bool:
        return self._done


class Replay(_Base):
    """Hand back recorded choices; when the recorded worker is not waiting, wait, then diverge.

    A forced choice (the controller's quantum ran out) diverges only after ``grace``
    seconds: under CPU load the recorded worker is usually just slow, not blocked, and
    waiting for it keeps the replay on the recorded schedule. Only the first divergence waits.
    """

    name = "replay"

    def __init__(self, schedule: Schedule, grace: float = 2.0) -> None:
        self.schedule = schedule
        self.grace = grace
        self.diverged = 0
        self._missed: tuple[int, float] | None = None  # (step, first forced miss)

    def choose(self, waiting: list[int], step: int, last: int | None, force: bool) -> int | None:
        if step < len(self.schedule.choices):
            want = self.schedule.choices[step]
            if want in waiting:
                return want
            if not force:
                return None
            now = time.monotonic()
            if self._missed is None or self._missed[0] != step:
                self._missed = (step, now)
            if not self.diverged and now - self._missed[1] < self.grace:
                return None  # once off the recorded schedule, waiting buys nothing
            self.diverged += 1
        return last if last in waiting else waiting[0]


class Drawn(_Base):
    """Choices drawn from a source of integers (Hypothesis); 0 means "keep the last worker running",
    so shrinking towards zeros minimises context switches."""

    name = "hypothesis"

    def __init__(self, draw: Any) -> None:
        self.draw = draw

    def choose(self, waiting: list[int], step: int, last: int | None, force: bool) -> int | None:
        order = sorted(waiting, key=lambda w: (w != last, w))
        c = int(self.draw(len(order)))
        return order[c % len(order)]


def make_strategy(name: str, *, seed: int, depth: int = 3, max_preemptions: int = 2,
                  schedule: str | None = None) -> Strategy | None:
    """Build a strategy by name; ``stress`` gives None (free run behind the barrier)."""
    if name == "stress":
        return None
    if name == "random":
        return RandomWalk(seed)
    if name == "pct":
        return PCT(seed, depth)
    if name == "dfs":
        return DFS(max_preemptions)
    if name == "replay":
        if not schedule:
            raise ConfigError("strategy 'replay' needs a schedule string (the 'rc1:...' line from a failure)")
        return Replay(Schedule.decode(schedule))
    raise ConfigError(f"unknown strategy {name!r}; use one of {', '.join(STRATEGY_NAMES)}")
