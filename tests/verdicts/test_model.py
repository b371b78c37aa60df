"""The verdict model: precedence, the error verdict from TrialRecord.errors, registered checks."""

from __future__ import annotations

import pytest

import racecheck
from racecheck import verdict

from . import targets

AT_MOST_ONCE = [racecheck.at_most_once("spawn")]


def _passing() -> racecheck.RunResult:
    return racecheck.run(targets.effect_per_worker, n=2, trials=2, invariants=AT_MOST_ONCE)


def test_a_trial_error_makes_the_verdict_error_and_assert_ok_raise() -> None:
    res = _passing()
    assert res.verdict == verdict.PASS
    res.trials[1].errors.append("invariant custom raised ZeroDivisionError: division by zero")
    assert res.verdict == verdict.ERROR and res.ok
    assert res.reasons == ["trial 2: invariant custom raised ZeroDivisionError: division by zero"]
    with pytest.raises(racecheck.RunErrored, match="ERROR after 2 of 2 trials"):
        res.assert_ok()
    assert res.to_dict()["verdict"] == "error"


def test_a_violation_wins_over_error_and_inconclusive() -> None:
    res = racecheck.run(targets.check_then_act, n=2, trials=20, strategy="random", seed=3,
                        setup=targets.reset, faults=[racecheck.crash("nowhere", optional=False)],
                        invariants=AT_MOST_ONCE)
    assert res.verdict == verdict.VIOLATION
    assert res.reasons == []  # the never-fired fault is not judged once a bug was shown
    res.trials[0].errors.append("setup() raised")
    assert res.verdict == verdict.VIOLATION and res.reasons == ["trial 1: setup() raised"]


def test_a_registered_check_makes_a_run_inconclusive() -> None:
    def blind(cfg, result):  # noqa: ANN001, ANN202
        return ["a test blind spot; fix it"] if cfg.n == 2 else []

    verdict.CHECKS.append(blind)
    try:
        res = _passing()
        assert res.verdict == verdict.INCONCLUSIVE and res.reasons == ["a test blind spot; fix it"]
        assert racecheck.run(targets.effect_per_worker, n=3, trials=1, invariants=AT_MOST_ONCE).verdict == "pass"
    finally:
        verdict.CHECKS.remove(blind)


def test_async_target_in_process_mode_runs() -> None:
    res = racecheck.run("verdicts.targets:async_effect_per_worker", n=2, trials=1, mode="processes",
                        invariants=AT_MOST_ONCE)
    assert res.verdict == "pass", res.reasons
    assert [e.payload["result"] for e in res.trials[0].history.filter("end")] == ["'done'", "'done'"]
    assert len(res.trials[0].history.effects("spawn")) == 2
