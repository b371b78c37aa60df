"""Driver instrumentation on real servers: statements and commands become points and history."""

from __future__ import annotations

import psycopg
import redis
import redis.asyncio

import racecheck
from faults.targets import drivers
from racecheck import history as h


def _texts(result: racecheck.RunResult, kind: str, field: str) -> list[str]:
    trial = result.trials[0]
    return [str(e.payload[field]) for e in trial.history.filter(kind) if e.worker is not None]


def test_sync_psycopg_statements_are_recorded(race_postgres):
    """Every statement of a sync psycopg connection the trigger opened itself is an `sql` event, commit included."""
    res = racecheck.run(drivers.pg_sync, n=2, trials=1, args=(race_postgres.url,))
    res.assert_ok()
    texts = _texts(res, h.SQL, "statement")
    assert texts.count("SELECT 1 AS sync_probe") == 2
    assert texts.count("SELECT %s::int AS param_probe") == 2
    assert texts.count("SELECT %s::int AS many_probe") == 2  # executemany is one statement event
    assert texts.count("COMMIT") == 2


def test_async_psycopg_statements_are_recorded(race_postgres):
    """Every statement of an AsyncConnection is an `sql` event in asyncio mode."""
    res = racecheck.run(drivers.pg_async, n=2, trials=1, mode="asyncio", args=(race_postgres.url,))
    res.assert_ok()
    texts = _texts(res, h.SQL, "statement")
    assert texts.count("SELECT 2 AS async_probe") == 2
    assert texts.count("COMMIT") == 2


def test_sync_redis_commands_are_recorded(race_redis_real):
    """Commands and pipelines of a sync redis client the trigger built are `redis` events."""
    res = racecheck.run(drivers.redis_sync, n=2, trials=1, args=(race_redis_real.url,))
    res.assert_ok()
    texts = _texts(res, h.REDIS, "command")
    assert texts.count("SET probe:sync 1") == 2
    assert texts.count("PIPELINE INCRBY probe:count 1; GET probe:sync") == 2
    assert int(race_redis_real.client().get("probe:count")) == 2


def test_asyncio_redis_commands_are_recorded(race_redis_real):
    """Commands of a redis.asyncio client are `redis` events in asyncio mode."""
    res = racecheck.run(drivers.redis_async, n=2, trials=1, mode="asyncio", args=(race_redis_real.url,))
    res.assert_ok()
    texts = _texts(res, h.REDIS, "command")
    assert texts.count("SET probe:async 1") == 2
    assert texts.count("PIPELINE INCRBY probe:acount 1; GET probe:async") == 2


def test_statements_are_points_faults_can_target(race_postgres):
    """A statement label is a point: a fault naming it fires there (and only there)."""
    res = racecheck.run(drivers.pg_sync, n=1, trials=1, args=(race_postgres.url,),
                        faults=[racecheck.db_error(at="sql:SELECT 1*", error="UniqueViolation")])
    res.assert_violation("no_exceptions")
    err = res.first_failure.history.filter(h.ERROR)[0]
    assert err.payload["type"] == "psycopg.errors.UniqueViolation"
    fault = res.first_failure.history.filter(h.FAULT)[0]
    assert fault.payload["at"] == "sql:SELECT 1 AS sync_probe"


def test_nothing_is_patched_after_the_run(race_postgres, race_redis_real):
    """After a run the driver methods are the originals again and calls record nothing."""
    before = {
        "cursor": psycopg.Cursor.execute, "acursor": psycopg.AsyncCursor.execute,
        "commit": psycopg.Connection.commit, "tx": psycopg.Transaction.__exit__,
        "redis": redis.Redis.execute_command, "aredis": redis.asyncio.Redis.execute_command,
        "pipe": redis.client.Pipeline.execute,
    }
    racecheck.run(drivers.pg_sync, n=1, trials=1, args=(race_postgres.url,)).assert_ok()
    racecheck.run(drivers.redis_sync, n=1, trials=1, args=(race_redis_real.url,)).assert_ok()
    after = {
        "cursor": psycopg.Cursor.execute, "acursor": psycopg.AsyncCursor.execute,
        "commit": psycopg.Connection.commit, "tx": psycopg.Transaction.__exit__,
        "redis": redis.Redis.execute_command, "aredis": redis.asyncio.Redis.execute_command,
        "pipe": redis.client.Pipeline.execute,
    }
    assert after == before
    assert drivers.pg_sync(race_postgres.url) == (7,)  # still works, outside any run
