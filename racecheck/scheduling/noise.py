"""The ``stress`` strategy's gate: no control, only a seeded nudge at each point.

Releasing the GIL at a point (``sleep(0)``) or sleeping a few microseconds makes the
free-running threads interleave at the places that matter, which is how ConTest-style
noise makes rare races frequent, without ordering anything.
"""

from __future__ import annotations

import random
import threading
import time


class NoiseGate:
    def __init__(self, seed: int, trial: int, probability: float = 0.5) -> None:
        self.seed, self.trial, self.p = seed, trial, probability
        self._rngs: dict[int, random.Random] = {}
        self._lock = threading.Lock()

    def arrive(self, worker: int, label: str) -> None:
        rng = self._rngs.get(worker)
        if rng is None:
            with self._lock:
                rng = self._rngs.setdefault(worker, random.Random(f"noise:{self.seed}:{self.trial}:{worker}"))
        x = rng.random()
        if x < self.p / 2:
            time.sleep(0)
        elif x < self.p:
            time.sleep(0.0001)

    def finish(self, worker: int) -> None:
        return None
