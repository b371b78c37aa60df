"""db_error before the statement, after commit (acknowledgement lost), and crash, on every SQL driver.

Each fault both ways: a naive target is caught (the fault fired and its effect is seen), a
correct one passes with the fault firing (a retry when nothing was sent, an idempotent retry
when the write committed, one transaction when the worker may crash midway).
"""

from __future__ import annotations

import pytest

import racecheck
from drivers.targets import faulty, schema
from racecheck import history as h

DRIVERS = ["psycopg", "psycopg-async", "psycopg2", "asyncpg"]
INSERT = {False: "sql:INSERT INTO runs (job)*", True: "sql:INSERT INTO runs_u (job)*"}


def _run(url: str, driver: str, target_sync, target_async, args: tuple, **options) -> racecheck.RunResult:
    is_async = driver in faulty.ASYNC
    return racecheck.run(target_async if is_async else target_sync, n=1, trials=1,
                         mode="asyncio" if is_async else "threads", args=(url, driver, *args),
                         setup=schema.reset(url), timeout=20, **options)


def _recorded(url: str, table: str) -> str | None:
    n = schema.rows(url, f"SELECT count(*) FROM {table} WHERE job = 'j1'")[0][0]
    return None if n == 1 else f"run j1 recorded {n} times in {table}"


def _record(url: str, driver: str, idempotent: bool, fault: racecheck.Fault) -> racecheck.RunResult:
    table = "runs_u" if idempotent else "runs"
    check = racecheck.custom(lambda _h: _recorded(url, table), name="recorded_once")
    return _run(url, driver, faulty.record, faulty.arecord, (idempotent,), faults=[fault], invariants=[check])


def _fired(res: racecheck.RunResult, phase: str) -> None:
    fired = [e.payload["phase"] for t in res.trials for e in t.history.filter(h.FAULT)]
    assert fired == [phase], fired


@pytest.mark.parametrize("driver", DRIVERS)
def test_after_commit_blind_retry_records_twice(race_postgres, driver):
    """The INSERT committed, the client saw the driver's connection error, retried: two rows."""
    fault = racecheck.db_error(at=INSERT[False], error=faulty.ERROR[driver], after_commit=True)
    res = _record(race_postgres.url, driver, False, fault)
    res.assert_violation("recorded_once")
    assert "recorded 2 times" in str(res.violations[0])
    _fired(res, "after")


@pytest.mark.parametrize("driver", DRIVERS)
def test_after_commit_idempotent_retry_records_once(race_postgres, driver):
    fault = racecheck.db_error(at=INSERT[True], error=faulty.ERROR[driver], after_commit=True)
    res = _record(race_postgres.url, driver, True, fault)
    res.assert_ok()
    _fired(res, "after")


@pytest.mark.parametrize("driver", DRIVERS)
def test_before_the_statement_a_retry_records_once(race_postgres, driver):
    """Nothing was sent, so even the blind retry is correct: one row, and the fault did fire."""
    fault = racecheck.db_error(at=INSERT[False], error=faulty.ERROR[driver])
    res = _record(race_postgres.url, driver, False, fault)
    res.assert_ok()
    _fired(res, "before")
    sql = [e for e in res.trials[0].history.filter(h.SQL) if e.name.startswith(INSERT[False][:-1])]
    assert [("error" in e.payload) for e in sql] == [False, False], sql  # attempt 1's point, attempt 2's


def _no_money_lost_and_nothing_left_open(url: str):
    def check(_history) -> str | None:
        total = schema.rows(url, "SELECT sum(bal) FROM balances")[0][0]
        open_tx = schema.rows(url, "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                                   "AND state LIKE 'idle in transaction%'")[0][0]
        if open_tx:
            return f"{open_tx} session(s) still idle in transaction: the crashed worker's connection was not severed"
        return None if total == 100 else f"total balance is {total}, not 100: the transfer was half done"

    return racecheck.custom(check, name="transfer_atomic")


CRASH_AT = "sql:" + faulty.CREDIT


@pytest.mark.parametrize("driver", DRIVERS)
def test_crash_between_autocommit_statements_is_caught(race_postgres, driver):
    url = race_postgres.url
    res = _run(url, driver, faulty.transfer, faulty.atransfer, (False,), faults=[racecheck.crash(at=CRASH_AT)],
               invariants=[_no_money_lost_and_nothing_left_open(url)])
    res.assert_violation("transfer_atomic")
    assert "total balance is 90" in str(res.violations[0])
    assert res.trials[0].history.crashed_workers() == {0}


@pytest.mark.parametrize("driver", DRIVERS)
def test_crash_inside_a_transaction_is_rolled_back_by_the_server(race_postgres, driver):
    """The crashed worker is parked with its transaction open; only severing its connection ends it."""
    url = race_postgres.url
    res = _run(url, driver, faulty.transfer, faulty.atransfer, (True,), faults=[racecheck.crash(at=CRASH_AT)],
               invariants=[_no_money_lost_and_nothing_left_open(url)])
    res.assert_ok()
    assert res.trials[0].history.crashed_workers() == {0}
    assert schema.rows(url, "SELECT bal FROM balances ORDER BY id") == [(100,), (0,)]


@pytest.mark.parametrize("driver", sorted(faulty.ASYNC))
def test_a_crashed_tasks_unwinding_cannot_commit_its_transaction(race_postgres, driver):
    """asyncio: the parked task is cancelled at the end of the trial and its ``finally`` commits; the
    connection was severed at the crash, so that commit fails and the debit never lands."""
    url = race_postgres.url
    res = racecheck.run(faulty.atransfer_commit_in_finally, n=1, trials=1, mode="asyncio", args=(url, driver),
                        setup=schema.reset(url), faults=[racecheck.crash(at=CRASH_AT)], timeout=20,
                        invariants=[_no_money_lost_and_nothing_left_open(url)])
    res.assert_ok()
    assert res.trials[0].history.crashed_workers() == {0}
    assert schema.rows(url, "SELECT bal FROM balances ORDER BY id") == [(100,), (0,)]
