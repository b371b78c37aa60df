"""The ``replay`` strategy: hand back the choices of a recorded schedule string."""

from __future__ import annotations

import time

from ...errors import ConfigError
from ..schedule import Schedule
from .base import Base


class Replay(Base):
    """Hand back recorded choices; when the recorded worker is not waiting, wait, then diverge.

    A forced choice (the controller's quantum ran out) diverges only after ``grace``
    seconds: under CPU load the recorded worker is usually just slow, not blocked, and
    waiting for it keeps the replay on the recorded schedule. Only the first divergence waits.
    """

    name = "replay"

    @classmethod
    def from_options(cls, *, seed: int, depth: int, max_preemptions: int, schedule: str | None) -> Replay:
        if not schedule:
            raise ConfigError("strategy 'replay' needs a schedule string (the 'rc1:...' line from a failure)")
        return cls(Schedule.decode(schedule))

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
