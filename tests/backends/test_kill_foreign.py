"""kill_connections() on a database racecheck did not create ends only racecheck's own connections."""

from __future__ import annotations

import secrets

import pytest

from racecheck.backends import provide_postgres

from ._shared import SHARED_PG_URL

psycopg = pytest.importorskip("psycopg")


def _alive(conn) -> bool:
    try:
        conn.execute("select 1").fetchone()
        return True
    except psycopg.OperationalError:
        return False


@pytest.fixture
def foreign_db():
    """A database on the shared server made by someone else (plain psycopg, not racecheck)."""
    try:
        admin = psycopg.connect(SHARED_PG_URL, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError:
        pytest.skip("no shared PostgreSQL server")
    name = f"foreign_{secrets.token_hex(4)}"
    admin.execute(f'CREATE DATABASE "{name}"')
    yield name
    admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.close()


def test_kill_connections_spares_foreign_sessions(foreign_db):
    server = provide_postgres(url=SHARED_PG_URL, providers=["url"])
    try:
        db = server.existing(foreign_db)
        assert "application_name=racecheck-" in db.url
        foreign_url = SHARED_PG_URL.rsplit("/", 1)[0] + "/" + foreign_db
        theirs = psycopg.connect(foreign_url, autocommit=True, application_name="someone-else")
        untagged = psycopg.connect(foreign_url, autocommit=True)
        ours = db.connect()
        assert ours.execute("show application_name").fetchone()[0] == server.application_name
        assert db.kill_connections() == 1
        assert not _alive(ours)
        assert _alive(theirs) and _alive(untagged)
        theirs.close()
        untagged.close()
    finally:
        server.close()


def test_kill_connections_on_a_racecheck_database_ends_every_session():
    server = provide_postgres(url=SHARED_PG_URL, providers=["url"])
    try:
        db = server.database()
        plain = psycopg.connect(server.url_for(db.dbname), autocommit=True)
        assert db.kill_connections() >= 1
        assert not _alive(plain)
    finally:
        server.close()
