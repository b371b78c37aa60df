"""The trial runner: threads, processes, asyncio; setup/recover; hangs end the run."""

from __future__ import annotations

import os

import pytest

import racecheck
from engine import targets


@pytest.mark.parametrize("n", [1, 8, 256])
def test_threads_run_n_triggers_per_trial(n: int) -> None:
    """In thread mode every trial starts and ends each of the N triggers once."""
    res = racecheck.run(targets.one_effect_per_worker, n=n, trials=2, seed=1,
                        invariants=[racecheck.exactly_once("spawn")])
    res.assert_ok()
    assert res.trials_run == 2
    for trial in res.trials:
        assert len(trial.history.filter("start")) == n
        assert len(trial.history.filter("end")) == n
        assert trial.history.workers() == list(range(n))


def test_processes_run_each_trigger_in_its_own_interpreter() -> None:
    """In process mode each trigger runs in a separate spawned interpreter, none of them the runner."""
    res = racecheck.run("engine.targets:one_effect_per_worker", n=3, trials=1, mode="processes", seed=1,
                        invariants=[racecheck.exactly_once("spawn")], timeout=20)
    res.assert_ok()
    starts = res.trials[0].history.filter("start")
    pids = {e.pid for e in starts}
    assert len(pids) == 3
    assert os.getpid() not in pids


def test_asyncio_tasks_race_and_are_caught() -> None:
    """In asyncio mode an await between check and insert lets two tasks both spawn."""
    res = racecheck.run(targets.async_dispatch, n=4, trials=3, mode="asyncio", setup=targets.reset_async,
                        invariants=[racecheck.exactly_once("spawn")])
    res.assert_violation("exactly_once")


def test_asyncio_tasks_correct_target_passes() -> None:
    """In asyncio mode a check and insert with no await between them spawns exactly once."""
    res = racecheck.run(targets.async_dispatch_ok, n=4, trials=5, mode="asyncio", setup=targets.reset_async,
                        invariants=[racecheck.exactly_once("spawn")])
    res.assert_ok()


def test_setup_runs_before_each_trial_and_recover_after() -> None:
    """setup runs before every trial and recover after every trial, recorded as worker -1."""
    calls: list[str] = []
    res = racecheck.run(targets.noop, n=2, trials=3, setup=lambda: calls.append("setup"),
                        recover=lambda: calls.append("recover"))
    res.assert_ok()
    assert calls == ["setup", "recover"] * 3
    for trial in res.trials:
        rec = trial.history.filter("recover_begin")
        assert len(rec) == 1 and rec[0].worker == racecheck.RECOVER_WORKER
        assert trial.history.filter("recover_end")[0].t >= max(e.t for e in trial.history.filter("end"))


def test_hang_in_threads_is_reported_with_stack_and_ends_run() -> None:
    """A thread trigger that never returns is reported as a hang with its stack, and the run stops."""
    res = racecheck.run(targets.hang_forever, n=2, trials=5, timeout=1)
    assert not res.ok
    assert res.trials_run == 1
    assert res.aborted == "hang"
    trial = res.first_failure
    assert trial is not None and trial.hung
    assert trial.violations[0].invariant == "hang"
    assert "hang_forever" in trial.stacks["w0"]
    assert "hang_forever" in res.report()


def test_hang_in_processes_is_reported_with_stack_and_ends_run() -> None:
    """A process trigger that never returns is reported as a hang with its stack, and the run stops."""
    res = racecheck.run("engine.targets:hang_in_process", n=2, trials=3, mode="processes", timeout=1)
    assert not res.ok
    assert res.trials_run == 1
    assert res.aborted == "hang"
    trial = res.first_failure
    assert trial is not None and sorted(trial.stacks) == ["w0", "w1"]
    assert "hang_in_process" in trial.stacks["w0"]


def test_trigger_exception_is_a_no_exceptions_violation() -> None:
    """By default a trigger that raises fails the run under no_exceptions, naming the worker and type."""
    res = racecheck.run(targets.worker_zero_raises, n=3, trials=1)
    assert [v.invariant for v in res.violations] == ["no_exceptions"]
    assert "w0 raised KeyError" in res.violations[0].message


def test_trigger_without_exception_passes_no_exceptions() -> None:
    """A trigger that returns normally passes the default no_exceptions invariant."""
    racecheck.run(targets.noop, n=3, trials=2).assert_ok()


def test_runs_cannot_nest() -> None:
    """Starting a run from inside a running trigger is refused with a ConfigError."""
    errors: list[str] = []

    def nested() -> None:
        try:
            racecheck.run(targets.noop, n=1, trials=1)
        except racecheck.ConfigError as exc:
            errors.append(str(exc))

    racecheck.run(nested, n=1, trials=1).assert_ok()
    assert errors and "cannot nest" in errors[0]


def test_process_mode_needs_an_importable_target() -> None:
    """Process mode refuses a callable target and says to pass 'module:function'."""
    with pytest.raises(racecheck.ConfigError, match="module:function"):
        racecheck.run(targets.noop, mode="processes")
