"""Run frontrun (PyPI ``frontrun``) on bench_search's in-memory cases; one JSON line per run.

Usage (under frontrun's LD_PRELOAD wrapper)::

    frontrun python benchmarks/targets/frontrun_search.py - RUNS VARIANT [MAX_EXECUTIONS]

VARIANT: ``counter`` / ``counter-locked`` (``self.count += 1``, bare / under a Lock),
``set-add`` / ``set-add-locked`` (``if k in seen: return; seen.add(k)``),
``sleepy`` / ``sleepy-fixed`` (20-50 ms sleep, dict check, 20-50 ms sleep, set / setdefault).
"""

from __future__ import annotations

import random
import sys
import threading
import time
from typing import Any

from frontrun_dispatch import explore_and_report  # the scripts run from this folder

WORK_S = (0.020, 0.050)


class State:
    def __init__(self) -> None:
        self.count = 0
        self.seen: set[str] = set()
        self.store: dict[str, int] = {}
        self.spawned: list[str] = []
        self.lock = threading.Lock()


def _counter(locked: bool) -> Any:
    def make(worker: int) -> Any:
        def incr(state: State) -> None:
            if locked:
                with state.lock:
                    state.count += 1
            else:
                state.count += 1
        return incr
    return make


def _set_add(locked: bool) -> Any:
    def make(worker: int) -> Any:
        def add(state: State) -> None:
            if locked:
                with state.lock:
                    if "k" in state.seen:
                        return
                    state.seen.add("k")
            else:
                if "k" in state.seen:
                    return
                state.seen.add("k")
            state.spawned.append("k")
        return add
    return make


def _sleepy(fixed: bool) -> Any:
    def make(worker: int) -> Any:
        def claim(state: State) -> None:
            time.sleep(random.uniform(*WORK_S))
            if fixed:
                if state.store.setdefault("job", worker) != worker:
                    return
            else:
                if "job" in state.store:
                    return
            time.sleep(random.uniform(*WORK_S))
            state.store["job"] = worker
            state.spawned.append("job")
        return claim
    return make


def main(argv: list[str]) -> int:
    import frontrun

    runs, variant = int(argv[1]), argv[2]
    max_exec = int(argv[3]) if len(argv) > 3 else 200
    makers = {"counter": _counter(False), "counter-locked": _counter(True), "set-add": _set_add(False),
              "set-add-locked": _set_add(True), "sleepy": _sleepy(False), "sleepy-fixed": _sleepy(True)}
    invariant = (lambda s: s.count == 2) if variant.startswith("counter") else None
    explore_and_report(frontrun, State, makers[variant], runs, max_exec, invariant)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
