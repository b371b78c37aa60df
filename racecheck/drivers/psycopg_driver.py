"""psycopg 3 instrumentation (sync and async): statements and commits are points named ``sql:<text>``."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from .. import _runtime
from .. import history as h
from . import one_line


def _text(query: Any, ctx: Any) -> str:
    if isinstance(query, bytes):
        return query.decode(errors="replace")
    if isinstance(query, str):
        return query
    try:
        return str(query.as_string(ctx))
    except Exception:  # noqa: BLE001 - a Composed we cannot render is still a statement
        return repr(query)


def _register(rt: _runtime.Runtime, conn: Any) -> None:
    if conn is None or getattr(conn, "_racecheck_registered", None) is rt:
        return
    try:
        conn._racecheck_registered = rt
    except AttributeError:
        return
    rt.register_resource(conn.close)


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
            rt = _runtime.active()
            if rt is None or _runtime.current_worker() is None:
                return original(self, query, *args, **kwargs)
            _register(rt, getattr(self, "connection", None))
            text = one_line(_text(query, self))
            label = "sql:" + text
            rt.at_point(label, h.SQL, statement=text)
            result = original(self, query, *args, **kwargs)
            rt.after_point(label)
            return result

        return execute

    def async_exec(original: Any) -> Any:
        @functools.wraps(original)
        async def execute(self: Any, query: Any, *args: Any, **kwargs: Any) -> Any:
            rt = _runtime.active()
            if rt is None or _runtime.current_worker() is None:
                return await original(self, query, *args, **kwargs)
            _register(rt, getattr(self, "connection", None))
            text = one_line(_text(query, self))
            label = "sql:" + text
            rt.at_point(label, h.SQL, statement=text)
            result = await original(self, query, *args, **kwargs)
            rt.after_point(label)
            return result

        return execute

    def sync_commit(original: Any) -> Any:
        @functools.wraps(original)
        def commit(self: Any) -> Any:
            rt = _runtime.active()
            if rt is None or _runtime.current_worker() is None:
                return original(self)
            rt.at_point("sql:COMMIT", h.SQL, statement="COMMIT")
            result = original(self)
            rt.after_point("sql:COMMIT")
            return result

        return commit

    def async_commit(original: Any) -> Any:
        @functools.wraps(original)
        async def commit(self: Any) -> Any:
            rt = _runtime.active()
            if rt is None or _runtime.current_worker() is None:
                return await original(self)
            rt.at_point("sql:COMMIT", h.SQL, statement="COMMIT")
            result = await original(self)
            rt.after_point("sql:COMMIT")
            return result

        return commit

    patch(psycopg.Cursor, "execute", sync_exec)
    patch(psycopg.Cursor, "executemany", sync_exec)
    patch(psycopg.Connection, "commit", sync_commit)
    patch(psycopg.AsyncCursor, "execute", async_exec)
    patch(psycopg.AsyncCursor, "executemany", async_exec)
    patch(psycopg.AsyncConnection, "commit", async_commit)

    def undo() -> None:
        for cls, name, original in reversed(saved):
            if original is None:
                delattr(cls, name)
            else:
                setattr(cls, name, original)

    return undo
