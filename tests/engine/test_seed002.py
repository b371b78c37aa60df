"""The seed-002 lesson: a per-process dedup dict works across threads but not across processes."""

from __future__ import annotations

import racecheck
from engine import targets


def test_module_dict_dedup_is_caught_across_processes() -> None:
    """A dedup kept in a module-level dict, called from 4 processes, spawns more than once."""
    res = racecheck.run("engine.targets:dedup_dispatch", n=4, trials=1, mode="processes", timeout=30,
                        invariants=[racecheck.exactly_once("spawn")])
    v = res.violations[0]
    assert v.invariant == "exactly_once" and v.keys == ("pr-7@abc",)
    assert "4 times" in v.message


def test_module_dict_dedup_holds_across_threads() -> None:
    """The same dict under 4 threads of one process spawns exactly once per trial."""
    res = racecheck.run(targets.dedup_dispatch, n=4, trials=50, setup=targets.reset_seen,
                        invariants=[racecheck.exactly_once("spawn")])
    res.assert_ok()
