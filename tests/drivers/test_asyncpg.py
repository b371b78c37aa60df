"""asyncpg, with no change to the code: statements are points in asyncio mode, faults fire.

These run under stress; test_async_controlled.py runs the same races under pct and random.
"""

from __future__ import annotations

import asyncpg
import asyncpg.cursor
import asyncpg.prepared_stmt
import pytest

import racecheck
from drivers import scenarios
from drivers.targets import apg, schema
from racecheck import history as h

BUGGY = scenarios.buggy(apg)
FIXED = scenarios.fixed(apg)
ASYNC = {"mode": "asyncio", "strategy": "stress"}


@pytest.mark.parametrize("scenario", list(BUGGY))
def test_buggy_forms_are_caught_under_stress_in_asyncio(race_postgres, scenario):
    target, invariants = BUGGY[scenario]
    needed = scenarios.caught_by(target, race_postgres.url, invariants, **ASYNC)
    print(f"{scenario}: trials needed per seed {needed}")
    assert sum(t is not None and t <= 10 for t in needed) == len(scenarios.SEEDS), needed


@pytest.mark.parametrize("scenario", list(FIXED))
def test_fixed_forms_pass_200_trials(race_postgres, scenario):
    target, invariants = FIXED[scenario]
    scenarios.passes(target, race_postgres.url, invariants, **ASYNC)


AT = "sql:INSERT INTO t*"
COPY_AT = "sql:COPY t FROM STDIN"


def _at(path: str) -> str:
    return COPY_AT if path == "copy" else AT


@pytest.mark.parametrize("error", ["UniqueViolation", "UniqueViolationError", "PostgresConnectionError"])
def test_db_error_before_the_statement_raises_asyncpgs_class(race_postgres, error):
    """Short names resolve in asyncpg.exceptions for an asyncpg statement (``UniqueViolation`` too)."""
    url = race_postgres.url
    schema.reset(url)()
    res = racecheck.run(apg.insert, n=1, trials=1, mode="asyncio", args=(url, "transaction"),
                        faults=[racecheck.db_error(at=AT, error=error)])
    res.assert_violation("no_exceptions")
    err = res.first_failure.history.filter(h.ERROR)[0]
    assert err.payload["type"].startswith("asyncpg.")
    assert err.payload["type"].rpartition(".")[2].startswith(error.removesuffix("Error"))
    assert schema.rows(url, "SELECT v FROM t") == []


@pytest.mark.parametrize("path", ["autocommit", "transaction", "commit", "copy"])
def test_db_error_after_commit_raises_once_the_row_is_durable(race_postgres, path):
    url = race_postgres.url
    schema.reset(url)()
    res = racecheck.run(apg.insert, n=1, trials=1, mode="asyncio", args=(url, path),
                        faults=[racecheck.db_error(at=_at(path), error="PostgresConnectionError",
                                                   after_commit=True)])
    res.assert_violation("no_exceptions")
    assert res.first_failure.history.filter(h.ERROR)[0].payload["type"].startswith("asyncpg.")
    assert schema.rows(url, "SELECT v FROM t") == [(path,)]


def test_db_error_after_commit_never_fires_on_rollback(race_postgres):
    url = race_postgres.url
    schema.reset(url)()
    res = racecheck.run(apg.insert, n=1, trials=1, mode="asyncio", args=(url, "rollback"),
                        faults=[racecheck.db_error(at=AT, error="PostgresConnectionError", after_commit=True,
                                                    optional=True)])
    res.assert_ok()
    assert res.trials[0].history.filter(h.FAULT) == []
    assert schema.rows(url, "SELECT v FROM t") == []


def test_statements_params_rows_and_the_commit_point(race_postgres):
    url = race_postgres.url
    schema.reset(url)()
    res = racecheck.run(apg.increment, n=1, trials=1, mode="asyncio", args=(url,))
    res.assert_ok()
    trial = res.trials[0]
    texts = scenarios.texts(trial)
    assert texts == ["BEGIN;", "SELECT v FROM counter WHERE id = 1",
                     "UPDATE counter SET v = $1 WHERE id = 1", "COMMIT"]
    update = [e for e in trial.history.filter(h.SQL) if e.name.startswith("sql:UPDATE")][0]
    assert update.payload["params"] == "(1,)"
    rows = {e.name: e.payload["rows"] for e in trial.history.filter("sql_rows")}
    assert rows["sql:UPDATE counter SET v = $1 WHERE id = 1"] == 1


def test_pool_release_reset_is_not_a_point(race_postgres):
    url = race_postgres.url
    schema.reset(url)()
    res = racecheck.run(apg.claim_fixed, n=1, trials=1, mode="asyncio", args=(url,))
    res.assert_ok()
    assert scenarios.texts(res.trials[0]) == [
        "BEGIN;", "SELECT id FROM jobs WHERE status = 'queued' ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED",
        "UPDATE jobs SET status = 'taken' WHERE id = $1", "COMMIT"]


def test_a_crash_before_commit_severs_the_connection(race_postgres):
    url = race_postgres.url
    schema.reset(url)()
    res = racecheck.run(apg.hold_then_commit, n=1, trials=1, mode="asyncio", args=(url,),
                        faults=[racecheck.crash(at="sql:COMMIT")], invariants=[])
    assert res.trials[0].history.filter(h.CRASH)
    assert schema.rows(url, "SELECT v FROM t") == []


def test_backend_down_is_a_backend_failure(race_postgres):
    url = race_postgres.url
    schema.reset(url)()
    res = racecheck.run(apg.increment, n=1, trials=1, mode="asyncio", args=(url,),
                        backends={"postgres": race_postgres},
                        faults=[racecheck.backend_down(at="sql:UPDATE*", backend="postgres")])
    res.assert_violation("no_exceptions")
    failed = [e for e in res.first_failure.history.filter(h.SQL) if "error" in e.payload]
    assert failed and failed[0].payload["backend_failed"] is True, failed
    assert failed[0].payload["error"].startswith("asyncpg.")


def test_nothing_is_patched_after_the_run(race_postgres):
    url = race_postgres.url
    schema.reset(url)()
    owners = {"execute": asyncpg.connection.Connection, "fetch": asyncpg.connection.Connection,
              "reset": asyncpg.connection.Connection, "executemany": asyncpg.prepared_stmt.PreparedStatement,
              "_bind": asyncpg.cursor.BaseCursor}
    before = {n: owner.__dict__[n] for n, owner in owners.items()}
    racecheck.run(apg.prepared_and_cursors, n=1, trials=1, mode="asyncio", args=(url,)).assert_ok()
    assert {n: owner.__dict__[n] for n, owner in owners.items()} == before


def test_prepared_statements_and_cursors_are_points(race_postgres):
    url = race_postgres.url
    schema.reset(url)()
    res = racecheck.run(apg.prepared_and_cursors, n=1, trials=1, mode="asyncio", args=(url,))
    res.assert_ok()
    trial = res.trials[0]
    assert scenarios.texts(trial) == [
        "BEGIN;", apg.PREPARED, apg.TAKE, "SELECT id FROM jobs WHERE status = $1", "SELECT v FROM counter WHERE id = $1",
        "COMMIT"]
    by_name = {e.name: e.payload for e in trial.history.filter(h.SQL)}
    assert by_name["sql:" + apg.PREPARED]["params"] == "('queued',)"
    assert by_name["sql:" + apg.TAKE]["batches"] == 2
    assert {e.name: e.payload["rows"] for e in trial.history.filter("sql_rows")}["sql:" + apg.PREPARED] == 4


@pytest.mark.parametrize(("at", "after"), [(apg.PREPARED, False), (apg.TAKE, True)])
def test_db_error_fires_at_prepared_statements(race_postgres, at, after):
    """Before a prepared SELECT (nothing taken), after the commit of a prepared UPDATE (the rows are taken)."""
    url = race_postgres.url
    schema.reset(url)()
    res = racecheck.run(apg.prepared_and_cursors, n=1, trials=1, mode="asyncio", args=(url,),
                        faults=[racecheck.db_error(at="sql:" + at, error="PostgresConnectionError",
                                                   after_commit=after)])
    res.assert_violation("no_exceptions")
    assert res.first_failure.history.filter(h.ERROR)[0].payload["type"].startswith("asyncpg.")
    taken = schema.rows(url, "SELECT count(*) FROM jobs WHERE status = 'taken'")[0][0]
    assert taken == (2 if after else 0)
