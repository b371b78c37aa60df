"""Item 4: targets that never ran: async def in thread mode, generators, prepare/import failures, all raising."""

from __future__ import annotations

import time

import pytest

import racecheck
from racecheck.errors import ConfigError

from . import targets

AT_MOST_ONCE = [racecheck.at_most_once("spawn")]


def test_async_target_in_thread_mode_runs_and_its_bug_is_caught() -> None:
    res = racecheck.run(targets.async_check_then_act, n=2, trials=20, strategy="random", seed=3,
                        setup=targets.reset, invariants=AT_MOST_ONCE)
    assert res.verdict == "violation"
    assert res.first_failure is not None
    assert [e.payload["result"] for e in res.first_failure.history.filter("end")] == ["'done'", "'done'"]


def test_async_target_in_thread_mode_fixed_passes() -> None:
    res = racecheck.run(targets.async_check_then_act_locked, n=2, trials=5, strategy="random", seed=3,
                        setup=targets.reset, invariants=AT_MOST_ONCE)
    assert res.verdict == "pass", res.reasons
    assert len(res.trials[0].history.effects("spawn")) == 1


def test_generator_function_is_refused_up_front() -> None:
    with pytest.raises(ConfigError, match="generator function: calling it runs none of its body"):
        racecheck.run(targets.generator_target, n=2, trials=1)
    with pytest.raises(ConfigError, match="generator function"):
        racecheck.run("verdicts.targets:generator_target", n=2, trials=1)


def test_generator_function_in_process_mode_tests_nothing() -> None:
    res = racecheck.run("verdicts.targets:generator_target", n=2, trials=1, mode="processes",
                        invariants=AT_MOST_ONCE)
    assert res.verdict == "inconclusive"
    assert any("no trigger body ran" in r and "generator function" in r for r in res.reasons), res.reasons


def test_prepare_hook_that_raises_is_inconclusive_and_quick() -> None:
    t0 = time.monotonic()
    res = racecheck.run(targets.with_prepare(fail=True), n=3, trials=2, timeout=20,
                        invariants=AT_MOST_ONCE)
    assert time.monotonic() - t0 < 10  # the barrier is broken at once, not after the timeout
    assert res.verdict == "inconclusive"
    assert "2 of 2 trials" in res.reasons[0] and "no trigger body ran" in res.reasons[0]
    assert "prepare hook raised ConnectionRefusedError: cannot open the connection" in res.reasons[0]


def test_prepare_hook_that_works_passes() -> None:
    res = racecheck.run(targets.with_prepare(fail=False), n=3, trials=2, invariants=AT_MOST_ONCE)
    assert res.verdict == "pass", res.reasons


def test_worker_process_import_failure_is_inconclusive() -> None:
    res = racecheck.run("verdicts.broken_import:trigger", n=2, trials=1, mode="processes",
                        invariants=AT_MOST_ONCE)
    assert res.verdict == "inconclusive"
    assert "no trigger body ran" in res.reasons[0] and "racecheck_no_such_module" in res.reasons[0]


def test_worker_process_import_failure_under_default_invariants_stays_a_violation() -> None:
    """The default no_exceptions reports the failed import: a violation wins over inconclusive."""
    res = racecheck.run("verdicts.broken_import:trigger", n=2, trials=1, mode="processes")
    assert res.verdict == "violation"


def test_every_trigger_raising_without_no_exceptions_is_inconclusive() -> None:
    res = racecheck.run(targets.raises_type_error, n=3, trials=3, invariants=AT_MOST_ONCE)
    assert res.ok and res.verdict == "inconclusive"
    assert "every trigger raised before any effect" in res.reasons[0]
    assert "TypeError: trigger() missing 1 required positional argument" in res.reasons[0]


def test_every_trigger_raising_is_a_violation_when_an_invariant_says_so() -> None:
    res = racecheck.run(targets.raises_type_error, n=2, trials=1, invariants=[racecheck.exactly_once("spawn")])
    assert res.verdict == "violation"
    assert res.reasons == []


def test_some_triggers_raising_is_conclusive() -> None:
    res = racecheck.run(targets.raises_in_worker_one, n=3, trials=2, invariants=AT_MOST_ONCE)
    assert res.verdict == "pass", res.reasons


def test_every_trigger_raising_from_an_injected_fault_is_conclusive() -> None:
    """The raise is what the fault asked for (fail closed), not a broken test."""
    res = racecheck.run(targets.effect_per_worker, n=2, trials=2,
                        faults=[racecheck.faults.error("work", every=True)], invariants=[racecheck.fail_closed()])
    assert res.verdict == "pass", res.reasons
