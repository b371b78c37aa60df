"""Run frontrun (PyPI ``frontrun``) on the check-then-insert dispatcher; print one JSON line per run.

Usage (under frontrun's LD_PRELOAD wrapper, as its docs ask)::

    frontrun python benchmarks/targets/frontrun_dispatch.py URL RUNS VARIANT [MAX_EXECUTIONS]

VARIANT is ``buggy-returning`` (the buggy dispatcher with ``INSERT ... RETURNING id``,
which frontrun asks for), ``buggy-plain`` (the unchanged INSERT), ``advisory`` or
``unique`` (the fixed twins), or ``buggy-connect`` (buggy, RETURNING, a
connection opened inside each trigger). Each run is one ``frontrun.explore`` call with DPOR,
``count=2``, ``stop_on_first=True``; the line holds executions (``num_explored``),
wall seconds and the verdict.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from typing import Any

KEY = "repo@abc123"


class State:
    def __init__(self) -> None:
        self.spawned: list[str] = []


_conns: list[Any] = []
_admin: list[Any] = []
_url: list[str] = []


def _spawn(state: State, key: str) -> None:
    state.spawned.append(key)


def _buggy(returning: bool) -> Any:
    insert = "INSERT INTO runs (key, worker) VALUES (%s, %s)" + (" RETURNING id" if returning else "")

    def make(worker: int) -> Any:
        def dispatch(state: State) -> None:
            conn = _conns[worker]
            row = conn.execute("SELECT id FROM runs WHERE key = %s", (KEY,)).fetchone()
            if row is not None:
                return
            _spawn(state, KEY)
            conn.execute(insert, (KEY, worker))
        return dispatch
    return make


def _buggy_connect(worker: int) -> Any:
    def dispatch(state: State) -> None:
        import psycopg

        with psycopg.connect(_url[0], autocommit=True) as conn:
            row = conn.execute("SELECT id FROM runs WHERE key = %s", (KEY,)).fetchone()
            if row is not None:
                return
            _spawn(state, KEY)
            conn.execute("INSERT INTO runs (key, worker) VALUES (%s, %s) RETURNING id", (KEY, worker))
    return dispatch


def _advisory(worker: int) -> Any:
    def dispatch(state: State) -> None:
        conn = _conns[worker]
        with conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (KEY,))
            row = conn.execute("SELECT id FROM runs WHERE key = %s", (KEY,)).fetchone()
            if row is not None:
                return
            _spawn(state, KEY)
            conn.execute("INSERT INTO runs (key, worker) VALUES (%s, %s) RETURNING id", (KEY, worker))
    return dispatch


def _unique(worker: int) -> Any:
    def dispatch(state: State) -> None:
        conn = _conns[worker]
        row = conn.execute("INSERT INTO runs_u (key, worker) VALUES (%s, %s) ON CONFLICT (key) DO NOTHING "
                           "RETURNING id", (KEY, worker)).fetchone()
        if row is not None:
            _spawn(state, KEY)
    return dispatch


def explore_and_report(frontrun: Any, setup: Any, make: Any, runs: int, max_exec: int,
                       invariant: Any = None) -> None:
    """Run ``frontrun.explore`` ``runs`` times on two workers and print one JSON line per run
    (after a line describing the frontrun environment); shared by the driver scripts."""
    info = {"frontrun_version": getattr(frontrun, "__version__", "?"),
            "ld_preload": "libfrontrun_io" in os.environ.get("LD_PRELOAD", ""),
            "frontrun_active": os.environ.get("FRONTRUN_ACTIVE", "")}
    print(json.dumps({"info": info}), flush=True)
    for run in range(runs):
        t0 = time.perf_counter()
        err = None
        res: Any = None
        try:
            res = frontrun.explore(setup=setup, workers=[make(0), make(1)],
                                   invariant=invariant or (lambda s: len(s.spawned) <= 1),
                                   max_executions=max_exec, stop_on_first=True, reproduce_on_failure=0,
                                   total_timeout=120)
        except Exception as exc:  # noqa: BLE001 - reported, not raised: the benchmark records the error
            err = f"{type(exc).__name__}: {str(exc).strip().splitlines()[0] if str(exc).strip() else ''}"
        line: dict[str, Any] = {"run": run, "wall_s": time.perf_counter() - t0, "error": err}
        if res is not None:
            line.update(property_holds=res.property_holds, executions=res.num_explored,
                        inconclusive=getattr(res, "inconclusive_reason", None))
        print(json.dumps(line, default=str), flush=True)


def main(argv: list[str]) -> int:
    import frontrun
    import psycopg

    url, runs, variant = argv[0], int(argv[1]), argv[2]
    max_exec = int(argv[3]) if len(argv) > 3 else 200
    makers = {"buggy-returning": _buggy(True), "buggy-plain": _buggy(False), "advisory": _advisory,
              "buggy-connect": _buggy_connect,
              "unique": _unique}
    make = makers[variant]
    _url.append(url)
    for _ in range(2):
        _conns.append(psycopg.connect(url, autocommit=True))
    _admin.append(psycopg.connect(url, autocommit=True))
    lock = threading.Lock()

    def setup() -> State:
        with lock:
            _admin[0].execute("TRUNCATE runs, runs_u RESTART IDENTITY")
        return State()

    explore_and_report(frontrun, setup, make, runs, max_exec)
    for c in _conns + _admin:
        c.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
