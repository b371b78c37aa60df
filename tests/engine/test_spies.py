"""Effects: explicit effects and spies (keys, aliases, processes, begin/end, indeterminate)."""

from __future__ import annotations

import racecheck
from engine import targets, targets_alias


def test_explicit_effect_is_recorded_with_key_and_payload() -> None:
    """racecheck.effect records a complete effect with its key and payload."""
    res = racecheck.run(targets.one_effect_per_worker, n=2, trials=1)
    recs = res.trials[0].history.effects("spawn")
    assert sorted((r.key, r.status) for r in recs) == [("k0", "done"), ("k1", "done")]


def test_effect_outside_a_run_is_a_noop() -> None:
    """racecheck.effect and racecheck.point do nothing outside a run."""
    racecheck.effect("spawn", key="x")
    racecheck.point("p")
    assert targets.dispatch("outside") in ("created", "existing")


def test_spy_with_comma_separated_argument_key() -> None:
    """A spy keyed "worker_id,sha" records begin and end of each call with the joined key."""
    res = racecheck.run(targets.call_spawn_for, n=2, trials=1,
                        spies=[racecheck.spy("engine.targets:spawn_for", key="worker_id,sha")])
    hist = res.trials[0].history
    assert [e.key for e in hist.filter("effect_begin")] == ["w1,s1", "w1,s1"]
    assert [e.payload["ok"] for e in hist.filter("effect_end")] == [True, True]
    assert {r.status for r in hist.effects("spawn_for")} == {"done"}


def test_spy_with_dotted_key() -> None:
    """A spy keyed "req.sha" reads the attribute of the argument."""
    res = racecheck.run(targets.call_spawn_req, n=1, trials=1, args=("deadbeef",),
                        spies=[racecheck.spy("engine.targets:spawn_req", key="req.sha")])
    assert [r.key for r in res.trials[0].history.effects("spawn_req")] == ["deadbeef"]


def test_spy_with_callable_key_and_custom_name() -> None:
    """A spy keyed by a callable gets the bound arguments as keywords; name renames the effect."""
    res = racecheck.run(targets.call_spawn_for, n=1, trials=1,
                        spies=[racecheck.spy("engine.targets:spawn_for", name="review",
                                             key=lambda worker_id, sha: f"{sha}/{worker_id}")])
    assert [r.key for r in res.trials[0].history.effects("review")] == ["s1/w1"]


def test_spy_key_naming_a_missing_parameter_is_a_config_error() -> None:
    """A spy key naming no parameter of the function is refused, listing the parameters."""
    import pytest

    with pytest.raises(racecheck.ConfigError, match="parameters are: worker_id, sha"):
        racecheck.run(targets.call_spawn_for, n=1, trials=1,
                      spies=[racecheck.spy("engine.targets:spawn_for", key="nope")])


def test_spy_catches_alias_imported_by_name() -> None:
    """A function imported with `from mod import func` elsewhere is spied too, and restored after."""
    original = targets_alias.spawn_for
    res = racecheck.run(targets_alias.call_alias, n=1, trials=1,
                        spies=[racecheck.spy("engine.targets:spawn_for", key="worker_id,sha")])
    assert [r.key for r in res.trials[0].history.effects("spawn_for")] == ["w9,s1"]
    assert targets_alias.spawn_for is original and targets.spawn_for is original


def test_spy_records_failed_call_as_not_an_effect() -> None:
    """A spied call that raises is recorded with ok=False and is not counted by exactly_once."""
    res = racecheck.run(targets.call_spawn_failing, n=1, trials=1,
                        spies=[racecheck.spy("engine.targets:spawn_failing", key="key")],
                        invariants=[racecheck.at_least_once("spawn_failing")])
    hist = res.trials[0].history
    end = hist.filter("effect_end")[0]
    assert end.payload["ok"] is False and "RuntimeError" in end.payload["error"]
    res.assert_violation("at_least_once")


def test_spies_are_patched_in_worker_processes() -> None:
    """In process mode the spy is installed inside each spawned worker."""
    res = racecheck.run("engine.targets:call_spawn_for", n=2, trials=1, mode="processes", timeout=20,
                        spies=[racecheck.spy("engine.targets:spawn_for", key="worker_id,sha")],
                        invariants=[racecheck.exactly_once("spawn_for")])
    hist = res.trials[0].history
    assert len({e.pid for e in hist.filter("effect_begin")}) == 2
    res.assert_violation("exactly_once")


def test_begin_without_end_is_indeterminate_and_uncertain() -> None:
    """A spied call killed mid-way is indeterminate and a possible duplicate is reported with certain=False."""
    res = racecheck.run("engine.targets:spawn_then_crash_in_call", n=2, trials=1, mode="processes", timeout=20,
                        spies=[racecheck.spy("engine.targets:spawn_slow", key="key")],
                        faults=[racecheck.crash(at="inside_spawn", worker=0)],
                        invariants=[racecheck.at_most_once("spawn_slow")])
    recs = res.trials[0].history.effects("spawn_slow")
    assert sorted((r.worker, r.status) for r in recs) == [(0, "indeterminate"), (1, "done")]
    v = res.violations[0]
    assert v.invariant == "at_most_once" and v.certain is False
    assert "indeterminate" in v.message
    assert "[indeterminate]" in res.report()


def test_indeterminate_can_be_ignored() -> None:
    """With indeterminate="ignore" a begun-never-ended call does not make a duplicate."""
    res = racecheck.run("engine.targets:spawn_then_crash_in_call", n=2, trials=1, mode="processes", timeout=20,
                        spies=[racecheck.spy("engine.targets:spawn_slow", key="key")],
                        faults=[racecheck.crash(at="inside_spawn", worker=0)],
                        invariants=[racecheck.at_most_once("spawn_slow", indeterminate="ignore")])
    res.assert_ok()
