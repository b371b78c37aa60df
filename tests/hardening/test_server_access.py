"""Servers racecheck starts are not open to every local user: generated passwords, 0700 sockets, never root."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

from racecheck.backends import provide_postgres, provide_redis


def _without_password(url: str) -> str:
    p = urlsplit(url)
    netloc = (p.username or "") + "@" + p.netloc.rsplit("@", 1)[-1] if p.username else p.netloc.rsplit("@", 1)[-1]
    return urlunsplit((p.scheme, netloc, p.path, p.query, p.fragment))


def _proc_uid(pid: int) -> int:
    return Path(f"/proc/{pid}").stat().st_uid


@pytest.fixture(scope="module")
def pg():
    srv = provide_postgres(providers=["local", "embedded"])
    yield srv
    srv.close()


@pytest.fixture(scope="module")
def rs():
    srv = provide_redis(providers=["local", "embedded"])
    yield srv
    srv.close()


def test_owned_postgres_needs_the_generated_password_over_tcp(pg):
    import psycopg

    db = pg.database()
    assert urlsplit(db.url).password, "the URL handed to tests carries the credentials"
    with psycopg.connect(db.url, connect_timeout=5) as conn:
        assert conn.execute("select 1").fetchone() == (1,)
    with pytest.raises(psycopg.OperationalError, match="password"):
        psycopg.connect(_without_password(db.url), connect_timeout=5)
    wrong = db.url.replace(urlsplit(db.url).password, "not-the-password")
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        psycopg.connect(wrong, connect_timeout=5)
    db.close()


def test_owned_postgres_socket_dir_is_private(pg):
    mode = stat.S_IMODE(os.stat(pg.socket_dir).st_mode)
    assert mode == 0o700
    if os.geteuid() == 0:
        assert _proc_uid(pg.process.proc.pid) != 0


def test_owned_redis_needs_the_generated_password_and_never_runs_as_root(rs):
    import redis

    url = rs.database().url
    assert urlsplit(url).password
    with pytest.raises(redis.exceptions.RedisError):
        redis.Redis.from_url(_without_password(url), socket_timeout=5).set("k", "v")
    assert redis.Redis.from_url(url, socket_timeout=5).ping()
    if os.geteuid() == 0:
        assert _proc_uid(rs.proc.pid) != 0
    argv = Path(f"/proc/{rs.proc.pid}/cmdline").read_bytes().decode(errors="replace")
    assert urlsplit(url).password not in argv  # ps shows nothing secret
