"""Item 9 of issue 14: hangs and racecheck-side errors are named, bounded and still informative."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest

import racecheck
from racecheck import history as h
from racecheck.hangs import find_cycle

NEVER = threading.Event()  # never set: a worker waiting on it hangs (released at module teardown)


@pytest.fixture(autouse=True, scope="module")
def _release_hung_threads() -> Any:
    yield
    NEVER.set()


def _ok() -> None:
    racecheck.point("p")


# -- a raising invariant ---------------------------------------------------------------------

def test_raising_invariant_is_an_error_naming_it_and_the_trial() -> None:
    def broken(history: h.History) -> bool:
        raise KeyError("no such field")

    res = racecheck.run(_ok, n=2, trials=3, invariants=[racecheck.custom(broken, name="my_check")])
    t = res.trials[0]
    assert t.errors and "invariant 'my_check' raised KeyError" in t.errors[0] and "in trial 1" in t.errors[0]
    assert res.aborted == "error" and res.trials_run == 1


def test_working_invariant_records_no_error() -> None:
    res = racecheck.run(_ok, n=2, trials=3, invariants=[racecheck.custom(lambda hist: True, name="fine")])
    res.assert_ok()
    assert all(not t.errors for t in res.trials) and res.trials_run == 3


# -- setup() and recover() bounded -------------------------------------------------------------

def test_setup_that_blocks_or_raises_is_an_error_not_a_hang() -> None:
    res = racecheck.run(_ok, n=2, trials=3, timeout=0.5, setup=lambda: NEVER.wait(30))
    assert "setup() did not finish within the trial timeout (0.5s)" in res.trials[0].errors[0]

    def bad_setup() -> None:
        raise RuntimeError("db gone")

    res = racecheck.run(_ok, n=2, trials=3, setup=bad_setup)
    assert "setup() raised RuntimeError: db gone" in res.trials[0].errors[0]


def test_setup_that_returns_runs_every_trial() -> None:
    calls: list[int] = []
    res = racecheck.run(_ok, n=2, trials=3, setup=lambda: calls.append(1))
    res.assert_ok()
    assert len(calls) == 3 and all(not t.errors for t in res.trials)


def test_recover_that_blocks_is_an_error() -> None:
    res = racecheck.run(_ok, n=2, trials=2, timeout=0.5, recover=lambda: NEVER.wait(30))
    assert "recover() did not finish" in res.trials[0].errors[0]


def test_recover_that_returns_is_recorded_as_the_recovery_step() -> None:
    def recover() -> None:
        racecheck.effect("recovered", key="k")

    res = racecheck.run(_ok, n=2, trials=2, recover=recover)
    res.assert_ok()
    t = res.trials[0]
    assert not t.errors
    assert [e.worker for e in t.history.filter(h.EFFECT, name="recovered")] == [racecheck.RECOVER_WORKER]


# -- a trigger that blocks the event loop -------------------------------------------------------

async def _blocks_loop() -> None:
    NEVER.wait(30)  # blocking call in a coroutine: the loop cannot run asyncio.wait's timeout


async def _awaits() -> None:
    await asyncio.sleep(0.01)


def test_trigger_blocking_the_event_loop_is_a_hang_not_a_stuck_run() -> None:
    res = racecheck.run(_blocks_loop, n=2, trials=2, mode="asyncio", timeout=0.5, invariants=[])
    t = res.trials[0]
    assert t.hung and t.violations[0].invariant == "hang"
    assert any("event loop was blocked" in n for n in t.notes)


def test_awaiting_trigger_in_asyncio_passes() -> None:
    res = racecheck.run(_awaits, n=2, trials=2, mode="asyncio", timeout=5, invariants=[])
    res.assert_ok()
    assert not any(t.notes for t in res.trials)


# -- violations before a hang; threads still running --------------------------------------------

def _duplicate_then_hang() -> None:
    racecheck.effect("spawn", key="k")
    if racecheck.current_worker() == 1:
        NEVER.wait(30)


def _once_then_hang() -> None:
    if racecheck.current_worker() == 0:
        racecheck.effect("spawn", key="k")
    else:
        NEVER.wait(30)


def test_violation_before_a_hang_is_still_reported_and_the_thread_noted() -> None:
    res = racecheck.run(_duplicate_then_hang, n=2, trials=2, timeout=0.5,
                        invariants=[racecheck.exactly_once("spawn")])
    t = res.trials[0]
    names = [v.invariant for v in t.violations]
    assert names[0] == "hang" and "exactly_once" in names
    assert "before the hang" in str(t.violations[1])
    assert any("racecheck-w1" in n and "still running" in n for n in t.notes)


def test_hang_after_a_correct_effect_reports_only_the_hang() -> None:
    """The effect a hung worker did not get to is the hang's consequence, not another violation."""
    res = racecheck.run(_once_then_hang, n=2, trials=2, timeout=0.5,
                        invariants=[racecheck.exactly_once("spawn")])
    assert [v.invariant for v in res.trials[0].violations] == ["hang"]


def test_finished_run_notes_no_running_thread() -> None:
    res = racecheck.run(_ok, n=2, trials=2)
    assert not any(t.notes for t in res.trials)


# -- deadlock only when a wait cycle is proven ---------------------------------------------------

def test_find_cycle() -> None:
    assert sorted(find_cycle({1: [2], 2: [1], 3: [1]}) or []) == [1, 2]
    assert find_cycle({1: [2], 2: [3], 3: []}) is None


def _pg_opposite_order(url: str) -> None:
    import psycopg

    first, second = (1, 2) if racecheck.current_worker() == 0 else (2, 1)
    with psycopg.connect(url) as conn:
        conn.execute("SET deadlock_timeout = '60s'")  # Postgres must not break the cycle itself
        conn.execute("UPDATE vs_rows SET v = v + 1 WHERE id = %s", (first,))
        racecheck.point("locked_first")
        conn.execute("UPDATE vs_rows SET v = v + 1 WHERE id = %s", (second,))
        conn.commit()


def _pg_waits_outside(url: str) -> None:
    import psycopg

    with psycopg.connect(url) as conn:
        conn.execute("UPDATE vs_rows SET v = v + 1 WHERE id = 1")
        if racecheck.current_worker() == 1:
            NEVER.wait(30)  # hangs outside Postgres: no cycle there
        conn.commit()


def _pg_setup(db: Any) -> None:
    import psycopg

    with psycopg.connect(db.url, autocommit=True) as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS vs_rows (id int PRIMARY KEY, v int)")
        conn.execute("INSERT INTO vs_rows VALUES (1, 0), (2, 0) ON CONFLICT DO NOTHING")


def test_postgres_wait_cycle_is_a_deadlock(race_postgres: Any) -> None:
    _pg_setup(race_postgres)
    res = racecheck.run(_pg_opposite_order, n=2, trials=1, strategy="stress", timeout=3,
                        args=(race_postgres.url,), backends={"pg": race_postgres}, invariants=[],
                        faults=[racecheck.delay("locked_first", 0.5)])
    t = res.trials[0]
    assert t.hung and t.violations[0].invariant == "deadlock"
    assert "wait for each other in a cycle" in t.violations[0].message
    _terminate(race_postgres)


def test_postgres_hang_without_a_cycle_is_a_hang(race_postgres: Any) -> None:
    _pg_setup(race_postgres)
    res = racecheck.run(_pg_waits_outside, n=2, trials=1, timeout=2, args=(race_postgres.url,),
                        backends={"pg": race_postgres}, invariants=[])
    t = res.trials[0]
    assert t.hung and t.violations[0].invariant == "hang"
    _terminate(race_postgres)


def _terminate(db: Any) -> None:
    import psycopg

    with psycopg.connect(db.url, autocommit=True) as conn:
        conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                     "WHERE datname = current_database() AND pid <> pg_backend_pid()")
