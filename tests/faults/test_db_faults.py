"""db_error on real Postgres: before a statement is sent, and after it committed (ambiguous write)."""

from __future__ import annotations

import pytest

import racecheck
from faults.targets import ambiguous, commits
from racecheck import history as h

AT = "sql:INSERT INTO t*"


def _rows(db) -> list[str]:
    return [r[0] for r in db.execute("SELECT v FROM t ORDER BY v")]


@pytest.mark.parametrize("error", ["SerializationFailure", "UniqueViolation", "OperationalError"])
def test_db_error_before_statement_is_not_sent(race_postgres, error):
    """A before-fault raises the chosen psycopg error and the statement never reaches the server."""
    race_postgres.execute(commits.SCHEMA)
    res = racecheck.run(commits.insert, n=1, trials=1, args=(race_postgres.url, "autocommit"),
                        faults=[racecheck.db_error(at=AT, error=error)])
    err = res.first_failure.history.filter(h.ERROR)[0]
    assert err.payload["type"].rpartition(".")[2] == error
    assert _rows(race_postgres) == []


@pytest.mark.parametrize("path", ["autocommit", "commit", "transaction", "statement", "with"])
def test_after_commit_raises_once_the_row_is_durable(race_postgres, path):
    """With after_commit the statement commits (by any commit path) and then the error is raised: the ambiguous write."""
    race_postgres.execute(commits.SCHEMA)
    res = racecheck.run(commits.insert, n=1, trials=1, args=(race_postgres.url, path),
                        faults=[racecheck.db_error(at=AT, error="OperationalError", after_commit=True)])
    res.assert_violation("no_exceptions")
    assert res.first_failure.history.filter(h.ERROR)[0].payload["type"] == "psycopg.OperationalError"
    assert _rows(race_postgres) == [path]


@pytest.mark.parametrize("path", ["autocommit", "commit", "transaction"])
def test_after_commit_on_async_connections(race_postgres, path):
    """The ambiguous write works the same on psycopg's AsyncConnection."""
    race_postgres.execute(commits.SCHEMA)
    res = racecheck.run(commits.insert_async, n=1, trials=1, mode="asyncio", args=(race_postgres.url, path),
                        faults=[racecheck.db_error(at=AT, error="OperationalError", after_commit=True)])
    res.assert_violation("no_exceptions")
    assert _rows(race_postgres) == [path]


def test_after_commit_never_fires_when_the_transaction_rolls_back(race_postgres):
    """A statement whose transaction rolled back never became durable, so its after-fault does not fire."""
    race_postgres.execute(commits.SCHEMA)
    res = racecheck.run(commits.insert, n=1, trials=1, args=(race_postgres.url, "rollback"),
                        faults=[racecheck.db_error(at=AT, error="OperationalError", after_commit=True,
                                                    optional=True)])
    res.assert_ok()
    assert res.trials[0].history.filter(h.FAULT) == []
    assert _rows(race_postgres) == []


def _no_duplicate_runs(db):
    def check(_history):
        dups = db.execute(ambiguous.DUPLICATES)
        return [f"job {job!r} recorded {n} times" for job, n in dups]
    return racecheck.custom(check, name="unique_runs")


AMBIGUOUS = racecheck.db_error(at="sql:INSERT INTO runs*", error="OperationalError", after_commit=True)


def test_naive_retry_after_ambiguous_write_records_twice(race_postgres):
    """Caught: the first INSERT committed but its ack was lost; the blind retry records the run again."""
    race_postgres.execute(ambiguous.SCHEMA)
    res = racecheck.run(ambiguous.record_naive, n=1, trials=3, args=(race_postgres.url,),
                        setup=lambda: race_postgres.execute("TRUNCATE runs"),
                        faults=[AMBIGUOUS], invariants=[_no_duplicate_runs(race_postgres)])
    res.assert_violation("unique_runs")
    assert "recorded 2 times" in str(res.violations[0])


def test_idempotent_retry_after_ambiguous_write_records_once(race_postgres):
    """Passes: the retry hits ON CONFLICT DO NOTHING, so the run is recorded once."""
    race_postgres.execute(ambiguous.SCHEMA_UNIQUE)
    res = racecheck.run(ambiguous.record_idempotent, n=1, trials=3, args=(race_postgres.url,),
                        setup=lambda: race_postgres.execute("TRUNCATE runs"),
                        faults=[AMBIGUOUS], invariants=[_no_duplicate_runs(race_postgres)])
    res.assert_ok()
    assert res.trials_run == 3
    assert all(t.history.filter(h.FAULT) for t in res.trials)  # the fault did fire every trial
