"""Run frontrun (PyPI ``frontrun``) on the narrow-window targets; print one JSON line per run.

Usage (under frontrun's LD_PRELOAD wrapper)::

    frontrun python benchmarks/targets/frontrun_narrow.py URL RUNS VARIANT [MAX_EXECUTIONS]

VARIANT: ``memory`` / ``memory-fixed`` (dict check-then-set / setdefault; URL is ``-``), ``memory-attr``
(the same check-then-set on an attribute instead of a dict key),
``pg`` / ``pg-fixed`` (20–50 ms of unrelated work, then SELECT + UPDATE in one READ
COMMITTED transaction / guarded UPDATE ... RETURNING). One ``frontrun.explore`` per run,
DPOR, ``stop_on_first=True``, no reproduction replays.
"""

from __future__ import annotations

import random
import sys
import threading
import time
from typing import Any

from frontrun_dispatch import explore_and_report  # the scripts run from this folder

WORK_S = (0.020, 0.050)
_conns: list[Any] = []
_admin: list[Any] = []


class State:
    def __init__(self) -> None:
        self.store: dict[str, int] = {}
        self.spawned: list[str] = []
        self.owner: int | None = None


def _memory(fixed: bool) -> Any:
    def make(worker: int) -> Any:
        def claim(state: State) -> None:
            if fixed:
                if state.store.setdefault("job-1", worker) != worker:
                    return
            else:
                if "job-1" in state.store:
                    return
                state.store["job-1"] = worker
            state.spawned.append("job-1")
        return claim
    return make


def _memory_attr(worker: int) -> Any:
    def claim(state: State) -> None:
        if state.owner is not None:
            return
        state.owner = worker
        state.spawned.append("job-1")
    return claim


def _pg(fixed: bool) -> Any:
    def make(worker: int) -> Any:
        def claim(state: State) -> None:
            time.sleep(random.uniform(*WORK_S))
            conn = _conns[worker]
            with conn.transaction():
                if fixed:
                    row = conn.execute("UPDATE jobs SET owner = %s WHERE id = 1 AND owner IS NULL RETURNING id",
                                       (worker,)).fetchone()
                    if row is None:
                        return
                else:
                    row = conn.execute("SELECT owner FROM jobs WHERE id = 1").fetchone()
                    if row is None or row[0] is not None:
                        return
                    conn.execute("UPDATE jobs SET owner = %s WHERE id = 1", (worker,))
            state.spawned.append("job-1")
        return claim
    return make


def main(argv: list[str]) -> int:
    import frontrun

    url, runs, variant = argv[0], int(argv[1]), argv[2]
    max_exec = int(argv[3]) if len(argv) > 3 else 200
    makers = {"memory": _memory(False), "memory-fixed": _memory(True), "memory-attr": _memory_attr, "pg": _pg(False), "pg-fixed": _pg(True)}
    make = makers[variant]
    lock = threading.Lock()
    if variant.startswith("pg"):
        import psycopg

        for _ in range(2):
            _conns.append(psycopg.connect(url, autocommit=True))
        _admin.append(psycopg.connect(url, autocommit=True))

    def setup() -> State:
        if _admin:
            with lock:
                _admin[0].execute("DELETE FROM jobs; INSERT INTO jobs (id, owner) VALUES (1, NULL)")
        return State()

    explore_and_report(frontrun, setup, make, runs, max_exec)
    for c in _conns + _admin:
        c.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
