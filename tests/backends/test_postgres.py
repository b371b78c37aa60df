"""PostgresServer / PostgresDB: template clones, reset, snapshot, kill_connections, stop/start."""

from __future__ import annotations

import psycopg
import pytest

from racecheck.backends import PostgresDB, PostgresServer


def test_reset_gives_fresh_db_from_template(race_postgres_server: PostgresServer):
    """reset() drops the data a trial wrote, keeps the schema loaded once, and keeps the same name and URL."""
    db = race_postgres_server.database("create table runs (id serial primary key, sha text unique)")
    try:
        url, name = db.url, db.dbname
        db.execute("insert into runs (sha) values ('abc')")
        other = db.connect()  # a connection left open by the code under test
        db.reset()
        assert (db.url, db.dbname) == (url, name)
        assert db.execute("select count(*) from runs") == [(0,)]
        db.execute("insert into runs (sha) values ('abc')")  # the unique index is there
        with pytest.raises(psycopg.errors.UniqueViolation):
            db.execute("insert into runs (sha) values ('abc')")
        with pytest.raises(psycopg.OperationalError):
            other.execute("select 1")  # the old database's sessions were terminated
        for _ in range(3):
            db.reset()
            assert db.execute("select count(*) from runs") == [(0,)]
    finally:
        db.close()


def test_same_schema_shares_one_template(race_postgres_server: PostgresServer):
    """Two databases with the same schema clone one template (the schema is loaded once per server)."""
    schema = "create table a (k int primary key)"
    d1, d2 = race_postgres_server.database(schema), race_postgres_server.database(schema)
    try:
        assert d1.template == d2.template and d1.dbname != d2.dbname
        d1.execute("insert into a values (1)")
        assert d2.execute("select count(*) from a") == [(0,)]
    finally:
        d1.close()
        d2.close()


def test_schema_files_are_loaded(race_postgres_server: PostgresServer, tmp_path):
    """schema_files are read and loaded into the template in order."""
    f1, f2 = tmp_path / "1.sql", tmp_path / "2.sql"
    f1.write_text("create table w (id int);")
    f2.write_text("insert into w values (7);")
    db = race_postgres_server.database(schema_files=[str(f1), str(f2)])
    try:
        assert db.execute("select id from w") == [(7,)]
        db.execute("delete from w")
        db.reset()
        assert db.execute("select id from w") == [(7,)]
    finally:
        db.close()


def test_snapshot_makes_current_state_the_template(race_postgres: PostgresDB):
    """snapshot() captures what the test loaded, so later resets return to it."""
    race_postgres.execute("create table s (v int); insert into s values (1)")
    race_postgres.snapshot()
    race_postgres.execute("insert into s values (2)")
    race_postgres.reset()
    assert race_postgres.execute("select v from s") == [(1,)]


def test_race_postgres_fixture_is_fresh_per_test(race_postgres: PostgresDB):
    """The function-scoped fixture hands out an empty racecheck-made database."""
    assert race_postgres.dbname.startswith("racecheck_")
    rows = race_postgres.execute(
        "select count(*) from information_schema.tables where table_schema = 'public'")
    assert rows == [(0,)]


def test_kill_connections_terminates_clients(race_postgres: PostgresDB):
    """kill_connections() terminates client backends of that database only."""
    c = race_postgres.connect()
    c.execute("select 1")
    assert race_postgres.kill_connections() >= 1
    with pytest.raises(psycopg.OperationalError):
        c.execute("select 1")


def test_owned_server_stop_start_keeps_url():
    """An owned server can be stopped and restarted on the same URL; committed data survives a fast stop."""
    from racecheck.backends import provide_postgres

    srv = provide_postgres(providers=["local"])
    try:
        db = srv.database("create table k (v int)")
        db.execute("insert into k values (1)")
        srv.stop()
        with pytest.raises(psycopg.OperationalError):
            psycopg.connect(db.url, connect_timeout=2)
        srv.start()
        assert db.execute("select v from k") == [(1,)]
        db.reset()
        assert db.execute("select count(*) from k") == [(0,)]
    finally:
        srv.close()
    assert not srv.process.running
    assert not srv.process.base.exists()
