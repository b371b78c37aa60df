"""asyncpg instrumentation: statements and commits are points named ``sql:<text>``, as for psycopg.

The methods of ``asyncpg.connection.Connection`` are patched, so pooled connections are
covered too (a pool's connection proxy calls them). Covered: ``execute``,
``executemany``, ``fetch``, ``fetchrow``, ``fetchval``, ``fetchmany``, the ``copy_*``
methods, prepared statements (``conn.prepare(query)``: its ``fetch``/``fetchrow``/
``fetchval``/``fetchmany``/``executemany``) and cursors (the bind of
``conn.cursor(query)``, iterated or awaited; the fetches on the open portal are not
points). A transaction block (``async with conn.transaction():``) sends ``BEGIN`` and
``COMMIT;`` through ``execute``: its commit is the point ``sql:COMMIT``, where the after
phase of the transaction's statements fires. The ``ROLLBACK``/``RESET`` a pool sends
when a connection is released is not a point.
"""

from __future__ import annotations

import contextvars
import functools
from collections.abc import Callable
from typing import Any

from .sqltx import IDLE, INTRANS, UNKNOWN, SqlDriver, in_run, short

_quiet: contextvars.ContextVar[bool] = contextvars.ContextVar("racecheck_asyncpg_quiet", default=False)


def _status(conn: Any) -> int:
    try:
        if conn.is_closed():
            return UNKNOWN
        return INTRANS if conn.is_in_transaction() else IDLE
    except Exception:  # noqa: BLE001
        return UNKNOWN


def _sever(conn: Any) -> None:
    """Close the socket at once (no goodbye): the server rolls back the open transaction."""
    conn.terminate()


SQL = SqlDriver("asyncpg", _status, _sever)


def _args_payload(args: tuple[Any, ...]) -> dict[str, Any]:
    return {"params": short(args)} if args else {}


def _query(args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    query = args[0] if args else kwargs.get("query", "")
    return str(query), _args_payload(args[1:])


def _many(args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    query = args[0] if args else kwargs.get("command", "")
    batch = args[1] if len(args) > 1 else kwargs.get("args")
    try:
        return str(query), {"batches": len(batch)}  # type: ignore[arg-type]
    except TypeError:
        return str(query), {}


def _copy(direction: str) -> Callable[[tuple[Any, ...], dict[str, Any]], tuple[str, dict[str, Any]]]:
    def describe(args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        table = args[0] if args else kwargs.get("table_name", "")
        schema = kwargs.get("schema_name")
        name = f"{schema}.{table}" if schema else str(table)
        return f"COPY {name} {direction}", {}

    return describe


def _copy_query(args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    query, payload = _query(args, kwargs)
    return f"COPY ({query}) TO STDOUT", payload


def _status_rows(result: Any) -> int | None:
    """Rows from a command tag such as ``UPDATE 3`` / ``INSERT 0 1``, or a list of records."""
    if isinstance(result, list):
        return len(result)
    if isinstance(result, str):
        last = result.rpartition(" ")[2]
        return int(last) if last.isdigit() else None
    return None


def _fetchrow_rows(result: Any) -> int | None:
    return 0 if result is None else 1


def _no_rows(_result: Any) -> int | None:
    return None


_METHODS: tuple[tuple[str, Callable[..., tuple[str, dict[str, Any]]], Callable[[Any], int | None]], ...] = (
    ("execute", _query, _status_rows),
    ("executemany", _many, _no_rows),
    ("fetch", _query, _status_rows),
    ("fetchrow", _query, _fetchrow_rows),
    ("fetchval", _query, _no_rows),
    ("fetchmany", _many, _status_rows),
    ("copy_from_table", _copy("TO STDOUT"), _status_rows),
    ("copy_from_query", _copy_query, _status_rows),
    ("copy_to_table", _copy("FROM STDIN"), _status_rows),
    ("copy_records_to_table", _copy("FROM STDIN"), _status_rows),
)


def _statement(original: Any, describe: Callable[..., tuple[str, dict[str, Any]]],
               rows: Callable[[Any], int | None]) -> Any:
    @functools.wraps(original)
    async def method(self: Any, *args: Any, **kwargs: Any) -> Any:
        rt = in_run()
        if rt is None or _quiet.get():
            return await original(self, *args, **kwargs)
        text, payload = describe(args, kwargs)
        return await SQL.run_statement_async(rt, self, text, payload, lambda: original(self, *args, **kwargs), rows)

    return method


def _prepared_rows(name: str) -> Callable[[Any], int | None]:
    return {"fetch": _status_rows, "fetchmany": _status_rows, "fetchrow": _fetchrow_rows}.get(name, _no_rows)


def _prepared(original: Any, name: str) -> Any:
    """A method of a prepared statement (``conn.prepare(query)``): the statement it executes is a point."""
    rows = _prepared_rows(name)

    @functools.wraps(original)
    async def method(self: Any, *args: Any, **kwargs: Any) -> Any:
        rt = in_run()
        if rt is None or _quiet.get():
            return await original(self, *args, **kwargs)
        if name in ("executemany", "fetchmany"):
            batch = args[0] if args else kwargs.get("args")
            try:
                payload: dict[str, Any] = {"batches": len(batch)}  # type: ignore[arg-type]
            except TypeError:
                payload = {}
        else:
            payload = _args_payload(args)
        return await SQL.run_statement_async(rt, self._connection, str(self._query), payload,
                                             lambda: original(self, *args, **kwargs), rows)

    return method


def _cursor_open(original: Any) -> Any:
    """A cursor binds its query (``conn.cursor(query, *args)``: iterated or awaited): that is the point.

    The FETCHes that follow on the open portal are not points."""
    @functools.wraps(original)
    async def method(self: Any, *args: Any, **kwargs: Any) -> Any:
        rt = in_run()
        if rt is None or _quiet.get():
            return await original(self, *args, **kwargs)
        return await SQL.run_statement_async(rt, self._connection, str(self._query),
                                             _args_payload(tuple(self._args or ())),
                                             lambda: original(self, *args, **kwargs), _no_rows)

    return method


_PREPARED = ("fetch", "fetchrow", "fetchval", "fetchmany", "executemany")


def _quietly(original: Any) -> Any:
    @functools.wraps(original)
    async def method(self: Any, *args: Any, **kwargs: Any) -> Any:
        token = _quiet.set(True)
        try:
            return await original(self, *args, **kwargs)
        finally:
            _quiet.reset(token)
            if in_run() is not None:
                SQL.rolled_back(self)

    return method


def install() -> Callable[[], None]:
    try:
        import asyncpg.connection
        import asyncpg.cursor
        import asyncpg.prepared_stmt
    except ImportError:
        return lambda: None
    cls = asyncpg.connection.Connection
    saved: list[tuple[Any, str, Any]] = []

    def patch(owner: Any, name: str, wrapped: Callable[[Any], Any]) -> None:
        original = owner.__dict__[name]
        saved.append((owner, name, original))
        setattr(owner, name, wrapped(original))

    for name, describe, rows in _METHODS:
        patch(cls, name, functools.partial(_statement, describe=describe, rows=rows))
    patch(cls, "reset", _quietly)
    for name in _PREPARED:
        patch(asyncpg.prepared_stmt.PreparedStatement, name, functools.partial(_prepared, name=name))
    for name in ("_bind_exec", "_bind"):
        patch(asyncpg.cursor.BaseCursor, name, _cursor_open)

    def undo() -> None:
        for owner, name, original in reversed(saved):
            setattr(owner, name, original)

    return undo
