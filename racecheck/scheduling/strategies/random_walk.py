"""The ``random`` strategy: a seeded uniform walk that holds writes back so reads go first."""

from __future__ import annotations

import random

from ..resources import is_sleep
from .base import Base


class RandomWalk(Base):
    """Uniformly random choice at each step, seeded per trial."""

    name = "random"

    @classmethod
    def from_options(cls, *, seed: int, depth: int, max_preemptions: int, schedule: str | None) -> RandomWalk:
        return cls(seed)

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
