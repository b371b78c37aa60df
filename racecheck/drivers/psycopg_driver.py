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

from .. import _runtime
from .. import history as h
from . import one_line, record_failure

# libpq transaction status values (psycopg.pq.TransactionStatus); unknown when the connection is gone.
IDLE, ACTIVE, INTRANS, INERROR, UNKNOWN = 0, 1, 2, 3, 4
_ROLLBACK_WORDS = ("ROLLBACK", "ABORT")


def _text(query: Any, ctx: Any) -> str:
    if isinstance(query, bytes):
        return query.decode(errors="replace")
    if isinstance(query, str):
        return query
    try:
        return str(query.as_string(ctx))
    except Exception:  # noqa: BLE001 - a Composed we cannot render is still a statement
        return repr(query)


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


def _register(rt: _runtime.Runtime, conn: Any) -> None:
    """Let a crash of the calling worker sever ``conn`` (once per worker and run)."""
    if conn is None:
        return
    worker = _runtime.current_worker()
    reg = getattr(conn, "_racecheck_registered", None)
    if reg is None or reg[0] is not rt:
        reg = (rt, set[int | None]())
        try:
            conn._racecheck_registered = reg
        except AttributeError:
            return
    if worker in reg[1]:
        return
    reg[1].add(worker)
    rt.register_resource(functools.partial(_sever, conn))


def _pending(conn: Any) -> list[str]:
    p = getattr(conn, "_racecheck_pending", None)
    if p is None:
        p = []
        try:
            conn._racecheck_pending = p
        except AttributeError:
            pass
    return p


def _begin(rt: _runtime.Runtime, conn: Any, text: str) -> tuple[str, int]:
    """Before a statement: register the connection, note the transaction state, reach the point."""
    _register(rt, conn)
    before = _status(conn)
    if before == IDLE and conn is not None:
        _pending(conn).clear()  # a new transaction starts: whatever was pending rolled back
    label = "sql:" + text
    rt.at_point(label, h.SQL, statement=text)
    return label, before


def _committed(rt: _runtime.Runtime, conn: Any, label: str | None) -> None:
    """The transaction committed: fire the after-faults of its statements, then of ``label``."""
    labels = list(_pending(conn)) if conn is not None else []
    if conn is not None:
        _pending(conn).clear()
    for lab in labels:
        rt.after_point(lab)
    if label is not None:
        rt.after_point(label)


def _done(rt: _runtime.Runtime, conn: Any, label: str, text: str, before: int) -> None:
    """After a statement succeeded: fire its after-faults now, at commit, or never (rollback)."""
    after = _status(conn)
    if after in (INTRANS, INERROR):
        _pending(conn).append(label)
        return
    if before in (INTRANS, INERROR) and after == IDLE:
        if before == INERROR or text.lstrip().upper().startswith(_ROLLBACK_WORDS):
            _pending(conn).clear()
            return
        _committed(rt, conn, label)
        return
    rt.after_point(label)


def _commit_begin(rt: _runtime.Runtime, conn: Any) -> int:
    _register(rt, conn)
    before = _status(conn)
    rt.at_point("sql:COMMIT", h.SQL, statement="COMMIT")
    return before


def _commit_done(rt: _runtime.Runtime, conn: Any, before: int) -> None:
    if before == INERROR:  # COMMIT of a failed transaction is a rollback
        _pending(conn).clear()
        return
    _committed(rt, conn, "sql:COMMIT")


def _commits(tx: Any, exc: BaseException | None) -> bool:
    """Whether leaving this ``transaction()`` block commits the connection's transaction."""
    return exc is None and not tx.force_rollback and bool(getattr(tx, "_outer_transaction", False))


def _in_run() -> _runtime.Runtime | None:
    rt = _runtime.active()
    if rt is None or _runtime.current_worker() is None:
        return None
    return rt


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

    def sync_exec(original: Any) -> Any:
        @functools.wraps(original)
        def execute(self: Any, query: Any, *args: Any, **kwargs: Any) -> Any:
            rt = _in_run()
            if rt is None:
                return original(self, query, *args, **kwargs)
            conn = getattr(self, "connection", None)
            text = one_line(_text(query, self))
            label, before = _begin(rt, conn, text)
            try:
                result = original(self, query, *args, **kwargs)
            except Exception as exc:
                record_failure(rt, h.SQL, label, "statement", text, exc)
                raise
            _done(rt, conn, label, text, before)
            return result

        return execute

    def async_exec(original: Any) -> Any:
        @functools.wraps(original)
        async def execute(self: Any, query: Any, *args: Any, **kwargs: Any) -> Any:
            rt = _in_run()
            if rt is None:
                return await original(self, query, *args, **kwargs)
            conn = getattr(self, "connection", None)
            text = one_line(_text(query, self))
            label, before = _begin(rt, conn, text)
            try:
                result = await original(self, query, *args, **kwargs)
            except Exception as exc:
                record_failure(rt, h.SQL, label, "statement", text, exc)
                raise
            _done(rt, conn, label, text, before)
            return result

        return execute

    def sync_commit(original: Any) -> Any:
        @functools.wraps(original)
        def commit(self: Any) -> Any:
            rt = _in_run()
            if rt is None:
                return original(self)
            before = _commit_begin(rt, self)
            try:
                result = original(self)
            except Exception as exc:
                _pending(self).clear()
                record_failure(rt, h.SQL, "sql:COMMIT", "statement", "COMMIT", exc)
                raise
            _commit_done(rt, self, before)
            return result

        return commit

    def async_commit(original: Any) -> Any:
        @functools.wraps(original)
        async def commit(self: Any) -> Any:
            rt = _in_run()
            if rt is None:
                return await original(self)
            before = _commit_begin(rt, self)
            try:
                result = await original(self)
            except Exception as exc:
                _pending(self).clear()
                record_failure(rt, h.SQL, "sql:COMMIT", "statement", "COMMIT", exc)
                raise
            _commit_done(rt, self, before)
            return result

        return commit

    def sync_tx_exit(original: Any) -> Any:
        @functools.wraps(original)
        def __exit__(self: Any, exc_type: Any, exc_val: Any, exc_tb: Any) -> Any:  # noqa: N807
            rt = _in_run()
            if rt is None or not _commits(self, exc_val):
                if rt is not None and getattr(self, "_outer_transaction", False):
                    _pending(self._conn).clear()
                return original(self, exc_type, exc_val, exc_tb)
            before = _commit_begin(rt, self._conn)
            try:
                result = original(self, exc_type, exc_val, exc_tb)
            except Exception as exc:
                _pending(self._conn).clear()
                record_failure(rt, h.SQL, "sql:COMMIT", "statement", "COMMIT", exc)
                raise
            _commit_done(rt, self._conn, before)
            return result

        return __exit__

    def async_tx_exit(original: Any) -> Any:
        @functools.wraps(original)
        async def __aexit__(self: Any, exc_type: Any, exc_val: Any, exc_tb: Any) -> Any:  # noqa: N807
            rt = _in_run()
            if rt is None or not _commits(self, exc_val):
                if rt is not None and getattr(self, "_outer_transaction", False):
                    _pending(self._conn).clear()
                return await original(self, exc_type, exc_val, exc_tb)
            before = _commit_begin(rt, self._conn)
            try:
                result = await original(self, exc_type, exc_val, exc_tb)
            except Exception as exc:
                _pending(self._conn).clear()
                record_failure(rt, h.SQL, "sql:COMMIT", "statement", "COMMIT", exc)
                raise
            _commit_done(rt, self._conn, before)
            return result

        return __aexit__

    patch(psycopg.Cursor, "execute", sync_exec)
    patch(psycopg.Cursor, "executemany", sync_exec)
    patch(psycopg.ServerCursor, "execute", sync_exec)
    patch(psycopg.Connection, "commit", sync_commit)
    patch(psycopg.Transaction, "__exit__", sync_tx_exit)
    patch(psycopg.AsyncCursor, "execute", async_exec)
    patch(psycopg.AsyncCursor, "executemany", async_exec)
    patch(psycopg.AsyncServerCursor, "execute", async_exec)
    patch(psycopg.AsyncConnection, "commit", async_commit)
    patch(psycopg.AsyncTransaction, "__aexit__", async_tx_exit)

    def undo() -> None:
        for cls, name, original in reversed(saved):
            if original is None:
                delattr(cls, name)
            else:
                setattr(cls, name, original)

    return undo
