"""The fault injector: decides, per worker and occurrence, whether each fault fires; the fault's
kind (racecheck.faults.kind) carries it out."""

from __future__ import annotations

import random
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from .. import history as h
from .kind import kind_of, phase_of
from .spec import Fault

if TYPE_CHECKING:
    from .._runtime import Runtime


class FaultInjector:
    """Decides, per worker and occurrence, whether each fault fires, and hands it to its kind."""

    def __init__(self, faults: list[Fault] | tuple[Fault, ...], seed: int, trial: int) -> None:
        self.faults = list(faults)
        self.seed = seed
        self.trial = trial
        self._counts: dict[tuple[int, int], int] = {}
        self._rngs: dict[tuple[int, int], random.Random] = {}
        self._lock = threading.Lock()
        # Set by Hypothesis search and by replay: who decides probabilistic faults instead of the seed.
        self.decide: Callable[[int, int], bool] | None = None
        self.decisions: list[int] = []
        self.point_faults = [(i, f) for i, f in enumerate(self.faults) if phase_of(f) == "point"]

    def env_faults(self, when: str, worker: int | None) -> list[Fault]:
        """The faults that fire at process phase ``when`` (not at a point) in ``worker``."""
        return [
            f for f in self.faults
            if phase_of(f) == when and (f.workers is None or worker is None or worker in f.workers)
        ]

    def _should_fire(self, idx: int, fault: Fault, worker: int) -> bool:
        with self._lock:
            n = self._counts.get((idx, worker), 0) + 1
            self._counts[(idx, worker)] = n
            if fault.every:
                return True
            if fault.probability is not None and self.decide is not None:
                # Hypothesis (or a replayed schedule) chooses; every choice is logged for the schedule.
                fire = bool(self.decide(idx, worker))
                self.decisions.append(int(fire))
                return fire
            if fault.probability is not None:
                rng = self._rngs.get((idx, worker))
                if rng is None:
                    rng = random.Random(f"{self.seed}:{self.trial}:{worker}:{idx}")
                    self._rngs[(idx, worker)] = rng
                return rng.random() < fault.probability
            return n == fault.nth

    def decide_for_worker(self, idx: int, worker: int) -> bool:
        """A probabilistic fault's decision asked by a worker process: made and logged here.

        Hypothesis (or a replayed ``f`` field) decides when set, else the same seeded draw
        the worker would have made; either way the decision joins the schedule string.
        """
        fault = self.faults[idx]
        with self._lock:
            if self.decide is not None:
                fire = bool(self.decide(idx, worker))
            else:
                rng = self._rngs.get((idx, worker))
                if rng is None:
                    rng = random.Random(f"{self.seed}:{self.trial}:{worker}:{idx}")
                    self._rngs[(idx, worker)] = rng
                fire = rng.random() < float(fault.probability or 0.0)
            self.decisions.append(int(fire))
        return fire

    def fire(self, rt: Runtime, worker: int, label: str, phase: str) -> None:
        for idx, fault in self.point_faults:
            if fault.workers is None and worker < 0:
                continue  # the recovery step is faulted only when named explicitly (worker -1)
            if fault.workers is not None and worker not in fault.workers:
                continue
            if not fault.matches(label, phase):
                continue
            if not self._should_fire(idx, fault, worker):
                continue
            kind = kind_of(fault.action)
            rt.record(h.FAULT, fault.action, None, at=label, phase=phase, fault=fault.describe(), index=idx,
                      **{k: v for k, v in fault.params.items() if k in kind.recorded})
            kind.apply(rt, worker, label, fault)
