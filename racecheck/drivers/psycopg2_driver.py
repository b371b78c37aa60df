"""psycopg2 instrumentation: statements and commits are points named ``sql:<text>``, as for psycopg 3.

psycopg2's connection and cursor are C types whose methods cannot be patched, so
``psycopg2.connect`` is: it builds every connection from a subclass of the class asked
for (``connection_factory``, default ``psycopg2.extensions.connection``) whose cursors
are in turn subclasses of the cursor class asked for (``cursor_factory``, e.g.
``RealDictCursor``). Everything built on ``psycopg2.connect`` is covered that way:
``psycopg2.pool``, ``psycopg2.extras`` helpers (``execute_values``/``execute_batch`` call
``cursor.execute``), SQLAlchemy and Django.

Covered: ``cursor.execute``/``executemany``/``callproc``, ``copy_expert``/``copy_from``/
``copy_to`` (points ``sql:<the COPY statement>``, ``sql:COPY <table> FROM STDIN`` /
``TO STDOUT``), named (server-side) cursors, ``conn.commit()``/``rollback()``,
autocommit, ``with conn:`` blocks, explicit ``COMMIT``/``ROLLBACK`` and savepoint
statements.

``connect`` is patched when psycopg2 is imported after racecheck (a hook on the import
system, see ``racecheck.drivers``), or when racecheck is imported if psycopg2 already is:
connections opened before the first run are covered, as are those opened between runs.
Outside a run a recording connection is a pass-through (one check per call).
:func:`uninstall` puts the original ``connect`` back; connections it built keep recording.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

from .sqltx import UNKNOWN, SqlDriver, cursor_rows, in_run, params_payload, query_text

_installed = False
_classes: dict[type, type] = {}


def _status(conn: Any) -> int:
    try:
        return int(conn.get_transaction_status())
    except Exception:  # noqa: BLE001 - a closed connection
        return UNKNOWN


def _sever(conn: Any) -> None:
    """Close the connection: the server rolls back its open transaction."""
    conn.close()


SQL = SqlDriver("psycopg2", _status, _sever)


class _RecordingCursor:
    """Mixed in front of a psycopg2 cursor class: each statement is a point."""

    def _racecheck_call(self, rt: Any, query: Any, payload: dict[str, Any], call: Callable[[], Any]) -> Any:
        # a psycopg2.sql.Composed needs a connection to render; str() is its best effort
        return SQL.run_statement(rt, self.connection, query_text(query), payload, call,  # type: ignore[attr-defined]
                                 lambda _result: cursor_rows(self))

    def execute(self, query: Any, vars: Any = None) -> Any:  # noqa: A002 - psycopg2's name
        rt = in_run()
        if rt is None:
            return super().execute(query, vars)  # type: ignore[misc]
        return self._racecheck_call(rt, query, params_payload(vars),
                                    lambda: super(_RecordingCursor, self).execute(query, vars))  # type: ignore[misc]

    def executemany(self, query: Any, vars_list: Any) -> Any:
        rt = in_run()
        if rt is None:
            return super().executemany(query, vars_list)  # type: ignore[misc]
        try:
            vars_list = list(vars_list)
        except TypeError:
            pass
        return self._racecheck_call(rt, query, params_payload(vars_list, many=True),
                                    lambda: super(_RecordingCursor, self).executemany(query, vars_list))  # type: ignore[misc]

    def callproc(self, procname: str, parameters: Any = None) -> Any:
        rt = in_run()
        if rt is None:
            return super().callproc(procname, parameters)  # type: ignore[misc]
        return self._racecheck_call(rt, f"CALLPROC {procname}", params_payload(parameters),
                                    lambda: super(_RecordingCursor, self).callproc(procname, parameters))  # type: ignore[misc]


    def copy_expert(self, sql: Any, file: Any, size: int = 8192) -> Any:
        rt = in_run()
        if rt is None:
            return super().copy_expert(sql, file, size)  # type: ignore[misc]
        return self._racecheck_call(rt, sql, {},
                                    lambda: super(_RecordingCursor, self).copy_expert(sql, file, size))  # type: ignore[misc]

    def copy_from(self, file: Any, table: str, *args: Any, **kwargs: Any) -> Any:
        rt = in_run()
        if rt is None:
            return super().copy_from(file, table, *args, **kwargs)  # type: ignore[misc]
        return self._racecheck_call(rt, f"COPY {table} FROM STDIN", {},
                                    lambda: super(_RecordingCursor, self).copy_from(file, table, *args, **kwargs))  # type: ignore[misc]

    def copy_to(self, file: Any, table: str, *args: Any, **kwargs: Any) -> Any:
        rt = in_run()
        if rt is None:
            return super().copy_to(file, table, *args, **kwargs)  # type: ignore[misc]
        return self._racecheck_call(rt, f"COPY {table} TO STDOUT", {},
                                    lambda: super(_RecordingCursor, self).copy_to(file, table, *args, **kwargs))  # type: ignore[misc]


class _RecordingConnection:
    """Mixed in front of a psycopg2 connection class: commits are points, cursors record."""

    def cursor(self, *args: Any, **kwargs: Any) -> Any:
        # psycopg2: cursor(name=None, cursor_factory=None, scrollable=None, withhold=False)
        if len(args) >= 2:
            factory = args[1]
            args = (args[0], None, *args[2:])
        else:
            factory = kwargs.pop("cursor_factory", None)
        if factory is None:
            factory = self.cursor_factory or _base_cursor()  # type: ignore[attr-defined]
        kwargs["cursor_factory"] = recording_class(factory, _RecordingCursor)
        return super().cursor(*args, **kwargs)  # type: ignore[misc]

    def commit(self) -> Any:
        rt = in_run()
        if rt is None:
            return super().commit()  # type: ignore[misc]
        return SQL.run_commit(rt, self, super().commit)  # type: ignore[misc]

    def rollback(self) -> Any:
        rt = in_run()
        if rt is not None:
            SQL.rolled_back(self)
        return super().rollback()  # type: ignore[misc]

    # ``with conn:`` needs nothing more: psycopg2's __exit__ calls self.commit()/self.rollback() by name.


def _base_cursor() -> type:
    import psycopg2.extensions

    return psycopg2.extensions.cursor


def recording_class(base: type, mixin: type) -> type:
    """``base`` with ``mixin`` in front (cached); ``base`` itself when it already records."""
    if issubclass(base, mixin):
        return base
    cls = _classes.get(base)
    if cls is None:
        cls = _classes[base] = type(f"Racecheck{base.__name__}", (mixin, base), {"__module__": __name__})
    return cls


def install() -> Callable[[], None]:
    """Patch ``psycopg2.connect`` (once per process: it stays, see :func:`uninstall`). Returns a no-op undo."""
    global _installed
    if _installed:
        return lambda: None
    try:
        import psycopg2
        import psycopg2.extensions
    except ImportError:
        return lambda: None
    original = psycopg2.connect
    if getattr(original, "_racecheck", False):  # this module was loaded again: keep the one patch
        _installed = True
        return lambda: None

    def connect(dsn: Any = None, connection_factory: Any = None, cursor_factory: Any = None,
                **kwargs: Any) -> Any:
        factory = recording_class(connection_factory or psycopg2.extensions.connection,
                                  _RecordingConnection)
        return original(dsn, connection_factory=factory, cursor_factory=cursor_factory, **kwargs)

    connect.__wrapped__ = original  # type: ignore[attr-defined]
    connect.__doc__ = original.__doc__
    connect._racecheck = True  # type: ignore[attr-defined]
    psycopg2.connect = connect
    _installed = True
    return lambda: None


def uninstall() -> None:
    """Put psycopg2's own ``connect`` back (and stop patching on import); runs then re-install it."""
    global _installed
    from . import _remove_finder

    _remove_finder()
    mod = sys.modules.get("psycopg2")
    connect = getattr(mod, "connect", None)
    if mod is not None and getattr(connect, "_racecheck", False):
        mod.connect = connect.__wrapped__  # type: ignore[attr-defined, union-attr]
    _installed = False
