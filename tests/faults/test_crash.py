"""Crash faults: SIGKILL in a process, park and sever in a thread; what a crash leaves behind."""

from __future__ import annotations

import os
import threading
import time

import racecheck
from faults.targets import crashy, dispatch
from racecheck import history as h


def test_thread_crash_rolls_back_the_open_transaction(race_postgres):
    """A thread crashed with a transaction open has its connection severed, so the server rolls it back."""
    race_postgres.execute(crashy.SCHEMA)
    seen_during: list[list[int]] = []

    def rows_now(_history):
        seen_during.append([r[0] for r in race_postgres.execute("SELECT worker FROM marks ORDER BY worker")])

    res = racecheck.run(crashy.insert_then_commit, n=2, trials=1, worker_args=lambda i: (race_postgres.url, i),
                        faults=[racecheck.crash(at="before_commit", worker=0)],
                        invariants=[racecheck.custom(rows_now)])
    res.assert_ok()
    assert res.trials[0].history.crashed_workers() == {0}
    assert seen_during == [[1]]  # checked while w0 is still parked
    assert [r[0] for r in race_postgres.execute("SELECT worker FROM marks")] == [1]  # and after the run


def _wait_for_workers_to_unwind(timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while any(t.name.startswith("racecheck-w") for t in threading.enumerate()) and time.monotonic() < deadline:
        time.sleep(0.01)


def test_severed_connection_cannot_commit_later(race_postgres):
    """Even code that commits in `finally` cannot commit a crashed thread's transaction: its connection is gone."""
    race_postgres.execute(crashy.SCHEMA)
    res = racecheck.run(crashy.insert_commit_in_finally, n=2, trials=1,
                        worker_args=lambda i: (race_postgres.url, i),
                        faults=[racecheck.crash(at="before_commit", worker=0)], invariants=[])
    assert res.trials[0].history.crashed_workers() == {0}
    _wait_for_workers_to_unwind()  # the parked thread unwinds (and tries its commit) when the run ends
    assert race_postgres.execute("SELECT worker FROM marks") == [(1,)]


def test_asyncio_crash_severs_async_connections(race_postgres):
    """In asyncio mode a crash severs the task's AsyncConnection, so its `finally` commit fails and nothing commits."""
    race_postgres.execute(crashy.SCHEMA)
    res = racecheck.run(crashy.insert_commit_in_finally_async, n=2, trials=1, mode="asyncio",
                        worker_args=lambda i: (race_postgres.url, i),
                        faults=[racecheck.crash(at="before_commit", worker=0)], invariants=[])
    assert res.trials[0].history.crashed_workers() == {0}
    assert race_postgres.execute("SELECT worker FROM marks") == [(1,)]


def test_thread_crash_after_commit_keeps_the_row(race_postgres):
    """The same crash one point later, after the commit, leaves the row: the check above is not vacuous."""
    race_postgres.execute(crashy.SCHEMA)
    res = racecheck.run(crashy.insert_then_commit, n=1, trials=1, worker_args=lambda i: (race_postgres.url, i),
                        faults=[racecheck.crash(at="after_commit")])
    res.assert_ok()
    assert res.trials[0].history.crashed_workers() == {0}
    assert race_postgres.execute("SELECT worker FROM marks") == [(0,)]


def test_process_crash_is_sigkill_without_finally(tmp_path):
    """In process mode the worker SIGKILLs itself: its finally block never runs, its effect before the crash counts."""
    res = racecheck.run("faults.targets.crashy:spawn_then_record", n=1, trials=1, mode="processes",
                        args=("j1", str(tmp_path)), spies=[racecheck.spy("faults.targets.crashy:spawn", key="job")],
                        faults=[racecheck.crash(at="recorded")],
                        invariants=[racecheck.exactly_once("spawn", keys=["j1"])])
    res.assert_ok()  # the spawn happened once, even though the worker then died
    hist = res.trials[0].history
    assert hist.crashed_workers() == {0}
    assert [r.status for r in hist.effects("spawn")] == ["done"]
    assert os.listdir(tmp_path) == []


def test_crash_inside_a_spied_call_is_indeterminate(tmp_path):
    """A crash inside the spied call leaves its effect indeterminate, reported as uncertain, not as done or absent."""
    res = racecheck.run(crashy.spawn_then_record, n=2, trials=1, args=("j1", str(tmp_path)),
                        spies=[racecheck.spy("faults.targets.crashy:spawn", key="job")],
                        faults=[racecheck.crash(at="spawn:inside", worker=0)],
                        invariants=[racecheck.exactly_once("spawn", keys=["j1"])])
    res.assert_violation("exactly_once")
    (v,) = res.violations
    assert v.certain is False and "indeterminate" in v.message
    assert sorted(r.status for r in res.first_failure.history.effects("spawn")) == ["done", "indeterminate"]


SPY_DISPATCH = racecheck.spy("faults.targets.dispatch:dispatch", key="job")
CRASH_BEFORE_DISPATCH = racecheck.crash(at="dispatch")  # whichever worker won the claim, at dispatch:before


def _race_dispatch(db, trigger, recover):
    db.execute(dispatch.SCHEMA)
    return racecheck.run(trigger, n=3, trials=5, args=(db.url,), setup=lambda: dispatch.seed(db.url),
                         recover=lambda: recover(db.url), spies=[SPY_DISPATCH], faults=[CRASH_BEFORE_DISPATCH],
                         invariants=[racecheck.no_stuck(lambda: db.execute(dispatch.STUCK), "jobs not dispatched"),
                                     racecheck.exactly_once("dispatch", keys=["j1"])])


def test_queue_first_crash_leaves_the_job_stuck(race_postgres):
    """Caught (seed 004): a crash between UPDATE status='queued' and the dispatch leaves the row queued after recovery."""
    res = _race_dispatch(race_postgres, dispatch.trigger_queue_first, dispatch.recover_pending_only)
    res.assert_violation("no_stuck")
    assert "('j1', 'queued')" in str(res.violations)
    assert res.trials_to_detection == 1
    hist = res.first_failure.history
    assert hist.filter(h.RECOVER_END) and hist.filter(h.CRASH)


def test_dispatch_first_with_stale_reclaim_recovers(race_postgres):
    """Passes: the claim is reclaimed after the crash and the job is dispatched exactly once."""
    res = _race_dispatch(race_postgres, dispatch.trigger_dispatch_first, dispatch.recover_reclaim_stale)
    res.assert_ok()
    assert res.trials_run == 5
    assert all(t.history.crashed_workers() for t in res.trials)  # the crash really happened each trial
