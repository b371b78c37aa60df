"""PostgresDB: one database racecheck handed to a test, reset by cloning its template."""

from __future__ import annotations

import contextlib
import threading
from typing import TYPE_CHECKING, Any

from ..redact import redact_url
from . import pg_reset, reset_scope
from .context import ClosedOnExit
from .errors import ResetRefused
from .pg_urls import with_application_name

if TYPE_CHECKING:
    from .postgres import PostgresServer


class PostgresDB(ClosedOnExit):
    """One database racecheck handed to a test: ``url``, ``connect()``, ``execute()``, ``reset()``."""

    def __init__(self, server: PostgresServer, dbname: str, template: str | None, *, created: bool) -> None:
        self.server = server
        self.dbname = dbname
        self.template = template
        self.created = created
        self.url = server.url_for(dbname)
        if not created:  # someone else's database: tag our connections so kills spare theirs
            self.url = with_application_name(self.url, server.application_name)
        self._conn: Any = None
        self._lock = threading.RLock()
        self._snapshots: list[str] = []

    def __repr__(self) -> str:
        return f"<PostgresDB {self.dbname} on {self.server.provider}>"

    def connect(self, autocommit: bool = True, **kwargs: Any) -> Any:
        """A new psycopg connection to this database (the caller closes it)."""
        import psycopg

        return psycopg.connect(self.url, autocommit=autocommit, **kwargs)

    def execute(self, sql: str, params: Any = None) -> list[tuple[Any, ...]]:
        """Run ``sql`` on a cached autocommit connection; returns the rows, if any."""
        with self._lock:
            if self._conn is None or self._conn.closed or self._conn.broken:
                self._conn = self.connect(autocommit=True)
            cur = self._conn.execute(sql, params)
            return list(cur.fetchall()) if cur.description else []

    def _close_conn(self) -> None:
        with self._lock:
            if self._conn is not None:
                with contextlib.suppress(Exception):
                    self._conn.close()
                self._conn = None

    def kill_connections(self) -> int:
        self._close_conn()
        return self.server.kill_connections(self.dbname)

    def _check_reset_allowed(self) -> None:
        if self.created or (self.server.allow_reset and reset_scope.allowed("postgres", self.dbname)):
            return
        raise ResetRefused(
            f"refusing to reset database {self.dbname!r} at {redact_url(self.server.url)}: racecheck did not create it "
            "and a reset drops it; use server.database() for a racecheck-made database, or pass "
            "allow_reset=True (--racecheck-allow-reset, racecheck run --allow-reset, "
            "RACECHECK_ALLOW_RESET=1 or a list naming it) to allow it")

    def reset(self) -> None:
        """Replace this database with a fresh clone of its template (same name, same URL)."""
        self._check_reset_allowed()
        tpl = self.template or self.server.template()
        self._close_conn()
        fast = pg_reset.state_of(self)
        if self.created and self.template is not None and fast.try_reset():
            return  # emptied back to the template's contents (see pg_reset); no re-clone
        if self.created:
            self.server.retire(self.dbname)
        else:
            self.server._drop_db(self.dbname)
        self.server.clone(tpl, self.dbname)
        self.template = tpl
        self.created = True
        fast.learn()

    def snapshot(self) -> str:
        """Make the current contents the template for later resets (e.g. after a test loaded its schema)."""
        self._check_reset_allowed()
        self._close_conn()
        self.server.kill_connections(self.dbname)
        name = self.server._new_name("_snap")
        self.server._create_db(name, self.dbname)
        for old in self._snapshots:
            self.server._drop_spares(old)
            with contextlib.suppress(Exception):
                self.server._drop_db(old)
        self._snapshots = [name]
        self.template = name
        pg_reset.forget(self)  # the next reset re-clones from the snapshot and learns it
        return name

    def close(self) -> None:
        """Drop this database (and its snapshots) if racecheck created it."""
        self._close_conn()
        pg_reset.forget(self)
        if self.server.closed:
            return
        for snap in self._snapshots:
            self.server._drop_spares(snap)
        for name in ([self.dbname] if self.created else []) + self._snapshots:
            with contextlib.suppress(Exception):
                self.server._drop_db(name)
        self._snapshots = []
        with self.server._lock:
            if self in self.server.databases:
                self.server.databases.remove(self)
