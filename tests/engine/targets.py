"""Small triggers the engine tests race: buggy and correct versions of claim/dedup/dispatch code.

Module-level, importable as ``engine.targets`` so process-mode workers can load them.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import threading
import time
from typing import Any

import racecheck

# -- the reference pair: check-then-insert dispatcher over shared in-memory state -------------

RUNS: dict[str, int] = {}
SPAWNED: list[str] = []
RUNS_LOCK = threading.Lock()


def reset_runs() -> None:
    """Setup: forget every run and spawn."""
    RUNS.clear()
    SPAWNED.clear()


def find_run(key: str) -> int | None:
    return RUNS.get(key)


def spawn_reviewer(key: str) -> int:
    """The expensive side effect (spied as an effect in the tests)."""
    SPAWNED.append(key)
    return len(SPAWNED)


def insert_run(key: str, run_id: int) -> None:
    RUNS[key] = run_id


def dispatch(key: str = "w1,sha1") -> str:
    """Buggy: "is there a run for key?" then spawn then insert, with nothing making it atomic."""
    if find_run(key) is not None:
        return "existing"
    run_id = spawn_reviewer(key)
    insert_run(key, run_id)
    return "created"


def dispatch_locked(key: str = "w1,sha1") -> str:
    """Correct twin: the check and the insert happen under one lock."""
    with RUNS_LOCK:
        if find_run(key) is not None:
            return "existing"
        run_id = spawn_reviewer(key)
        insert_run(key, run_id)
        return "created"


def check_then_act(key: str = "k") -> None:
    """Buggy, with explicit points: check, then act, then record."""
    racecheck.point("check")
    if key in RUNS:
        return
    racecheck.point("act")
    racecheck.effect("spawn", key=key)
    RUNS[key] = 1


def check_then_act_locked(key: str = "k") -> None:
    """Correct twin of check_then_act."""
    with RUNS_LOCK:
        racecheck.point("check")
        if key in RUNS:
            return
        racecheck.point("act")
        racecheck.effect("spawn", key=key)
        RUNS[key] = 1


# -- seed-002: per-process dedup kept in a module-level dict ----------------------------------

_SEEN: dict[str, bool] = {}
_SEEN_LOCK = threading.Lock()


def dedup_dispatch(pr: str = "pr-7", sha: str = "abc") -> str:
    """Claims (pr, sha) in a module dict under a lock: correct within a process, not across processes."""
    key = f"{pr}@{sha}"
    with _SEEN_LOCK:
        if _SEEN.get(key):
            return "duplicate"
        _SEEN[key] = True
    racecheck.effect("spawn", key=key)
    return "spawned"


def reset_seen() -> None:
    _SEEN.clear()


# -- explicit effects, sections, errors, hangs, crashes ---------------------------------------


def noop() -> str:
    return "ok"


def one_effect_per_worker() -> None:
    """Each worker does the effect for its own key (no duplicate)."""
    w = racecheck.current_worker()
    racecheck.effect("spawn", key=f"k{w}", who=w)


def effect_then_sigkill() -> None:
    """Records an effect, then dies by SIGKILL (its events must survive on disk)."""
    racecheck.effect("spawn", key="killed", pid=os.getpid())
    os.kill(os.getpid(), signal.SIGKILL)


def hang_forever() -> None:
    """Never returns: a trigger stuck on something that never comes."""
    racecheck.point("before_wait")
    threading.Event().wait()


def hang_in_process() -> None:
    """Sleeps far past any trial timeout."""
    time.sleep(3600)


def raise_value_error() -> None:
    raise ValueError("boom from the trigger")


def worker_zero_raises() -> None:
    if racecheck.current_worker() == 0:
        raise KeyError("only w0 fails")


class Req:
    def __init__(self, sha: str) -> None:
        self.sha = sha


def spawn_for(worker_id: str, sha: str) -> str:
    """Spied with key="worker_id,sha"."""
    return f"{worker_id}@{sha}"


def spawn_req(req: Req) -> str:
    """Spied with key="req.sha"."""
    return req.sha


def spawn_failing(key: str) -> None:
    """A spied call that raises: its effect is 'failed', not counted."""
    raise RuntimeError(f"spawn of {key} failed")


def call_spawn_for(sha: str = "s1") -> str:
    return spawn_for("w1", sha)


def call_spawn_req(sha: str = "s1") -> str:
    return spawn_req(Req(sha))


def call_spawn_failing() -> None:
    try:
        spawn_failing("k")
    except RuntimeError:
        pass


def spawn_then_crash_in_call(key: str = "k") -> None:
    """Begins a spied call that never ends (SIGKILL inside it)."""
    spawn_slow(key)


def spawn_slow(key: str) -> None:
    racecheck.point("inside_spawn")
    racecheck.effect("never_reached", key=key)


SECTION_HOLDER = threading.Lock()


def section_unlocked(key: str = "res") -> None:
    """Two workers can be inside the section at once."""
    with racecheck.section("critical", key):
        racecheck.point("inside")
        time.sleep(0.002)


def section_locked(key: str = "res") -> None:
    """A lock around the section: never two at once."""
    with SECTION_HOLDER:
        with racecheck.section("critical", key):
            racecheck.point("inside")
            time.sleep(0.002)


def critical_work(key: str) -> None:
    """Spied with section=True."""
    racecheck.point("work")
    time.sleep(0.002)


def call_critical_unlocked(key: str = "res") -> None:
    critical_work(key)


def call_critical_locked(key: str = "res") -> None:
    with SECTION_HOLDER:
        critical_work(key)


# -- asyncio ----------------------------------------------------------------------------------

ASYNC_RUNS: dict[str, int] = {}


async def async_dispatch(key: str = "k") -> str:
    """Buggy: awaits between the check and the insert."""
    if key in ASYNC_RUNS:
        return "existing"
    await asyncio.sleep(0)
    racecheck.effect("spawn", key=key)
    ASYNC_RUNS[key] = 1
    return "created"


async def async_dispatch_ok(key: str = "k") -> str:
    """Correct: no await between check and insert."""
    if key in ASYNC_RUNS:
        return "existing"
    ASYNC_RUNS[key] = 1
    racecheck.effect("spawn", key=key)
    await asyncio.sleep(0)
    return "created"


async def async_hang() -> None:
    await asyncio.Event().wait()


def reset_async() -> None:
    ASYNC_RUNS.clear()


# -- file-backed state for process mode -------------------------------------------------------

STATE_ENV = "RACECHECK_TEST_STATE"


def _state_path() -> str:
    return os.environ[STATE_ENV]


def file_check_then_act(key: str = "k") -> str:
    """Buggy across processes: read the JSON file, then (later) write it."""
    racecheck.point("read")
    with open(_state_path()) as fh:
        state: dict[str, Any] = json.load(fh)
    if key in state:
        return "existing"
    racecheck.point("spawn")
    racecheck.effect("spawn", key=key)
    racecheck.point("write")
    state[key] = os.getpid()
    with open(_state_path(), "w") as fh:
        json.dump(state, fh)
    return "created"


def effect_then_point(key: str = "k") -> str:
    """Does the effect, then reaches a point where a crash fault can kill it."""
    racecheck.effect("spawn", key=key)
    racecheck.point("after_effect")
    return "done"
