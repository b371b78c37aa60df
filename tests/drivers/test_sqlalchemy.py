"""SQLAlchemy 2 (Core and ORM) on psycopg2 and on psycopg 3: no change to the app, races and faults."""

from __future__ import annotations

import pytest

import racecheck
from drivers import scenarios
from drivers.targets import sa, schema
from racecheck import history as h

DBAPIS = ["psycopg2", "psycopg"]


@pytest.fixture
def url(race_postgres):
    yield race_postgres.url
    sa.dispose()  # close pooled connections before the database is dropped


def _run(target, url: str, dbapi: str, n: int = 2, **options):
    return racecheck.run(target, n=n, args=(url, dbapi), setup=schema.reset(url), timeout=20, **options)


@pytest.mark.parametrize("dbapi", DBAPIS)
@pytest.mark.parametrize("target", [sa.increment_core, sa.increment_orm], ids=["core", "orm"])
def test_lost_update_is_caught_under_pct(url, dbapi, target):
    needed = []
    for seed in range(10):
        res = _run(target, url, dbapi, trials=30, seed=seed, strategy="pct",
                   invariants=[racecheck.custom(schema.counter_is(url, 2))])
        needed.append(None if res.ok else len(res.trials))
    print(f"sqlalchemy {dbapi} {target.__name__}: {needed}")
    assert None not in needed, needed


@pytest.mark.parametrize("dbapi", DBAPIS)
def test_claim_without_lock_is_caught_and_skip_locked_passes(url, dbapi):
    res = _run(sa.claim, url, dbapi, trials=30, seed=1, strategy="pct",
               invariants=[racecheck.at_most_once("claimed")])
    res.assert_violation("at_most_once")
    res = _run(sa.claim_fixed, url, dbapi, trials=200, seed=1, strategy="pct",
               invariants=[racecheck.at_most_once("claimed")])
    res.assert_ok()
    assert len(res.trials) == 200
    assert any(e.name.endswith("FOR UPDATE SKIP LOCKED") for e in res.trials[-1].history.filter(h.SQL))


@pytest.mark.parametrize("dbapi", DBAPIS)
def test_server_side_increment_passes(url, dbapi):
    res = _run(sa.increment_fixed, url, dbapi, trials=200, seed=3, strategy="pct",
               invariants=[racecheck.custom(schema.counter_is(url, 2))])
    res.assert_ok()
    assert len(res.trials) == 200 and scenarios.texts(res.trials[-1])


@pytest.mark.parametrize("dbapi", DBAPIS)
def test_db_error_before_the_insert_sends_nothing(url, dbapi):
    res = _run(sa.insert_orm, url, dbapi, n=1, trials=1,
               faults=[racecheck.db_error(at="sql:INSERT INTO t*", error="UniqueViolation")])
    res.assert_violation("no_exceptions")
    err = res.first_failure.history.filter(h.ERROR)[0]
    # SQLAlchemy wrapped the driver's own class, as it does for a real refusal.
    assert err.payload["type"] == "sqlalchemy.exc.IntegrityError"
    assert f"({dbapi}.errors.UniqueViolation)" in err.payload["message"]
    assert schema.rows(url, "SELECT v FROM t") == []


@pytest.mark.parametrize("dbapi", DBAPIS)
def test_db_error_after_commit_through_session_commit(url, dbapi):
    """session.commit() commits, then the client sees the error: the row is there."""
    res = _run(sa.insert_orm, url, dbapi, n=1, trials=1,
               faults=[racecheck.db_error(at="sql:INSERT INTO t*", error="OperationalError",
                                          after_commit=True)])
    res.assert_violation("no_exceptions")
    err = res.first_failure.history.filter(h.ERROR)[0]
    assert err.payload["type"] == "sqlalchemy.exc.OperationalError"
    assert f"({dbapi}.OperationalError)" in err.payload["message"]
    assert res.first_failure.history.filter(h.FAULT)[0].payload["phase"] == "after"
    assert schema.rows(url, "SELECT v FROM t") == [("orm",)]


@pytest.mark.parametrize("dbapi", DBAPIS)
def test_after_commit_fault_does_not_fire_on_session_rollback(url, dbapi):
    res = _run(sa.insert_rollback, url, dbapi, n=1, trials=1,
               faults=[racecheck.db_error(at="sql:INSERT INTO t*", error="OperationalError",
                                          after_commit=True, optional=True)])
    res.assert_ok()
    assert res.trials[0].history.filter(h.FAULT) == []
    assert scenarios.texts(res.trials[0])  # the INSERT was seen
