"""psycopg 3 instrumentation (sync and async): statements and commits are points named ``sql:<text>``.

Each statement is a point before it is sent. Its *after* phase (where after-faults such
as ``db_error(..., after_commit=True)`` fire) is the moment its effect became durable:
at once for an autocommit statement, else when its transaction commits
(``conn.commit()``, a ``with conn.transaction():`` block, ``with conn:`` or an explicit
``COMMIT``). A transaction that rolls back drops its pending after-faults. A statement
the server rejected is recorded with ``error=<type>`` (``fail_closed`` reads it).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from .sqltx import UNKNOWN, SqlDriver, cursor_rows, in_run, params_payload, query_text


def _text(query: Any, ctx: Any) -> str:
    return query_text(query, lambda q: str(q.as_string(ctx)))


def _status(conn: Any) -> int:
    try:
        return int(conn.pgconn.transaction_status)
    except Exception:  # noqa: BLE001 - a closed or foreign connection
        return UNKNOWN


def _sever(conn: Any) -> None:
    """Close the socket under the connection: the server rolls back its open transaction."""
    pgconn = getattr(conn, "pgconn", None)
    if pgconn is not None:
        pgconn.finish()
    else:
        conn.close()


SQL = SqlDriver("psycopg", _status, _sever)


def _params(args: tuple[Any, ...], many: bool) -> dict[str, Any]:
    return params_payload(args[0] if args else None, many)


def _inner(tx: Any) -> str | None:
    """The savepoint name of a nested ``transaction()`` block (None for the outermost one)."""
    return None if getattr(tx, "_outer_transaction", True) else getattr(tx, "_savepoint_name", None) or None


def _inner_done(tx: Any, exc: BaseException | None) -> None:
    name = _inner(tx)
    if name is not None:
        SQL.savepoint_done(tx._conn, name, rolled_back=exc is not None or bool(tx.force_rollback))


def _commits(tx: Any, exc: BaseException | None) -> bool:
    """Whether leaving this ``transaction()`` block commits the connection's transaction."""
    return exc is None and not tx.force_rollback and bool(getattr(tx, "_outer_transaction", False))


def install() -> Callable[[], None]:
    try:
        import psycopg
    except ImportError:
        return lambda: None

    saved: list[tuple[Any, str, Any]] = []

    def patch(cls: Any, name: str, make: Callable[[Any], Any]) -> None:
        original = cls.__dict__.get(name)
        if original is None:
            original = getattr(cls, name)
            saved.append((cls, name, None))
        else:
            saved.append((cls, name, original))
        setattr(cls, name, make(original))

    def sync_exec(original: Any, many: bool = False) -> Any:
        @functools.wraps(original)
        def execute(self: Any, query: Any, *args: Any, **kwargs: Any) -> Any:
            rt = in_run()
            if rt is None:
                return original(self, query, *args, **kwargs)
            return SQL.run_statement(rt, getattr(self, "connection", None), _text(query, self),
                                     _params(args, many), lambda: original(self, query, *args, **kwargs),
                                     lambda _result: cursor_rows(self))

        return execute

    def async_exec(original: Any, many: bool = False) -> Any:
        @functools.wraps(original)
        async def execute(self: Any, query: Any, *args: Any, **kwargs: Any) -> Any:
            rt = in_run()
            if rt is None:
                return await original(self, query, *args, **kwargs)
            return await SQL.run_statement_async(
                rt, getattr(self, "connection", None), _text(query, self), _params(args, many),
                lambda: original(self, query, *args, **kwargs), lambda _result: cursor_rows(self))

        return execute

    def sync_commit(original: Any) -> Any:
        @functools.wraps(original)
        def commit(self: Any) -> Any:
            rt = in_run()
            if rt is None:
                return original(self)
            return SQL.run_commit(rt, self, lambda: original(self))

        return commit

    def async_commit(original: Any) -> Any:
        @functools.wraps(original)
        async def commit(self: Any) -> Any:
            rt = in_run()
            if rt is None:
                return await original(self)
            return await SQL.run_commit_async(rt, self, lambda: original(self))

        return commit

    # A nested transaction() block sets a savepoint with a command of its own (not a statement):
    # leaving it by an error rolls back what ran inside, whose after phase then never comes.
    def sync_tx_enter(original: Any) -> Any:
        @functools.wraps(original)
        def __enter__(self: Any) -> Any:  # noqa: N807
            result = original(self)
            name = _inner(self) if in_run() is not None else None
            if name is not None:
                SQL.savepoint(self._conn, name)
            return result

        return __enter__

    def async_tx_enter(original: Any) -> Any:
        @functools.wraps(original)
        async def __aenter__(self: Any) -> Any:  # noqa: N807
            result = await original(self)
            name = _inner(self) if in_run() is not None else None
            if name is not None:
                SQL.savepoint(self._conn, name)
            return result

        return __aenter__

    def sync_tx_exit(original: Any) -> Any:
        @functools.wraps(original)
        def __exit__(self: Any, exc_type: Any, exc_val: Any, exc_tb: Any) -> Any:  # noqa: N807
            rt = in_run()
            if rt is None or not _commits(self, exc_val):
                if rt is not None and getattr(self, "_outer_transaction", False):
                    SQL.rolled_back(self._conn)
                elif rt is not None:
                    _inner_done(self, exc_val)
                return original(self, exc_type, exc_val, exc_tb)
            return SQL.run_commit(rt, self._conn, lambda: original(self, exc_type, exc_val, exc_tb))

        return __exit__

    def async_tx_exit(original: Any) -> Any:
        @functools.wraps(original)
        async def __aexit__(self: Any, exc_type: Any, exc_val: Any, exc_tb: Any) -> Any:  # noqa: N807
            rt = in_run()
            if rt is None or not _commits(self, exc_val):
                if rt is not None and getattr(self, "_outer_transaction", False):
                    SQL.rolled_back(self._conn)
                elif rt is not None:
                    _inner_done(self, exc_val)
                return await original(self, exc_type, exc_val, exc_tb)
            return await SQL.run_commit_async(rt, self._conn, lambda: original(self, exc_type, exc_val, exc_tb))

        return __aexit__

    patch(psycopg.Cursor, "execute", sync_exec)
    patch(psycopg.Cursor, "executemany", functools.partial(sync_exec, many=True))
    patch(psycopg.ServerCursor, "execute", sync_exec)
    patch(psycopg.Connection, "commit", sync_commit)
    patch(psycopg.Transaction, "__enter__", sync_tx_enter)
    patch(psycopg.Transaction, "__exit__", sync_tx_exit)
    patch(psycopg.AsyncCursor, "execute", async_exec)
    patch(psycopg.AsyncCursor, "executemany", functools.partial(async_exec, many=True))
    patch(psycopg.AsyncServerCursor, "execute", async_exec)
    patch(psycopg.AsyncConnection, "commit", async_commit)
    patch(psycopg.AsyncTransaction, "__aenter__", async_tx_enter)
    patch(psycopg.AsyncTransaction, "__aexit__", async_tx_exit)

    def undo() -> None:
        for cls, name, original in reversed(saved):
            if original is None:
                delattr(cls, name)
            else:
                setattr(cls, name, original)

    return undo
