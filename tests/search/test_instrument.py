"""instrument=[...]: in-memory races found with no racecheck.point; locked twins pass."""

from __future__ import annotations

import pytest

import racecheck
from racecheck.errors import ConfigError
from search import targets

MOD = ["search.memtargets"]
LOST = dict(invariants=[racecheck.custom(targets.count_is_n(2), "count")])
DUP = dict(invariants=[racecheck.at_most_once("spawn")])


def _run(fn, **kw):  # noqa: ANN001, ANN202
    return racecheck.run(fn, n=2, setup=targets.reset_memory, worker_args=lambda i: (i,), **kw)


@pytest.mark.parametrize("strategy", ["random", "dfs"])
@pytest.mark.parametrize(("fn", "inv"), [(targets.incr, LOST), (targets.add_once, DUP)], ids=["lost-update", "check-then-add"])
def test_in_memory_race_found_within_5_trials_20_of_20(strategy: str, fn, inv) -> None:  # noqa: ANN001
    for seed in range(20):
        res = _run(fn, trials=5, strategy=strategy, seed=seed, instrument=MOD, **inv)
        assert not res.ok, f"seed {seed}: {res.summary()}"


@pytest.mark.parametrize(("fn", "inv"), [(targets.incr, LOST), (targets.add_once, DUP)], ids=["lost-update", "check-then-add"])
def test_in_memory_race_pct(fn, inv) -> None:  # noqa: ANN001
    found = sum(not _run(fn, trials=5, strategy="pct", seed=s, instrument=MOD, **inv).ok for s in range(20))
    assert found >= 17


@pytest.mark.parametrize(("fn", "inv"), [(targets.incr, LOST), (targets.add_once, DUP)], ids=["lost-update", "check-then-add"])
def test_without_instrument_the_race_is_invisible(fn, inv) -> None:  # noqa: ANN001
    """The point of the feature: the same target, not instrumented, passes (no point to switch at)."""
    res = _run(fn, trials=30, strategy="random", seed=1, **inv)
    assert res.ok


@pytest.mark.parametrize(("fn", "inv"), [(targets.incr_locked, LOST), (targets.add_once_locked, DUP)],
                         ids=["locked-incr", "locked-add"])
def test_locked_twins_pass_1000_trials(fn, inv) -> None:  # noqa: ANN001
    res = _run(fn, trials=1000, strategy="random", seed=5, instrument=MOD, stop_on_failure=False, **inv)
    res.assert_ok()
    assert res.trials_run == 1000


def test_points_carry_the_resource() -> None:
    res = _run(targets.incr, trials=5, strategy="random", seed=1, instrument=MOD, **LOST)
    pts = [e for e in res.first_failure.history.filter("point") if e.name.startswith(("line:", "store:"))]
    assert any(e.name.startswith("store:search.memtargets:") and e.payload.get("resource") == ["count"] for e in pts)


def test_unknown_module_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="cannot be imported"):
        _run(targets.incr, trials=1, strategy="random", instrument=["no_such_module_xyz"])


@pytest.mark.racecheck(instrument=MOD, strategy="random", n=2, trials=5, seed=1)
def test_marker_instrument(race) -> None:  # noqa: ANN001
    res = race.run(targets.incr, setup=targets.reset_memory, worker_args=lambda i: (i,), **LOST)
    assert not res.ok
