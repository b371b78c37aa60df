"""The ``hypothesis`` strategy's chooser: choices drawn from Hypothesis (driven by ``hypothesis_search``)."""

from __future__ import annotations

from typing import Any

from ...errors import ConfigError
from ..resources import is_sleep
from .base import Base


class Drawn(Base):
    """Choices drawn from a source of integers (Hypothesis); 0 means "keep the last worker running",
    so shrinking towards zeros minimises context switches."""

    name = "hypothesis"

    @classmethod
    def from_options(cls, *, seed: int, depth: int, max_preemptions: int, schedule: str | None) -> Drawn:
        raise ConfigError("strategy 'hypothesis' is run by racecheck.hypothesis_search (it draws the choices), "
                          "not built by make_strategy; pass strategy='hypothesis' to racecheck.run")

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
