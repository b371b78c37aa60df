"""In-memory targets with no racecheck.point: found only through ``instrument=["search.memtargets"]``."""

from __future__ import annotations

import threading


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
        self.spawned: list[str] = []
        self.lock = threading.Lock()

    def add_once(self, key: str) -> bool:
        if key in self.seen:
            return False
        self.seen.add(key)
        self.spawned.append(key)
        return True

    def add_once_locked(self, key: str) -> bool:
        with self.lock:
            if key in self.seen:
                return False
            self.seen.add(key)
            self.spawned.append(key)
            return True


COUNTER = Counter()
REGISTRY = Registry()


def reset() -> None:
    COUNTER.count = 0
    PAIR.x = PAIR.y = 0
    REGISTRY.seen.clear()
    REGISTRY.spawned.clear()


class Pair:
    def __init__(self) -> None:
        self.x = 0
        self.y = 0

    def bump_x(self) -> None:
        self.x += 1
        self.x += 1

    def bump_y(self) -> None:
        self.y += 1
        self.y += 1


PAIR = Pair()
