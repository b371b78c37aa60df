"""The ``dfs`` strategy: iterative preemption bounding with a DPOR-style partial-order reduction."""

from __future__ import annotations

from collections import deque

from ..resources import access_of, conflict, is_sleep
from .base import Base


class DFS(Base):
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

    @classmethod
    def from_options(cls, *, seed: int, depth: int, max_preemptions: int, schedule: str | None) -> DFS:
        return cls(max_preemptions)

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
