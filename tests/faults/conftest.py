"""Put ``tests/`` on sys.path so targets import as ``faults.targets.*`` here and in spawned workers.

TEMPORARY: until racecheck/backends ships the ``race_postgres``/``race_redis`` fixtures,
minimal stand-ins with the same interface are defined below (a database created on the
machine's Postgres, a redis-server started here). Remove them once the real ones land.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from typing import Any

import pytest

_TESTS = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if _TESTS not in sys.path:
    sys.path.insert(0, _TESTS)

_PG = os.environ.get("RACECHECK_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")


class _PgServer:
    def __init__(self, admin_url: str, dbname: str) -> None:
        self.admin_url, self.dbname = admin_url, dbname

    def kill_connections(self, dbname: str | None = None) -> int:
        import psycopg

        with psycopg.connect(self.admin_url, autocommit=True) as c:
            rows = c.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s "
                             "AND pid <> pg_backend_pid()", (dbname or self.dbname,)).fetchall()
        return sum(1 for r in rows if r[0])


class _PostgresDB:
    def __init__(self, admin_url: str, dbname: str) -> None:
        self.dbname = dbname
        self.url = admin_url.rsplit("/", 1)[0] + "/" + dbname
        self.server = _PgServer(admin_url, dbname)
        self._conn: Any = None

    def connect(self, autocommit: bool = True, **kw: Any) -> Any:
        import psycopg

        return psycopg.connect(self.url, autocommit=autocommit, **kw)

    def execute(self, sql: str, params: Any = None) -> list[tuple[Any, ...]]:
        if self._conn is None or self._conn.closed:
            self._conn = self.connect()
        cur = self._conn.execute(sql, params)
        return list(cur.fetchall()) if cur.description else []

    def kill_connections(self) -> int:
        if self._conn is not None:
            self._conn.close()
            self._conn = None
        return self.server.kill_connections()

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()


@pytest.fixture
def race_postgres() -> Iterator[_PostgresDB]:
    import psycopg

    name = "racecheck_faults_" + secrets.token_hex(4)
    with psycopg.connect(_PG, autocommit=True) as c:
        c.execute(f'CREATE DATABASE "{name}"')
    db = _PostgresDB(_PG, name)
    try:
        yield db
    finally:
        db.close()
        with psycopg.connect(_PG, autocommit=True) as c:
            c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class _RedisServer:
    def __init__(self) -> None:
        self.port = _free_port()
        self.dir = tempfile.mkdtemp(prefix="racecheck-faults-redis-")
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", self.dir], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port), 0.2):
                return
            time.sleep(0.01)
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
            self.proc = None

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


class _RedisDB:
    emulated = False

    def __init__(self, server: _RedisServer) -> None:
        self.server = server
        self.url = f"redis://127.0.0.1:{server.port}/0"

    def client(self, **kw: Any) -> Any:
        import redis
        from redis.backoff import NoBackoff
        from redis.retry import Retry

        return redis.Redis.from_url(self.url, retry=Retry(NoBackoff(), 0), **kw)

    def reset(self) -> None:
        with self.client() as c:
            c.flushall()

    def kill_connections(self) -> int:
        with self.client() as c:
            return int(c.execute_command("CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes"))


@pytest.fixture
def race_redis() -> Iterator[_RedisDB]:
    server = _RedisServer()
    server.start()
    try:
        yield _RedisDB(server)
    finally:
        server.close()
