"""Process trials reuse two slots of files (events, stack dumps) instead of creating them per trial:
each trial still reads only its own workers' events, and a slot is emptied after it was read."""

from __future__ import annotations

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
