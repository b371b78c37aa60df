"""Results: assert_* helpers name the invariant and keys and carry the per-worker timeline; report()."""

from __future__ import annotations

import re

import pytest

import racecheck
from engine import targets


def _buggy() -> racecheck.RunResult:
    return racecheck.run(targets.check_then_act, n=2, trials=20, strategy="random", seed=7,
                         setup=targets.reset_runs)


def _locked() -> racecheck.RunResult:
    return racecheck.run(targets.check_then_act_locked, n=2, trials=5, strategy="random", seed=7,
                         setup=targets.reset_runs)


def test_assert_exactly_once_raises_with_invariant_keys_and_timeline() -> None:
    """assert_exactly_once raises an AssertionError naming the invariant, the key and showing both lanes."""
    res = _buggy()
    with pytest.raises(AssertionError) as err:
        res.assert_exactly_once("spawn")
    text = str(err.value)
    assert re.match(r"exactly_once violated in \d+ of 20 trials", text)
    assert "for key(s) k" in text
    assert "w0" in text and "w1" in text and "EFFECT spawn[k]" in text
    assert "replay with: racecheck.replay('engine.targets:check_then_act', 'rc1:2:7:" in text


def test_assert_helpers_pass_on_correct_target() -> None:
    """assert_exactly_once / at_most_once / at_least_once / no_exceptions pass the locked target."""
    res = _locked()
    res.assert_exactly_once("spawn")
    res.assert_at_most_once("spawn")
    res.assert_at_least_once("spawn", keys=["k"])
    res.assert_no_exceptions()
    res.assert_ok()


def test_assert_at_most_once_and_at_least_once_raise() -> None:
    """assert_at_most_once raises on a duplicate; assert_at_least_once raises on a missing key."""
    res = _buggy()
    with pytest.raises(AssertionError, match="at_most_once violated .* for key\\(s\\) k"):
        res.assert_at_most_once("spawn")
    with pytest.raises(AssertionError, match="at_least_once violated .* for key\\(s\\) other"):
        res.assert_at_least_once("spawn", keys=["other"])


def test_assert_mutual_exclusion_both_ways() -> None:
    """assert_mutual_exclusion raises on overlapping sections and passes on locked ones."""
    bad = racecheck.run(targets.section_unlocked, n=3, trials=3)
    with pytest.raises(AssertionError, match="mutual_exclusion violated .* for key\\(s\\) res"):
        bad.assert_mutual_exclusion("critical")
    racecheck.run(targets.section_locked, n=3, trials=3).assert_mutual_exclusion("critical")


def test_assert_no_exceptions_raises_with_worker() -> None:
    """assert_no_exceptions names the raising worker in its message."""
    res = racecheck.run(targets.worker_zero_raises, n=2, trials=1, invariants=[])
    with pytest.raises(AssertionError, match="w0 raised KeyError"):
        res.assert_no_exceptions()


def test_assert_ok_names_the_run_invariants() -> None:
    """assert_ok raises naming each violated run invariant and the keys."""
    res = racecheck.run(targets.check_then_act, n=2, trials=20, strategy="random", seed=7,
                        setup=targets.reset_runs, invariants=[racecheck.exactly_once("spawn")])
    with pytest.raises(AssertionError, match="^exactly_once violated in 1 of .* for key\\(s\\) k"):
        res.assert_ok()


def test_assert_violation_both_ways() -> None:
    """assert_violation passes when the named invariant was violated and raises when nothing failed."""
    res = racecheck.run(targets.check_then_act, n=2, trials=20, strategy="random", seed=7,
                        setup=targets.reset_runs, invariants=[racecheck.exactly_once("spawn")])
    res.assert_violation("exactly_once")
    with pytest.raises(AssertionError, match="expected a mutual_exclusion"):
        res.assert_violation("mutual_exclusion")
    with pytest.raises(AssertionError, match="5 trials passed"):
        _locked().assert_violation()


def test_report_text_has_header_violation_timeline_and_replay() -> None:
    """report() shows the trial, the run's parameters, each violation, the timeline and the replay line."""
    res = racecheck.run(targets.check_then_act, n=2, trials=20, strategy="pct", seed=7,
                        setup=targets.reset_runs, invariants=[racecheck.exactly_once("spawn")])
    text = res.report()
    first = text.splitlines()[0]
    assert first.startswith("racecheck: check_then_act: trial ")
    assert "(n=2, mode=threads, strategy=pct, seed=7)" in first
    assert "  VIOLATION exactly_once: effect 'spawn' happened 2 times for key 'k'" in text
    assert "t(ms)" in text and "point check" in text
    # the Python call that replays it (issue 14: the old `racecheck replay '<schedule>'` did not run)
    assert text.splitlines()[-1] == (
        f"replay with: racecheck.replay('engine.targets:check_then_act', '{res.first_failure.schedule}')")
    assert res.to_dict()["violations"][0]["keys"] == ["k"]


def test_report_of_passing_run_is_the_summary() -> None:
    """report() of a passing run is a one-line summary saying no violation."""
    res = _locked()
    assert res.report() == "check_then_act_locked: PASS, 5 trials, no violation"
