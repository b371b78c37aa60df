"""testcontainers provider (the ``racecheck[docker]`` extra), used only when a Docker engine answers.

The engine check is a raw ``GET /_ping`` on the socket named by ``DOCKER_HOST``
(default ``/var/run/docker.sock``), with a 1 s timeout, so a machine with only
the docker client (no engine) is explained in a few milliseconds.
Containers are removed at close; testcontainers' Ryuk reaper removes them if
the process is killed.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import socket
from typing import Any
from urllib.parse import urlsplit

from .postgres import PostgresServer
from .redis import RedisServer

PG_IMAGE = os.environ.get("RACECHECK_DOCKER_POSTGRES_IMAGE", "postgres:16-alpine")
REDIS_IMAGE = os.environ.get("RACECHECK_DOCKER_REDIS_IMAGE", "redis:7-alpine")


def docker_engine() -> tuple[bool, str]:
    """(engine answers, reason)."""
    host = os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock")
    parts = urlsplit(host)
    try:
        if parts.scheme == "unix":
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.settimeout(1.0)
            s.connect(parts.path)
        elif parts.scheme in ("tcp", "http"):
            s = socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 2375), timeout=1.0)
        else:
            return False, f"DOCKER_HOST={host} uses a scheme racecheck cannot probe"
        with s:
            s.sendall(b"GET /_ping HTTP/1.0\r\nHost: docker\r\n\r\n")
            reply = s.recv(256)
    except OSError as e:
        return False, f"no Docker engine answers at {host} ({e.strerror or e})"
    if b" 200 " not in reply.split(b"\r\n", 1)[0]:
        return False, f"Docker engine at {host} answered {reply[:40]!r}"
    return True, f"Docker engine answers at {host}"


def docker_available() -> tuple[bool, str]:
    if importlib.util.find_spec("testcontainers") is None:
        ok, why = docker_engine()
        extra = "" if ok else f"; {why}"
        return False, f"package testcontainers not installed (pip install racecheck[docker]){extra}"
    return docker_engine()


class DockerPostgres(PostgresServer):
    def __init__(self) -> None:
        from testcontainers.postgres import PostgresContainer

        self.container: Any = PostgresContainer(PG_IMAGE, username="postgres", password="racecheck",
                                                dbname="postgres")
        self.container.with_command("postgres -c fsync=off -c synchronous_commit=off "
                                    "-c full_page_writes=off -c max_connections=300")
        self.container.start()
        url = self.container.get_connection_url(driver=None)
        super().__init__(provider="docker", owned=True, version=f"PostgreSQL ({PG_IMAGE})",
                         base_url=url, allow_reset=True, detail=f"testcontainers {PG_IMAGE}")
        with contextlib.suppress(Exception):
            self.version = "PostgreSQL " + str(self.admin("SHOW server_version")[0][0]).split()[0]
            self.major = self._major(self.version)

    def stop(self) -> None:
        self.container.get_wrapped_container().stop()

    def start(self) -> None:
        self.container.get_wrapped_container().start()

    def close(self) -> None:
        if self.closed:
            return
        super().close()
        with contextlib.suppress(Exception):
            self.container.stop()


class DockerRedis(RedisServer):
    def __init__(self) -> None:
        from testcontainers.redis import RedisContainer

        self.container: Any = RedisContainer(REDIS_IMAGE)
        self.container.with_command("redis-server --save '' --appendonly no --databases 256")
        self.container.start()
        host = self.container.get_container_host_ip()
        port = self.container.get_exposed_port(6379)
        super().__init__(provider="docker", owned=True, url=f"redis://{host}:{port}/0",
                         detail=f"testcontainers {REDIS_IMAGE}")
        self._read_version()

    def stop(self) -> None:
        self._close_admin()
        self.container.get_wrapped_container().stop()

    def start(self) -> None:
        self.container.get_wrapped_container().start()

    def close(self) -> None:
        if self.closed:
            return
        super().close()
        with contextlib.suppress(Exception):
            self.container.stop()
