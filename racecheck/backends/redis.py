"""RedisServer (owned, foreign or emulated) and RedisDB (one db index, flushed per trial)."""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import socket
import subprocess
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from ..redact import redact_url, register_secret, register_url
from . import reset_scope
from .cleanup import kill_group, session
from .context import ClosedOnExit
from .errors import BackendError, NotOwnedError, ResetRefused
from .runas import chown_for_server, server_env

N_DATABASES = 256


def url_with_db(url: str, db: int) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{db}", parts.query, parts.fragment))


def url_db(url: str) -> int:
    path = urlsplit(url).path.strip("/")
    return int(path) if path.isdigit() else 0


def make_client(url: str, *, retries: bool = False, decode_responses: bool = True,
                client_name: str | None = None, **kwargs: Any) -> Any:
    """A redis.Redis for ``url``; with ``retries=False`` every retry path of redis-py is off.

    redis-py retries connection errors 10 times with backoff by default, which
    hides injected faults and can send a write twice.
    """
    import redis

    opts: dict[str, Any] = {"decode_responses": decode_responses}
    if client_name:
        opts["client_name"] = client_name
    from redis.retry import Retry

    if not retries:
        from redis.backoff import NoBackoff

        opts.update(retry=Retry(NoBackoff(), 0), retry_on_error=[], retry_on_timeout=False)
    else:
        # what redis.Redis(host=...) does by default (from_url alone would not retry at all)
        from redis.backoff import ExponentialWithJitterBackoff

        opts["retry"] = Retry(ExponentialWithJitterBackoff(base=0.01, cap=1), 10)
    opts.update(kwargs)
    return redis.Redis.from_url(url, **opts)


class RedisServer(ClosedOnExit):
    """A Redis (or Valkey, or fakeredis) server and its db-index allocator."""

    provider: str
    owned: bool
    emulated: bool
    url: str

    def __init__(self, *, provider: str, owned: bool, url: str, emulated: bool = False,
                 allow_reset: bool = False, detail: str = "") -> None:
        self.provider = provider
        self.owned = owned
        self.emulated = emulated
        self.url = url
        self.allow_reset = allow_reset or owned
        self.detail = detail
        register_url(url)
        self.token = secrets.token_hex(4)
        self._lock = threading.RLock()
        self._free = list(range(N_DATABASES - 1, -1, -1)) if owned else []
        self._n = 0
        self._admin: Any = None
        self.databases: list[RedisDB] = []
        self.closed = False
        self.version = "?"

    def __repr__(self) -> str:
        tag = " (emulated)" if self.emulated else ""
        return f"<RedisServer {self.provider}{tag} {self.version} owned={self.owned} {redact_url(self.url)}>"

    @property
    def label(self) -> str:
        return f"{self.provider} (emulated)" if self.emulated else self.provider

    def admin(self) -> Any:
        if self._admin is None:
            self._admin = make_client(self.url, client_name=f"racecheck-admin-{self.token}")
        return self._admin

    def _read_version(self) -> None:
        with contextlib.suppress(Exception):
            info = self.admin().info("server")
            name = "Valkey" if "valkey_version" in info else "Redis"
            self.version = f"{name} {info.get('valkey_version') or info.get('redis_version', '?')}"

    def database(self) -> RedisDB:
        """An isolated db for one test: its own db index (owned servers) or a key prefix (foreign)."""
        with self._lock:
            self._n += 1
            if self.owned:
                if not self._free:
                    raise BackendError(f"all {N_DATABASES} Redis db indexes are in use; close some RedisDBs")
                db = self._free.pop()
            else:
                db = url_db(self.url)
                worker = os.environ.get("PYTEST_XDIST_WORKER", "")
                if self.allow_reset and worker.startswith("gw") and worker[2:].isdigit():
                    db += int(worker[2:])  # FLUSHDB of one xdist worker must not hit another's keys
            rdb = RedisDB(self, db, prefix=f"racecheck:{self.token}:{self._n}:")
            self.databases.append(rdb)
            return rdb

    def _release(self, rdb: RedisDB) -> None:
        with self._lock:
            if rdb in self.databases:
                self.databases.remove(rdb)
                if self.owned and rdb.db not in self._free:
                    self._free.append(rdb.db)

    def kill_connections(self, db: int | None = None, name_prefix: str | None = None) -> int:
        """CLIENT KILL clients (of db ``db`` if given); on foreign servers only racecheck-named ones."""
        admin = self.admin()
        if not self.owned and name_prefix is None:
            name_prefix = f"racecheck-{self.token}"
        n = 0
        my_id = admin.client_id()
        for c in admin.client_list():
            if str(c.get("id")) == str(my_id) or str(c.get("name", "")).startswith("racecheck-admin"):
                continue
            if db is not None and int(c.get("db", -1)) != db:
                continue
            if name_prefix is not None and not str(c.get("name", "")).startswith(name_prefix):
                continue
            with contextlib.suppress(Exception):
                n += int(admin.execute_command("CLIENT", "KILL", "ID", c["id"]))
        return n

    def stop(self) -> None:
        raise NotOwnedError(
            f"cannot stop the {self.provider} Redis server at {redact_url(self.url)}: racecheck did not start it; "
            "backend_down faults need an owned server (local, embedded or docker provider)")

    def start(self) -> None:
        raise NotOwnedError(f"cannot start the {self.provider} Redis server at {redact_url(self.url)}: not owned")

    def _close_admin(self) -> None:
        if self._admin is not None:
            with contextlib.suppress(Exception):
                self._admin.close()
            self._admin = None

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        for rdb in list(self.databases):
            rdb._close_clients()
        self._close_admin()


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _ping(port: int, password: str | None = None) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as s:
            if password:
                s.sendall(f"AUTH {password}\r\n".encode())
                if not s.recv(16).startswith(b"+OK"):
                    return False
            s.sendall(b"PING\r\n")
            return s.recv(16).startswith(b"+PONG")
    except OSError:
        return False


class OwnedRedis(RedisServer):
    """redis-server / valkey-server started by racecheck: no persistence, dies with us.

    Not open to other local users: it runs as the unprivileged server user (never root) and
    needs a generated password (``requirepass``, read from a 0600 config file, not argv,
    so ``ps`` does not show it); the URLs racecheck hands out carry it.
    """

    def __init__(self, provider: str, binary: Path, detail: str = "") -> None:
        from .runas import preexec

        self._preexec = preexec
        self.binary = binary
        self.sess = session()
        self.base = self.sess.subdir("redis")
        self.sess.add_dir(self.base)
        chown_for_server(self.base)
        self.password = secrets.token_urlsafe(18)
        register_secret(self.password)
        self.conffile = self.base / "redis.conf"
        fd = os.open(self.conffile, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(f"requirepass {self.password}\n")
        chown_for_server(self.conffile)
        self.logfile = self.base / "redis.log"
        self.proc: subprocess.Popen[bytes] | None = None
        self.port = 0
        self._start_process(same_port=False)
        super().__init__(provider=provider, owned=True,
                         url=f"redis://:{self.password}@127.0.0.1:{self.port}/0", detail=detail)
        self._read_version()

    def _args(self) -> list[str]:
        return [str(self.binary), str(self.conffile), "--port", str(self.port), "--bind", "127.0.0.1",
                "--save", "", "--appendonly", "no", "--databases", str(N_DATABASES),
                "--daemonize", "no", "--protected-mode", "no", "--dir", str(self.base),
                "--logfile", str(self.logfile), "--loglevel", "warning",
                "--maxclients", "4000"]

    def _start_process(self, same_port: bool, timeout: float = 15.0) -> None:
        last = ""
        for _ in range(1 if same_port else 6):
            if not same_port or not self.port:
                self.port = _free_port()
            pos = self.logfile.stat().st_size if self.logfile.exists() else 0
            self.proc = subprocess.Popen(
                self._args(), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL, env=server_env(), cwd=str(self.base),
                preexec_fn=self._preexec(), start_new_session=True)
            self.sess.add_proc(self.proc.pid, pgid=self.proc.pid)
            deadline = time.monotonic() + timeout
            delay = 0.001
            while time.monotonic() < deadline and self.proc.poll() is None:
                if _ping(self.port, self.password):
                    return
                time.sleep(delay)
                delay = min(delay * 1.5, 0.02)
            self._kill()
            try:
                with open(self.logfile, "rb") as f:
                    f.seek(pos)
                    last = f.read().decode(errors="replace")
            except OSError:
                last = ""
            if "in use" not in last and "bind" not in last.lower():
                break
        raise BackendError(f"{self.binary.name} did not start: {last.strip()[-600:] or 'no log'}")

    def _kill(self) -> None:
        kill_group(self.proc, self.sess)

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self, mode: str = "kill") -> None:  # type: ignore[override]
        """Stop the server (SIGKILL by default, SIGTERM with mode="term"); without persistence keys are lost."""
        self._close_admin()
        for rdb in list(self.databases):
            rdb._close_clients()
        if self.proc is None or self.proc.poll() is not None:
            return
        if mode == "term":
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                pass
        self._kill()

    def start(self) -> None:
        """Start again on the same port (same URLs), empty."""
        if self.running:
            return
        self._start_process(same_port=True)

    def close(self) -> None:
        if self.closed:
            return
        super().close()
        self._kill()
        shutil.rmtree(self.base, ignore_errors=True)
        self.sess.remove_dir(self.base)


class RedisDB(ClosedOnExit):
    """One isolated Redis db for a test: ``url``, ``client()``, ``reset()``."""

    def __init__(self, server: RedisServer, db: int, prefix: str) -> None:
        self.server = server
        self.db = db
        self.prefix = prefix
        self.emulated = server.emulated
        self.url = url_with_db(server.url, db)
        self._admin: Any = None
        self._clients: list[Any] = []

    def __repr__(self) -> str:
        return f"<RedisDB {redact_url(self.url)} on {self.server.label}>"

    @property
    def client_name(self) -> str:
        return f"racecheck-{self.server.token}-{self.db}"

    def client(self, *, retries: bool = False, decode_responses: bool = True, **kwargs: Any) -> Any:
        """A redis.Redis on this db; retries are off unless ``retries=True``."""
        c = make_client(self.url, retries=retries, decode_responses=decode_responses,
                        client_name=self.client_name, **kwargs)
        self._clients.append(c)
        return c

    def key(self, name: str) -> str:
        """``name`` inside this db's key namespace (needed for isolation on foreign servers)."""
        return self.prefix + name

    def _admin_client(self) -> Any:
        if self._admin is None:
            self._admin = make_client(self.url, client_name=f"racecheck-admin-{self.server.token}")
        return self._admin

    def reset(self) -> None:
        """FLUSHDB of this db index only; refused on a server racecheck does not own unless allow_reset."""
        if not self.server.owned and self.server.allow_reset and not reset_scope.allowed("redis", self.db):
            raise ResetRefused(
                f"refusing to FLUSHDB db {self.db} of {redact_url(self.server.url)}: "
                f"{reset_scope.ENV} lists the databases racecheck may reset and redis:{self.db} "
                "is not one of them; add it or point the URL at a listed db")
        if not self.server.allow_reset:
            raise ResetRefused(
                f"refusing to FLUSHDB db {self.db} of {redact_url(self.server.url)}: racecheck did not start that "
                "server; pass allow_reset=True (--racecheck-allow-reset, racecheck run --allow-reset, "
                f"{reset_scope.ENV}=1) if flushing it is fine, "
                "or use clear_prefix() to delete only this RedisDB's prefixed keys")
        try:
            self._admin_client().flushdb()
        except Exception:
            self._close_admin()  # the server may have been restarted: one fresh try
            self._admin_client().flushdb()

    def clear_prefix(self) -> int:
        """Delete only keys under this db's prefix (safe on any server)."""
        c = self._admin_client()
        keys = list(c.scan_iter(match=self.prefix + "*", count=1000))
        return int(c.delete(*keys)) if keys else 0

    def kill_connections(self) -> int:
        """CLIENT KILL every client on this db (owned servers) or every racecheck client of it."""
        if self.server.owned and not self.server.emulated:
            return self.server.kill_connections(db=self.db)
        return self.server.kill_connections(name_prefix=self.client_name)

    def _close_admin(self) -> None:
        if self._admin is not None:
            with contextlib.suppress(Exception):
                self._admin.close()
            self._admin = None

    def _close_clients(self) -> None:
        self._close_admin()
        for c in self._clients:
            with contextlib.suppress(Exception):
                c.close()
        self._clients = []

    def close(self) -> None:
        """Flush (when allowed) and give the db index back to the server."""
        if not self.server.closed and self.server.owned:
            with contextlib.suppress(Exception):
                self.reset()
        self._close_clients()
        self.server._release(self)
