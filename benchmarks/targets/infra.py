"""Where the benchmarks get Postgres and Redis: racecheck.backends if it has landed, else our own.

Fallbacks never touch the shared servers' data: Postgres gets a uniquely named
``racecheck_bench_*`` database on the shared 127.0.0.1:5432 (dropped after), Redis
gets a private ``redis-server`` on a free port (killed after).
"""

from __future__ import annotations

import atexit
import contextlib
import os
import secrets
import shutil
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

SHARED_PG = os.environ.get("RACECHECK_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/postgres")


@dataclass
class Backend:
    """One provisioned backend: where it is, who provided it, and what provisioning cost."""

    kind: str
    url: str
    provider: str
    start_s: float
    reset: Callable[[], None]
    extra: dict[str, Any] = field(default_factory=dict)


_servers: dict[str, Any] = {}
SERVER_STARTS: dict[str, dict[str, Any]] = {}


def _server(kind: str, provide: Callable[..., Any], **kw: Any) -> Any:
    """One provided server per kind for the whole process (starting a cluster costs seconds)."""
    if kind not in _servers:
        t0 = time.perf_counter()
        _servers[kind] = provide(**kw)
        SERVER_STARTS[kind] = {"start_s": time.perf_counter() - t0,
                               "provider": str(getattr(_servers[kind], "provider", "?"))}
    return _servers[kind]


def close_all() -> None:
    """Stop the servers racecheck.backends started for us."""
    while _servers:
        _, server = _servers.popitem()
        with contextlib.suppress(Exception):
            server.close()


atexit.register(close_all)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _with_db(url: str, db: str) -> str:
    base, _, _ = url.rpartition("/")
    return f"{base}/{db}"


@contextlib.contextmanager
def postgres(schema: str, tables: tuple[str, ...]) -> Iterator[Backend]:
    """A Postgres database holding ``schema``; ``reset`` empties ``tables`` (DELETE: cheaper than TRUNCATE on tiny tables)."""
    import psycopg

    provided = _provided("provide_postgres")
    if provided is not None:
        server = _server("postgres", provided)
        t0 = time.perf_counter()
        db = server.database(schema=schema)
        start = time.perf_counter() - t0
        conn = psycopg.connect(db.url, autocommit=True)
        try:
            yield Backend("postgres", db.url, f"racecheck.backends ({getattr(server, 'provider', '?')})",
                          start, _truncate(conn, tables), {"handle": db, "server": server})
        finally:
            conn.close()
            with contextlib.suppress(Exception):
                db.close()
        return
    name = f"racecheck_bench_{os.getpid()}_{secrets.token_hex(3)}"
    t0 = time.perf_counter()
    with psycopg.connect(SHARED_PG, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    url = _with_db(SHARED_PG, name)
    conn = psycopg.connect(url, autocommit=True)
    try:
        conn.execute(schema)
        start = time.perf_counter() - t0
        yield Backend("postgres", url, "own database on the shared 127.0.0.1:5432", start,
                      _truncate(conn, tables), {"dbname": name})
    finally:
        conn.close()
        with psycopg.connect(SHARED_PG, autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,))
            admin.execute(f'DROP DATABASE IF EXISTS "{name}"')


def _truncate(conn: Any, tables: tuple[str, ...]) -> Callable[[], None]:
    stmt = "; ".join(f"DELETE FROM {t}" for t in tables)

    def reset() -> None:
        conn.execute(stmt)

    return reset


@contextlib.contextmanager
def redis() -> Iterator[Backend]:
    """A private Redis; ``reset`` is FLUSHALL on it (never on a shared server)."""
    import redis as redis_py

    provided = _provided("provide_redis")
    if provided is not None:
        server = _server("redis", provided, require_real=True)
        t0 = time.perf_counter()
        rdb = server.database()
        start = time.perf_counter() - t0
        client = redis_py.Redis.from_url(rdb.url)
        try:
            yield Backend("redis", rdb.url, f"racecheck.backends ({getattr(server, 'provider', '?')})", start,
                          rdb.reset, {"handle": rdb, "client": client, "server": server})
        finally:
            client.close()
            with contextlib.suppress(Exception):
                rdb.close()
        return
    binary = shutil.which("redis-server")
    if binary is None:
        raise RuntimeError("redis-server is not on PATH; install it (apt-get install redis-server) to benchmark Redis")
    port = _free_port()
    t0 = time.perf_counter()
    proc = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        url = f"redis://127.0.0.1:{port}/0"
        client = redis_py.Redis.from_url(url)
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                break
            except redis_py.ConnectionError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.002)
        start = time.perf_counter() - t0
        yield Backend("redis", url, f"own redis-server on port {port}", start, client.flushall,
                      {"client": client, "pid": proc.pid})
        client.close()
    finally:
        proc.kill()
        proc.wait(timeout=10)


def _provided(name: str) -> Callable[..., Any] | None:
    try:
        import racecheck.backends as rb
    except ImportError:
        return None
    fn = getattr(rb, name, None)
    return fn if callable(fn) else None


def docker_status() -> str:
    """"ok" if a Docker engine answers, else the one-line reason it does not."""
    if shutil.which("docker") is None:
        return "no docker client on PATH"
    try:
        out = subprocess.run(["docker", "info", "--format", "{{.ServerVersion}}"], capture_output=True,
                             text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"docker info failed: {exc}"
    if out.returncode != 0:
        err = (out.stderr or out.stdout).strip().splitlines()
        return err[-1] if err else f"docker info exited {out.returncode}"
    return "ok"
