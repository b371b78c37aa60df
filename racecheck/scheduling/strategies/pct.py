"""The ``pct`` strategy: Probabilistic Concurrency Testing with change points at conflicting steps."""

from __future__ import annotations

import random

from ...errors import ConfigError
from .base import Base


class PCT(Base):
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

    @classmethod
    def from_options(cls, *, seed: int, depth: int, max_preemptions: int, schedule: str | None) -> PCT:
        return cls(seed, depth)

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
