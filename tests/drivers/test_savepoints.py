"""Savepoints: what a ROLLBACK TO SAVEPOINT undid never reaches its after phase; the rest still commits.

Before 0.3.0 a statement that failed inside a savepoint marked the whole transaction failed
(its commit then dropped every after-fault), and the statements rolled back to a savepoint
kept theirs (an after_commit fault fired for a row that was never committed).
"""

from __future__ import annotations

import pytest

import racecheck
from drivers import scenarios
from drivers.targets import savepoints, schema
from racecheck import history as h

DRIVERS = ["psycopg2", "psycopg", "asyncpg"]
ERROR = {"psycopg2": "OperationalError", "psycopg": "OperationalError", "asyncpg": "PostgresConnectionError"}


HOW = ["sql error", "raise"]


def _run(url: str, driver: str, at: str, optional: bool = False, how: str = "sql error") -> racecheck.RunResult:
    is_async = driver == "asyncpg"
    return racecheck.run(savepoints.anested if is_async else savepoints.nested, n=1, trials=1,
                         mode="asyncio" if is_async else "threads", args=(url, driver, how), setup=schema.reset(url),
                         timeout=20, faults=[racecheck.db_error(at=at, error=ERROR[driver], after_commit=True,
                                                                optional=optional)])


@pytest.mark.parametrize("how", HOW)
@pytest.mark.parametrize("driver", DRIVERS)
def test_the_outer_statement_commits_and_its_after_fault_fires(race_postgres, driver, how):
    url = race_postgres.url
    res = _run(url, driver, "sql:" + savepoints.OUTER, how=how)
    res.assert_violation("no_exceptions")
    assert [e.payload["phase"] for e in res.trials[0].history.filter(h.FAULT)] == ["after"]
    assert schema.rows(url, "SELECT v FROM t") == [("outer",)]


@pytest.mark.parametrize("how", HOW)
@pytest.mark.parametrize("driver", DRIVERS)
def test_a_statement_rolled_back_to_a_savepoint_never_reaches_its_after_phase(race_postgres, driver, how):
    url = race_postgres.url
    res = _run(url, driver, "sql:" + savepoints.INNER, optional=True, how=how)
    res.assert_ok()
    assert res.trials[0].history.filter(h.FAULT) == []
    assert schema.rows(url, "SELECT v FROM t") == [("outer",)]
    assert savepoints.INNER in scenarios.texts(res.trials[0])  # it ran (and was a point)


@pytest.mark.parametrize(("driver", "statements"), [
    ("psycopg2", ["SAVEPOINT sp", "ROLLBACK TO SAVEPOINT sp", "RELEASE SAVEPOINT sp"]),
    ("asyncpg", ["SAVEPOINT __asyncpg_savepoint_", "ROLLBACK TO __asyncpg_savepoint_"])])
def test_savepoint_statements_are_sql_events(race_postgres, driver, statements):
    url = race_postgres.url
    res = _run(url, driver, "sql:" + savepoints.INNER, optional=True)
    texts = scenarios.texts(res.trials[0])
    for text in statements:
        assert any(t.startswith(text) for t in texts), (text, texts)
    assert [e for e in res.trials[0].history.filter(h.SQL) if e.name.startswith("sql:ROLLBACK TO")]
