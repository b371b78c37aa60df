"""psycopg2, with no change to the code: statements are points, races are found under pct, faults fire."""

from __future__ import annotations

import psycopg2
import psycopg2.extensions
import pytest

import racecheck
from drivers import scenarios
from drivers.targets import pg2, schema
from racecheck import history as h

BUGGY = scenarios.buggy(pg2)
FIXED = scenarios.fixed(pg2)
_texts = scenarios.texts


@pytest.mark.parametrize("scenario", list(BUGGY))
def test_buggy_forms_are_caught_under_pct(race_postgres, scenario):
    """Every one of 20 fixed seeds finds the bug within 30 pct trials, WITHIN_10 of them within 10."""
    target, invariants = BUGGY[scenario]
    scenarios.check_found(f"psycopg2 {scenario}",
                          scenarios.caught_by(target, race_postgres.url, invariants, strategy="pct"))


@pytest.mark.parametrize("scenario", list(FIXED))
def test_fixed_forms_pass_200_pct_trials(race_postgres, scenario):
    target, invariants = FIXED[scenario]
    scenarios.passes(target, race_postgres.url, invariants, strategy="pct")


AT = "sql:INSERT INTO t*"
PATHS = ["autocommit", "commit", "with", "statement", "values", "batch", "many", "copy_expert", "copy_from"]
AT_PATH = {"copy_expert": "sql:COPY t (v) FROM STDIN", "copy_from": "sql:COPY t FROM STDIN"}


@pytest.mark.parametrize("error", ["UniqueViolation", "OperationalError"])
def test_db_error_before_the_statement_raises_psycopg2s_class_and_sends_nothing(race_postgres, error):
    """A short error name resolves in psycopg2.errors for a psycopg2 statement (psycopg 3 is importable too)."""
    url = race_postgres.url
    schema.reset(url)()
    res = racecheck.run(pg2.insert, n=1, trials=1, args=(url, "commit"),
                        faults=[racecheck.db_error(at=AT, error=error)])
    res.assert_violation("no_exceptions")
    err = res.first_failure.history.filter(h.ERROR)[0]
    assert err.payload["type"].startswith("psycopg2.") and err.payload["type"].endswith(error)
    assert schema.rows(url, "SELECT v FROM t") == []


@pytest.mark.parametrize("path", PATHS)
def test_db_error_after_commit_raises_once_the_row_is_durable(race_postgres, path):
    """after_commit: the row is committed (by any psycopg2 commit path), then the client sees the error."""
    url = race_postgres.url
    schema.reset(url)()
    res = racecheck.run(pg2.insert, n=1, trials=1, args=(url, path),
                        faults=[racecheck.db_error(at=AT_PATH.get(path, AT), error="OperationalError",
                                                   after_commit=True)])
    res.assert_violation("no_exceptions")
    assert res.first_failure.history.filter(h.ERROR)[0].payload["type"] == "psycopg2.OperationalError"
    assert schema.rows(url, "SELECT v FROM t") == [(path,)]


def test_db_error_after_commit_never_fires_on_rollback(race_postgres):
    url = race_postgres.url
    schema.reset(url)()
    res = racecheck.run(pg2.insert, n=1, trials=1, args=(url, "rollback"),
                        faults=[racecheck.db_error(at=AT, error="OperationalError", after_commit=True,
                                                    optional=True)])
    res.assert_ok()
    assert res.trials[0].history.filter(h.FAULT) == []
    assert schema.rows(url, "SELECT v FROM t") == []


def test_statements_carry_params_and_row_counts(race_postgres):
    url = race_postgres.url
    schema.reset(url)()
    res = racecheck.run(pg2.increment, n=1, trials=1, args=(url,))
    res.assert_ok()
    trial = res.trials[0]
    update = [e for e in trial.history.filter(h.SQL) if e.name.startswith("sql:UPDATE")][0]
    assert update.payload["statement"] == "UPDATE counter SET v = %s WHERE id = 1"
    assert update.payload["params"] == "(1,)"
    rows = {e.name: e.payload["rows"] for e in trial.history.filter("sql_rows")}
    assert rows["sql:UPDATE counter SET v = %s WHERE id = 1"] == 1
    assert _texts(trial)[-1] == "COMMIT"  # `with conn:` committed


def test_named_cursors_and_callproc_are_points(race_postgres):
    url = race_postgres.url
    schema.reset(url)()
    res = racecheck.run(pg2.named_cursor, n=1, trials=1, args=(url,))
    res.assert_ok()
    assert _texts(res.trials[0]) == ["SELECT id FROM jobs ORDER BY id", "CALLPROC abs", "COMMIT"]


def test_a_crash_before_commit_severs_the_connection_so_the_server_rolls_back(race_postgres):
    url = race_postgres.url
    schema.reset(url)()
    res = racecheck.run(pg2.hold_then_commit, n=1, trials=1, args=(url,),
                        faults=[racecheck.crash(at="sql:COMMIT")], invariants=[])
    assert res.trials[0].history.filter(h.CRASH)
    assert schema.rows(url, "SELECT v FROM t") == []
    idle = schema.rows(url, "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                            "AND state LIKE 'idle in transaction%'")
    assert idle == [(0,)]


def test_backend_down_fails_the_next_statement_as_a_backend_failure(race_postgres):
    """pg_terminate_backend kills the psycopg2 connection: OperationalError, marked backend_failed."""
    url = race_postgres.url
    schema.reset(url)()
    res = racecheck.run(pg2.increment, n=1, trials=1, args=(url,), backends={"postgres": race_postgres},
                        faults=[racecheck.backend_down(at="sql:UPDATE*", backend="postgres")])
    res.assert_violation("no_exceptions")
    failed = [e for e in res.first_failure.history.filter(h.SQL) if "error" in e.payload]
    assert failed and failed[0].payload["backend_failed"] is True
    assert failed[0].payload["error"].startswith("psycopg2.")


def test_outside_a_run_nothing_is_recorded_and_connections_still_work(race_postgres):
    url = race_postgres.url
    schema.reset(url)()
    racecheck.run(pg2.increment, n=1, trials=1, args=(url,)).assert_ok()
    conn = psycopg2.connect(url)
    assert isinstance(conn, psycopg2.extensions.connection)
    with conn, conn.cursor() as cur:
        cur.execute("SELECT v FROM counter")
        assert cur.fetchone() == (1,)
    conn.close()


@pytest.mark.parametrize("path", ["copy_expert", "copy_from"])
def test_copy_is_a_point_before_anything_is_sent(race_postgres, path):
    url = race_postgres.url
    schema.reset(url)()
    res = racecheck.run(pg2.insert, n=1, trials=1, args=(url, path),
                        faults=[racecheck.db_error(at=AT_PATH[path], error="OperationalError")])
    res.assert_violation("no_exceptions")
    assert schema.rows(url, "SELECT v FROM t") == []
    rows = {e.name: e.payload["rows"] for e in res.first_failure.history.filter("sql_rows")}
    assert rows == {}  # it failed before it ran: no row count
    ok = racecheck.run(pg2.insert, n=1, trials=1, args=(url, path))
    ok.assert_ok()
    assert {e.name: e.payload["rows"] for e in ok.trials[0].history.filter("sql_rows")}[AT_PATH[path]] == 1
