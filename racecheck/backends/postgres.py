"""PostgresServer (owned or not): templates, clones, connections, stop/start.

One database on it is a :class:`~racecheck.backends.postgres_db.PostgresDB`; URL helpers are in
:mod:`racecheck.backends.pg_urls`."""

from __future__ import annotations

import contextlib
import hashlib
import os
import secrets
import socket
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import quote

from ..redact import redact_url, register_url
from .cleanup import proc_alive, proc_starttime, session
from .context import ClosedOnExit
from .errors import NotOwnedError
from .pg_urls import quote_ident, replace_dbname, url_dbname
from .postgres_db import PostgresDB

PREFIX = "racecheck_"


class PostgresServer(ClosedOnExit):
    """A running PostgreSQL server: owned (racecheck started it) or not (explicit URL)."""

    provider: str
    owned: bool
    version: str
    emulated = False

    def __init__(self, *, provider: str, owned: bool, version: str, base_url: str,
                 admin_url: str | None = None, allow_reset: bool = False, detail: str = "") -> None:
        self.provider = provider
        self.owned = owned
        self.version = version
        self.base_url = base_url          # what user code connects to (db part replaced)
        self.admin_url = admin_url or base_url  # what racecheck's admin connection uses
        self.allow_reset = allow_reset
        self.detail = detail
        register_url(base_url)
        register_url(self.admin_url)
        self.token = secrets.token_hex(4)
        self.application_name = f"racecheck-{os.getpid()}-{self.token}"  # tags our connections
        self._n = 0
        self._lock = threading.RLock()
        self._admin: Any = None
        self._templates: dict[str, str] = {}   # schema hash -> template db name
        self.created: set[str] = set()          # every db racecheck created here
        self.databases: list[PostgresDB] = []
        self.closed = False
        self.major = self._major(version)
        # pre-cloned spare databases per template, refilled by one background thread,
        # so reset() is DROP + ALTER DATABASE RENAME (~20 ms) even when cloning is slow
        self.spares_wanted = int(os.environ.get("RACECHECK_PG_SPARES", "1"))
        self._spares: dict[str, list[str]] = {}
        self._pending: dict[str, Future[None]] = {}
        self._bg: ThreadPoolExecutor | None = None
        self._bg_admin: Any = None

    @staticmethod
    def _major(version: str) -> int:
        try:
            return int(version.split()[-1].split(".")[0])
        except (ValueError, IndexError):
            return 0

    def __repr__(self) -> str:
        return f"<PostgresServer {self.provider} {self.version} owned={self.owned} {redact_url(self.url)}>"

    @property
    def url(self) -> str:
        return replace_dbname(self.base_url, "postgres") if self.owned else self.base_url

    def url_for(self, dbname: str) -> str:
        return replace_dbname(self.base_url, dbname)

    # -- admin connection -----------------------------------------------------
    def _admin_conn(self) -> Any:
        import psycopg

        if self._admin is None or self._admin.closed or self._admin.broken:
            self._admin = psycopg.connect(self.admin_url, autocommit=True, connect_timeout=10)
        return self._admin

    def admin(self, sql: str, params: Any = None) -> list[tuple[Any, ...]]:
        with self._lock:
            try:
                cur = self._admin_conn().execute(sql, params)
            except Exception:
                # one retry on a fresh connection: a stop/start or a kill may have cut it
                if self._admin is not None and not (self._admin.closed or self._admin.broken):
                    raise
                self._admin = None
                cur = self._admin_conn().execute(sql, params)
            return list(cur.fetchall()) if cur.description else []

    def _new_name(self, suffix: str = "") -> str:
        with self._lock:
            self._n += 1
            return f"{PREFIX}{self.token}_{self._n}{suffix}"

    def _create_db(self, name: str, template: str, run: Callable[[str], Any] | None = None) -> None:
        run = run or self.admin
        with self._lock:
            self.created.add(name)
        if not self.owned:
            session().add_foreign_db(self.admin_url, name)
        run(f"CREATE DATABASE {quote_ident(name)} TEMPLATE {quote_ident(template)}")
        if not self.owned:
            host = socket.gethostname()
            start = proc_starttime(os.getpid())
            run(f"COMMENT ON DATABASE {quote_ident(name)} IS 'racecheck owner={host}:{os.getpid()}:{start}'")

    # -- spare clones ----------------------------------------------------------
    def _bg_run(self, sql: str) -> None:
        import psycopg

        if self._bg_admin is None or self._bg_admin.closed or self._bg_admin.broken:
            self._bg_admin = psycopg.connect(self.admin_url, autocommit=True, connect_timeout=10)
        self._bg_admin.execute(sql)

    def _refill(self, template: str) -> None:
        if self.spares_wanted <= 0 or self.closed:
            return
        with self._lock:
            fut = self._pending.get(template)
            if fut is not None and not fut.done():
                return
            if len(self._spares.get(template, [])) >= self.spares_wanted:
                return
        fut = self._executor().submit(self._make_spare, template)
        with self._lock:
            self._pending[template] = fut

    def _make_spare(self, template: str) -> None:
        while not self.closed:
            with self._lock:
                if len(self._spares.get(template, [])) >= self.spares_wanted:
                    return
            name = self._new_name("_spare")
            try:
                self._create_db(name, template, run=self._bg_run)
            except Exception:
                with self._lock:
                    self.created.discard(name)
                return
            with self._lock:
                self._spares.setdefault(template, []).append(name)

    def clone(self, template: str, name: str | None = None) -> str:
        """A fresh clone of ``template`` named ``name`` (a spare renamed when one is ready)."""
        name = name or self._new_name()
        with self._lock:
            fut = self._pending.get(template)
        if fut is not None and not self._spares.get(template):
            with contextlib.suppress(Exception):
                fut.result(timeout=30)  # the spare is on its way: faster than starting another clone
        with self._lock:
            pool = self._spares.get(template) or []
            spare = pool.pop() if pool else None
        if spare is not None:
            try:
                self.admin(f"ALTER DATABASE {quote_ident(spare)} RENAME TO {quote_ident(name)}")
                with self._lock:
                    self.created.discard(spare)
                    self.created.add(name)
                if not self.owned:
                    session().remove_foreign_db(self.admin_url, spare)
                    session().add_foreign_db(self.admin_url, name)
            except Exception:
                with contextlib.suppress(Exception):
                    self._drop_db(spare)
                spare = None
        if spare is None:
            self._create_db(name, template)
        self._refill(template)
        return name

    def _executor(self) -> ThreadPoolExecutor:
        with self._lock:
            if self._bg is None:
                self._bg = ThreadPoolExecutor(1, thread_name_prefix="racecheck-pg-spares")
            return self._bg

    def _bg_drop(self, name: str) -> None:
        try:
            self._bg_run(f"DROP DATABASE IF EXISTS {quote_ident(name)}"
                         + (" WITH (FORCE)" if self.major >= 13 else ""))
        except Exception:
            return
        with self._lock:
            self.created.discard(name)
        if not self.owned:
            session().remove_foreign_db(self.admin_url, name)

    def retire(self, name: str) -> None:
        """Take database ``name`` out of the way at once (rename) and drop it in the background."""
        import psycopg

        if self.spares_wanted <= 0 or self.closed:
            self._drop_db(name)
            return
        trash = self._new_name("_old")
        with self._lock:
            self.created.add(trash)
        if not self.owned:
            session().add_foreign_db(self.admin_url, trash)
        for _ in range(500):
            self.kill_connections(name)
            try:
                self.admin(f"ALTER DATABASE {quote_ident(name)} RENAME TO {quote_ident(trash)}")
                break
            except psycopg.errors.ObjectInUse:
                time.sleep(0.002)  # terminated backends are still exiting
            except psycopg.errors.InvalidCatalogName:
                return  # already gone
        else:
            self._drop_db(name)
            return
        with self._lock:
            self.created.discard(name)
        if not self.owned:
            session().remove_foreign_db(self.admin_url, name)
        self._executor().submit(self._bg_drop, trash)

    def _drop_spares(self, template: str) -> None:
        with self._lock:
            fut = self._pending.pop(template, None)
        if fut is not None:
            with contextlib.suppress(Exception):
                fut.result(timeout=30)
        with self._lock:
            names = self._spares.pop(template, [])
        for n in names:
            with contextlib.suppress(Exception):
                self._drop_db(n)

    def _drop_db(self, name: str) -> None:
        if self.major >= 13:
            self.admin(f"DROP DATABASE IF EXISTS {quote_ident(name)} WITH (FORCE)")
        else:
            self.kill_connections(name)
            self.admin(f"DROP DATABASE IF EXISTS {quote_ident(name)}")
        with self._lock:
            self.created.discard(name)
        if not self.owned:
            session().remove_foreign_db(self.admin_url, name)

    # -- templates and databases ---------------------------------------------
    def template(self, schema: str | None = None, schema_files: list[str] | tuple[str, ...] = ()) -> str:
        """Name of a template database holding ``schema`` (+ files), created once per server."""
        texts = [schema or ""] + [Path(f).read_text() for f in schema_files]
        key = hashlib.sha1("\0".join(texts).encode()).hexdigest()
        with self._lock:
            if key in self._templates:
                return self._templates[key]
            name = self._new_name("_tpl")
            self._create_db(name, "template0")
            if any(t.strip() for t in texts):
                import psycopg

                with psycopg.connect(self.url_for_admin(name), autocommit=True) as conn:
                    for text in texts:
                        if text.strip():
                            conn.execute(text)
            self._templates[key] = name
            return name

    def url_for_admin(self, dbname: str) -> str:
        return replace_dbname(self.admin_url, dbname)

    def database(self, schema: str | None = None,
                 schema_files: list[str] | tuple[str, ...] = ()) -> PostgresDB:
        """A fresh database cloned from a template holding ``schema`` (loaded once per server)."""
        tpl = self.template(schema, schema_files)
        name = self.clone(tpl)
        db = PostgresDB(self, name, tpl, created=True)
        with self._lock:
            self.databases.append(db)
        return db

    def existing(self, dbname: str | None = None) -> PostgresDB:
        """A handle on a database racecheck did not create (e.g. the URL's own); reset needs allow_reset."""
        name = dbname or url_dbname(self.base_url)
        return PostgresDB(self, name, None, created=False)

    # -- control --------------------------------------------------------------
    def _drop_cached_connections(self) -> None:
        """Close racecheck's own cached connections (admin, execute()) so none is left stale."""
        with self._lock:
            for conn in (self._admin, self._bg_admin):
                if conn is not None:
                    with contextlib.suppress(Exception):
                        conn.close()
            self._admin = None
            self._bg_admin = None
            dbs = list(self.databases)
        for db in dbs:
            db._close_conn()

    def kill_connections(self, dbname: str | None = None) -> int:
        """pg_terminate_backend every client backend of ``dbname`` (default: all dbs racecheck created).

        On a database racecheck did not create only racecheck's own connections go: those
        tagged with its ``application_name`` (the URLs it hands out carry the tag).
        """
        with self._lock:
            names = [dbname] if dbname else sorted(self.created)
        if not names:
            return 0
        ours_only = any(n not in self.created for n in names)
        rows = self.admin(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = ANY(%s) AND pid <> pg_backend_pid() "
            "AND backend_type = 'client backend'"
            + (" AND application_name = %s" if ours_only else ""),
            (names, self.application_name) if ours_only else (names,))
        return sum(1 for r in rows if r[0])

    def stop(self) -> None:
        raise NotOwnedError(
            f"cannot stop the {self.provider} Postgres server at {redact_url(self.url)}: racecheck did not start it; "
            "faults that stop a server need an owned one (local, embedded or docker provider)")

    def start(self) -> None:
        raise NotOwnedError(
            f"cannot start the {self.provider} Postgres server at {redact_url(self.url)}: racecheck did not start it")

    def close(self) -> None:
        """Drop the databases racecheck created here (and, for owned servers, stop and clean up)."""
        if self.closed:
            return
        self.closed = True
        if self._bg is not None:
            self._bg.shutdown(wait=True, cancel_futures=True)
            self._bg = None
        if self._bg_admin is not None:
            with contextlib.suppress(Exception):
                self._bg_admin.close()
            self._bg_admin = None
        for db in list(self.databases):
            db._close_conn()
        if not self.owned:
            for name in sorted(self.created):
                with contextlib.suppress(Exception):
                    self._drop_db(name)
        if self._admin is not None:
            with contextlib.suppress(Exception):
                self._admin.close()
            self._admin = None

    def reclaim_foreign(self) -> int:
        """Drop racecheck databases on this (shared) server whose creator on this host is dead."""
        host = socket.gethostname()
        rows = self.admin(
            "SELECT datname, shobj_description(oid, 'pg_database') FROM pg_database "
            "WHERE datname LIKE 'racecheck\\_%%'")
        n = 0
        for name, comment in rows:
            if not comment or not comment.startswith("racecheck owner="):
                continue
            try:
                h, pid_s, start_s = comment.split("=", 1)[1].split(":")
                pid = int(pid_s)
                start = int(start_s) if start_s not in ("None", "") else None
            except ValueError:
                continue
            if h == host and not proc_alive(pid, start):
                with contextlib.suppress(Exception):
                    self.admin(f"DROP DATABASE IF EXISTS {quote_ident(name)} WITH (FORCE)")
                    n += 1
        return n


class OwnedPostgres(PostgresServer):
    """A server racecheck started from a bin dir (local or embedded provider)."""

    def __init__(self, provider: str, bindir: Path, detail: str = "") -> None:
        from .pgcluster import PgProcess

        self.process = PgProcess(bindir)
        p = self.process
        password = secrets.token_urlsafe(18)  # TCP needs it (scram); the 0700 socket does not
        base = f"postgresql://postgres:{password}@127.0.0.1:{p.port}/postgres"
        admin = f"postgresql://postgres@/postgres?host={quote(str(p.sockdir))}&port={p.port}"
        super().__init__(provider=provider, owned=True, version=p.version, base_url=base,
                         admin_url=admin, allow_reset=True, detail=detail)
        self.bindir = bindir
        self._set_password(password)

    def _set_password(self, password: str) -> None:
        from psycopg import sql

        with self._lock:
            self._admin_conn().execute(
                sql.SQL("ALTER ROLE postgres PASSWORD {}").format(sql.Literal(password)))
            self._admin_conn().execute("CHECKPOINT")  # survives a crash-stop fault

    @property
    def socket_dir(self) -> str:
        return str(self.process.sockdir)

    def stop(self, mode: str = "fast") -> None:  # type: ignore[override]
        """Stop the server (fast shutdown by default; "immediate" or "kill" simulate a crash)."""
        self._drop_cached_connections()
        self.process.stop(mode)

    def start(self) -> None:
        """Start it again on the same port (same URLs); data survives a fast stop."""
        self.process.start(same_port=True)

    @property
    def running(self) -> bool:
        return self.process.running

    def close(self) -> None:
        if self.closed:
            return
        super().close()
        self.process.destroy()
