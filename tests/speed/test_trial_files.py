"""Process trials reuse two slots of files (events, stack dumps) instead of creating them per trial:
each trial still reads only its own workers' events, and a slot is emptied after it was read."""

from __future__ import annotations

import json
import time

import pytest

import racecheck


@pytest.mark.parametrize("start_method", ["auto", "spawn"])
def test_each_trial_reads_its_own_events_only(start_method: str) -> None:
    trials = 5 if start_method == "auto" else 3
    res = racecheck.run("speed.warm_targets:effect_per_trigger", n=3, trials=trials, mode="processes",
                        worker_args=lambda i: (i,), start_method=start_method, seed=1)
    res.assert_ok()
    assert res.trials_run == trials
    seen_pids: set[int] = set()
    for tr in res.trials:
        ends = [e for e in tr.history if e.kind == "end"]
        effects = [e for e in tr.history if e.kind == "effect"]
        assert len(ends) == 3 and len(effects) == 3, f"trial {tr.index} holds another trial's events"
        pids = {int(e.payload["result"]) for e in ends}
        assert {e.pid for e in effects} == pids and len(pids) == 3
        assert not pids & seen_pids  # fresh processes in every trial
        seen_pids |= pids


def _lines(path: str) -> list[str]:
    try:
        with open(path) as fh:
            return [line for line in fh if line.strip()]
    except FileNotFoundError:
        return []


def _pids(path: str) -> set[int]:
    return {json.loads(line)["pid"] for line in _lines(path)}


def _wait_for_pids(path: str, count: int) -> set[int]:
    end = time.monotonic() + 30
    got = _pids(path)
    while len(got) < count and time.monotonic() < end:
        time.sleep(0.02)
        got = _pids(path)
    return got


def test_a_generation_made_for_a_trial_that_never_ran_leaves_no_events_in_its_slot() -> None:
    """Workers record their env faults before the start; when the pool drops a generation made for
    a trial that did not come (a search skipped it), the next user of its slot must not read them."""
    from racecheck.config import RunConfig
    from racecheck.runner import Runner

    cfg = RunConfig(target="speed.warm_targets:effect_per_trigger", n=2, trials=5, mode="processes",
                    worker_args=lambda i: (i,), faults=[racecheck.scrub_env(["RACECHECK_SLOT_PROBE"])])
    runner = Runner(cfg)
    pool = runner.process_pool()
    try:
        first = pool.take(0, True, False)  # makes trial 1's workers ahead
        slot = first.events_path.replace("events-0", "events-1")
        dropped = _wait_for_pids(slot, 2)  # trial 1's workers recorded their env fault
        assert len(dropped) == 2
        third = pool.take(3, False, False)  # trial 1 never comes: its workers are dropped
        assert third.events_path == slot
        assert _wait_for_pids(slot, 2) == {p.pid for p in third.procs}
        time.sleep(0.3)  # nothing more may come
        assert _pids(slot) == {p.pid for p in third.procs}, "a dropped generation's events stayed in the slot"
        first.close()
        third.close()
    finally:
        runner.close_pool()
