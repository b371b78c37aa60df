"""Scheduling strategies. Each answers: given the waiting workers, which one runs next?"""

from __future__ import annotations

import random
import time
from collections import deque
from typing import Any, Protocol

from ..errors import ConfigError
from .resources import access_of, conflict, is_sleep
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
    labels: dict[int, str] = {}  # noqa: RUF012 - replaced per trial by see_labels

    def begin_trial(self, trial: int, n: int) -> None:
        self.trial, self.n = trial, n

    def see_labels(self, labels: dict[int, str]) -> None:
        """The controller's live map of where each worker waits (its next step)."""
        self.labels = labels
        self._yields: dict[int, int] = {}

    def note_yield(self, waiting: list[int], last: int | None) -> bool:
        """True when the worker that just ran stopped at a sleep: it yields, the others go first."""
        if last is None or last not in waiting or not is_sleep(self.labels.get(last, "")):
            return False
        yields = getattr(self, "_yields", None)
        if yields is None:
            yields = self._yields = {}
        yields[last] = max(yields.values(), default=0) + 1
        return True

    def about_to_write(self, waiting: list[int], last: int | None) -> bool:
        """The last worker's next step writes a named resource (where preempting exposes stale reads)."""
        if last is None or last not in waiting or len(waiting) < 2:
            return False
        a = access_of(self.labels.get(last, ""))
        return not a.unknown and a.write and bool(a.resources)

    def readers_first(self, ws: list[int]) -> list[int]:
        """``ws`` with the workers about to write a named resource moved last (order kept otherwise)."""
        writers = [w for w in ws if self.about_to_write(ws, w)]
        if not writers or len(writers) == len(ws):
            return ws
        return [w for w in ws if w not in writers] + writers

    def awake(self, waiting: list[int]) -> list[int]:
        """Waiting workers not at a sleep point; if every one sleeps, all, the earliest to yield first.

        A worker that sleeps yields the CPU: in real time the others run first. Preferring
        them makes the search interleave steps a sleep separates, in any virtual time.
        """
        out = [w for w in waiting if not is_sleep(self.labels.get(w, ""))]
        if out:
            return out
        yields = getattr(self, "_yields", {})
        return sorted(waiting, key=lambda w: (yields.get(w, 0), w))

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
        self.note_yield(waiting, last)
        writers = [w for w in waiting if self.about_to_write(waiting, w)]
        others = [w for w in waiting if w not in writers] if writers else []
        if others and self.rng.random() < 0.75:
            # Hold writes to named resources back so the others (even a sleeper) read first: that
            # is where a stale read (lost update, check-then-act) shows.
            return self.rng.choice(self.awake(others))
        awake = self.awake(waiting)
        if len(awake) < len(waiting) and self.rng.random() < 0.9:
            return self.rng.choice(awake)
        if awake and is_sleep(self.labels.get(awake[0], "")) and self.rng.random() < 0.75:
            return awake[0]  # everyone sleeps: usually the one that yielded first wakes first
        return self.rng.choice(waiting)


class PCT(_Base):
    """Probabilistic Concurrency Testing (Burckhardt et al., ASPLOS 2010).

    Each trial gives workers random distinct priorities >= d and picks d-1 random change
    points among the k steps expected that are about to write a named resource (a SQL
    INSERT/UPDATE, a Redis SET, an instrumented store; see ``resources``; every step until
    one was seen; only steps with a choice count); the highest-priority waiting worker
    runs, and at each change point the running worker's priority drops below every
    priority so far. A worker that stops at a sleep drops to the lowest priority too (it
    yields). A bug of depth d is found with probability at least 1/(n * k^(d-1)) per trial.
    """

    name = "pct"

    def __init__(self, seed: int, depth: int = 3) -> None:
        if depth < 1:
            raise ConfigError(f"pct depth must be >= 1, got {depth}")
        self.seed = seed
        self.depth = depth
        self.k = 4  # conflicting steps per trial, learnt from the trials run so far
        self._steps = 0
        self._conflicts = 0
        self._known = False  # a step about to write a named resource was seen in this run
        self._known_k = 0
        self._writes = 0

    def begin_trial(self, trial: int, n: int) -> None:
        super().begin_trial(trial, n)
        rng = random.Random(f"pct:{self.seed}:{trial}")
        prios = list(range(self.depth, self.depth + n))
        rng.shuffle(prios)
        self.prio = dict(enumerate(prios))
        k = max(self.k, 1)
        count = min(self.depth - 1, k)
        self.changes = dict(zip(sorted(rng.sample(range(k), count)), range(count, 0, -1), strict=False))
        self._steps = 0
        self._conflicts = 0
        self._writes = 0

    def choose(self, waiting: list[int], step: int, last: int | None, force: bool) -> int | None:
        yielded = self.note_yield(waiting, last)
        if yielded and last is not None:
            self.prio[last] = min(self.prio.values()) - 1  # a sleep yields: lowest priority from now on
        # Steps count only where there is a choice: a change point at a step with one
        # candidate (the others done, blocked, or parked holding a section) changes nothing.
        if len(waiting) < 2:
            return waiting[0]
        self._steps += 1
        writes = self.about_to_write(waiting, last)
        self._known = self._known or writes
        self._writes += int(writes and last is not None)
        if last is not None and (writes or not self._known):
            # Change points fall before writes to named resources only (every step until a run has
            # shown one): preempting elsewhere reorders reads, which changes nothing.
            if self._conflicts in self.changes:
                # Below every priority so far (also below workers that yielded at a sleep).
                self.prio[last] = min(self.changes[self._conflicts], min(self.prio.values()) - 1)
            self._conflicts += 1
        return max(waiting, key=lambda w: (self.prio.get(w, 0), -w))

    def end_trial(self) -> None:
        if self._known and not self._known_k:
            self.k = max(1, self._writes)  # from now on k counts write steps only
            self._known_k = 1
        self.k = max(self.k, self._writes if self._known else self._conflicts)


class DFS(_Base):
    """Systematic search over schedules with a preemption bound, one schedule per trial.

    The first trial runs the default schedule: keep the last worker running, except that a
    worker about to write a named resource lets a worker about to read go first, and one that
    sleeps lets the others run (a switch there is not counted as a preemption). Each trial then adds, for every later step
    where a running worker could have been preempted, the schedules that preempt it there,
    as long as the bound allows. Schedules are run in the order they were found: fewer
    preemptions first and, among equals, earlier preemptions first (iterative preemption
    bounding, as in CHESS), so a bug at the first racy step is found in a handful of trials.

    Partial-order reduction: running another worker ``q`` first at a step only yields a
    different interleaving if ``q``'s next step conflicts (same resource, one writes; see
    ``resources``) with a step another worker ran between there and ``q``'s own turn. Only
    those alternatives are added (as in DPOR's backtrack sets), so interleavings that differ
    only in the order of independent steps run once. No schedule runs twice;
    ``exhausted()`` turns true once every schedule within the bound has run.
    """

    name = "dfs"

    def __init__(self, max_preemptions: int = 2, reduce: bool = True) -> None:
        self.bound = max_preemptions
        self.reduce = reduce
        self.frontier: deque[tuple[int, ...]] = deque([()])
        self.prefix: tuple[int, ...] = ()
        # (waiting, default choice or None if not a branch point, chosen, where each waiting worker waits)
        self.path: list[tuple[tuple[int, ...], int | None, int, dict[int, str]]] = []
        self._done = False
        self.diverged = 0
        self.pruned = 0
        self.explored = 0

    def begin_trial(self, trial: int, n: int) -> None:
        super().begin_trial(trial, n)
        self.prefix = self.frontier.popleft() if self.frontier else ()
        self.path = []

    def choose(self, waiting: list[int], step: int, last: int | None, force: bool) -> int | None:
        self.note_yield(waiting, last)
        awake = self.awake(waiting)
        first = self.readers_first(sorted(awake, key=lambda w: (w != last, w)))[0]
        default = first if not is_sleep(self.labels.get(awake[0], "")) else awake[0]
        choice = default
        if step < len(self.prefix):
            want = self.prefix[step]
            if want in waiting:
                choice = want
            elif not force:
                return None
            else:
                self.diverged += 1
        # A branch point only where the last worker could have kept running (or yielded at a sleep).
        self._note(waiting, int(default) if last in waiting else None, int(choice))
        return int(choice)

    def _note(self, waiting: list[int], default: int | None, choice: int) -> None:
        self.path.append((tuple(waiting), default, choice, {w: self.labels.get(w, "") for w in waiting}))

    def note_forced(self, waiting: list[int], step: int, last: int | None, choice: int) -> None:
        """The controller chose for fairness: record the step, not as a branch point."""
        self._note(waiting, None, int(choice))

    def _matters(self, step: int, alt: int) -> bool:
        """Would running ``alt`` at ``step`` reorder it against a conflicting step of another worker?"""
        if not self.reduce:
            return True
        mine = access_of(self.path[step][3].get(alt, ""))
        if mine.unknown:
            return True
        for _waiting, _, choice, where in self.path[step:]:
            if choice == alt:
                return False  # alt's step ran here: everything before it was independent of it
            if conflict(mine, access_of(where.get(choice, ""))):
                return True
        return True  # alt's step never ran (it finished, crashed or blocked): keep the branch

    def end_trial(self) -> None:
        self.explored += 1
        used = 0
        chosen = tuple(c for _, _, c, _ in self.path)
        for step, (waiting, default, choice, _) in enumerate(self.path):
            preemptible = default is not None
            if step >= len(self.prefix) and preemptible and used < self.bound:
                for alt in waiting:
                    if alt == choice:
                        continue
                    branch = chosen[:step] + (alt,)
                    if self._matters(step, alt):
                        self.frontier.append(branch)
                    else:
                        self.pruned += 1
            if preemptible and choice != default:
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
        self.note_yield(waiting, last)
        awake = self.awake(waiting)
        if len(awake) == len(waiting) and awake and is_sleep(self.labels.get(awake[0], "")):
            order = awake  # everyone sleeps: the earliest to yield first (0 = round robin)
        else:
            # 0 keeps the last worker running unless it is about to write while others would read.
            order = self.readers_first(sorted(awake, key=lambda w: (w != last, w))) + [
                w for w in waiting if w not in awake]
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
