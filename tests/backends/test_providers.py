"""Provider chain selection: url, local, embedded, docker (explained when absent), fakeredis (labelled)."""

from __future__ import annotations

import os
import socket
import threading

import pytest

from racecheck.backends import (
    NoBackendError,
    NotOwnedError,
    ResetRefused,
    describe_providers,
    provide_postgres,
    provide_redis,
)
from racecheck.backends import providers as prov

from ._shared import SHARED_PG_URL, SHARED_REDIS_URL


def test_local_postgres_is_owned_and_named():
    """The local provider starts an owned PostgreSQL from /usr/lib/postgresql or pg_config and reports it used."""
    srv = provide_postgres(providers=["local"])
    try:
        assert srv.provider == "local" and srv.owned
        assert srv.version.startswith("PostgreSQL ")
        db = srv.database("create table t (id int)")
        assert db.execute("select count(*) from t") == [(0,)]
        reports = prov.LAST_REPORTS["postgres"]
        assert [r.name for r in reports] == ["local"] and reports[0].used
    finally:
        srv.close()


def test_local_redis_is_owned_and_real():
    """The local provider starts an owned redis-server with persistence off and is not emulated."""
    srv = provide_redis(providers=["local"])
    try:
        assert srv.provider == "local" and srv.owned and not srv.emulated
        c = srv.database().client()
        assert c.config_get("save")["save"] == "" and c.config_get("appendonly")["appendonly"] == "no"
    finally:
        srv.close()


def test_url_provider_uses_shared_server_and_drops_only_its_dbs():
    """An explicit Postgres URL is used first; racecheck creates racecheck_ databases there and drops them at close."""
    srv = provide_postgres(url=SHARED_PG_URL)
    try:
        assert srv.provider == "url" and not srv.owned
        db = srv.database("create table claims (k text primary key)")
        assert db.dbname.startswith("racecheck_")
        db.execute("insert into claims values ('a')")
        db.reset()  # a database racecheck created: reset is allowed
        assert db.execute("select count(*) from claims") == [(0,)]
        names = set(srv.created)
    finally:
        srv.close()
    import psycopg

    with psycopg.connect(SHARED_PG_URL, autocommit=True) as c:
        left = {r[0] for r in c.execute("select datname from pg_database").fetchall()}
        assert "test" in left and "postgres" in left  # untouched
    assert not (names & left)


def test_url_env_var_is_first_in_chain(monkeypatch):
    """RACECHECK_POSTGRES_URL selects the url provider before local servers."""
    monkeypatch.setenv("RACECHECK_POSTGRES_URL", SHARED_PG_URL)
    monkeypatch.delenv("RACECHECK_PROVIDERS", raising=False)
    srv = provide_postgres()
    try:
        assert srv.provider == "url"
    finally:
        srv.close()


def test_url_reset_refused_without_allow_flag():
    """Resetting a database or Redis db racecheck did not create is refused unless allow_reset is passed."""
    pg = provide_postgres(url=SHARED_PG_URL)
    try:
        with pytest.raises(ResetRefused, match="allow_reset"):
            pg.existing("test").reset()
        with pytest.raises(NotOwnedError):
            pg.stop()
    finally:
        pg.close()
    rs = provide_redis(url=SHARED_REDIS_URL)
    try:
        assert rs.provider == "url" and not rs.owned
        rdb = rs.database()
        with pytest.raises(ResetRefused, match="allow-reset"):
            rdb.reset()
        with pytest.raises(NotOwnedError):
            rs.stop()
        # the prefix namespace is always safe to clear
        c = rdb.client()
        c.set(rdb.key("x"), "1")
        assert rdb.clear_prefix() == 1
    finally:
        rs.close()


def test_url_reset_allowed_with_flag_on_a_server_racecheck_started():
    """With allow_reset, FLUSHDB works through an explicit URL (aimed at a throwaway server racecheck started)."""
    own = provide_redis(providers=["local"])
    try:
        rs = provide_redis(url=own.url, allow_reset=True)
        rdb = rs.database()
        c = rdb.client()
        c.set("k", "v")
        rdb.reset()
        assert c.get("k") is None
        rs.close()
    finally:
        own.close()


def test_docker_unavailable_is_explained(monkeypatch):
    """With no Docker engine answering, the docker provider says so and the chain raises a helpful error."""
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent/racecheck-docker.sock")
    ok, why = prov.probe("postgres", "docker")
    assert not ok and "no Docker engine answers" in why
    with pytest.raises(NoBackendError) as ei:
        provide_redis(providers=["docker"])
    assert "docker" in str(ei.value) and "Docker engine" in str(ei.value)


def test_docker_engine_probe_accepts_a_ping(tmp_path, monkeypatch):
    """The engine probe is an HTTP /_ping on DOCKER_HOST: a socket that answers 200 counts as an engine."""
    path = tmp_path / "d.sock"
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(str(path))
    srv.listen(1)

    def answer():
        conn, _ = srv.accept()
        conn.recv(1024)
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nOK")
        conn.close()

    t = threading.Thread(target=answer, daemon=True)
    t.start()
    monkeypatch.setenv("DOCKER_HOST", f"unix://{path}")
    from racecheck.backends.docker import docker_engine

    ok, why = docker_engine()
    t.join(5)
    srv.close()
    assert ok, why


def test_fakeredis_is_labelled_emulated_and_refusable():
    """fakeredis is chosen only when asked or nothing real exists, always labelled emulated, and refused by require_real."""
    srv = provide_redis(providers=["fakeredis"])
    try:
        assert srv.emulated and srv.provider == "fakeredis"
        rdb = srv.database()
        assert rdb.emulated
        assert "emulated" in repr(srv) and "emulated" in srv.version
        c = rdb.client()
        c.set("a", "1")
        assert c.get("a") == "1"
        assert prov.LAST_REPORTS["redis"][-1].emulated
        assert "[EMULATED]" in describe_providers()
    finally:
        srv.close()
    with pytest.raises(NoBackendError, match="real Redis required"):
        provide_redis(providers=["fakeredis"], require_real=True)


def test_no_provider_message_is_one_sentence_with_how_to(monkeypatch):
    """When nothing can provide Redis the error is one sentence naming each provider tried and how to get it."""
    from racecheck.backends import embedded, fake, local

    monkeypatch.delenv("RACECHECK_REDIS_URL", raising=False)
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent/racecheck-docker.sock")
    monkeypatch.setattr(local, "find_redis_binary", lambda: (None, "neither redis-server nor valkey-server on PATH"))
    monkeypatch.setattr(embedded, "_package_dir", lambda name: None)
    monkeypatch.setattr(fake, "fakeredis_available", lambda: (False, "package fakeredis not installed"))
    with pytest.raises(NoBackendError) as ei:
        provide_redis(providers=None) if not os.environ.get("RACECHECK_PROVIDERS") else \
            provide_redis(providers=list(prov.ALL_PROVIDERS))
    msg = str(ei.value)
    assert "\n" not in msg and msg.endswith(".") and msg.count(". ") == 0
    for needle in ("url (", "local (", "embedded (", "docker (", "fakeredis (",
                   "apt-get install redis-server", "pip install racecheck[embedded]", "RACECHECK_REDIS_URL"):
        assert needle in msg, (needle, msg)
    assert [r.name for r in ei.value.reports] == list(prov.ALL_PROVIDERS)


def test_providers_env_restricts_chain(monkeypatch):
    """RACECHECK_PROVIDERS restricts the chain, and an unknown name is an error."""
    monkeypatch.setenv("RACECHECK_PROVIDERS", "embedded,fakeredis")
    assert prov.chain("postgres") == ["embedded"]
    assert prov.chain("redis") == ["embedded", "fakeredis"]
    with pytest.raises(ValueError, match="unknown racecheck provider"):
        prov.chain("redis", ["local", "nope"])
