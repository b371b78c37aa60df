"""Targets for benchmarks/bench_search.py: sleep-separated and in-memory races, no racecheck.point.

``sleepy_claim``: 20-50 ms of work, check a dict, 20-50 ms more, set and spawn (its twin
claims with ``setdefault``). ``Counter.incr`` (``self.count += 1``) and
``Registry.add_once`` (``if k in seen: ... seen.add(k)``) are found only with
``instrument=["benchmarks.targets.search_targets"]``; their twins hold a threading.Lock.
"""

from __future__ import annotations

import random
import threading
import time

import racecheck

MODULE = "benchmarks.targets.search_targets"
WORK_S = (0.020, 0.050)
_store: dict[str, int] = {}


class Counter:
    def __init__(self) -> None:
        self.count = 0
        self.lock = threading.Lock()

    def incr(self) -> None:
        self.count += 1

    def incr_locked(self) -> None:
        with self.lock:
            self.count += 1


class Registry:
    def __init__(self) -> None:
        self.seen: set[str] = set()
        self.lock = threading.Lock()

    def add_once(self, key: str) -> bool:
        if key in self.seen:
            return False
        self.seen.add(key)
        return True

    def add_once_locked(self, key: str) -> bool:
        with self.lock:
            if key in self.seen:
                return False
            self.seen.add(key)
            return True


COUNTER = Counter()
REGISTRY = Registry()


def reset() -> None:
    _store.clear()
    COUNTER.count = 0
    REGISTRY.seen.clear()


def sleepy_claim(worker: int) -> None:
    time.sleep(random.uniform(*WORK_S))
    if "job" in _store:
        return
    time.sleep(random.uniform(*WORK_S))
    _store["job"] = worker
    racecheck.effect("spawn", key="job")


def sleepy_claim_fixed(worker: int) -> None:
    time.sleep(random.uniform(*WORK_S))
    if _store.setdefault("job", worker) != worker:
        return
    time.sleep(random.uniform(*WORK_S))
    racecheck.effect("spawn", key="job")


def incr(worker: int) -> None:
    COUNTER.incr()


def incr_locked(worker: int) -> None:
    COUNTER.incr_locked()


def add_once(worker: int) -> None:
    if REGISTRY.add_once("k"):
        racecheck.effect("spawn", key="k")


def add_once_locked(worker: int) -> None:
    if REGISTRY.add_once_locked("k"):
        racecheck.effect("spawn", key="k")


def count_is(n: int):  # noqa: ANN201 - an invariant callable
    def check(history: object) -> bool | str:
        return True if COUNTER.count == n else f"counter is {COUNTER.count} after {n} increments"

    return check
