"""What every SQL driver shares: statements as ``sql:<text>`` points, and the after phase at commit.

Each statement is a point before it is sent. Its *after* phase (where after-faults such
as ``db_error(..., after_commit=True)`` fire) is the moment its effect became durable:
at once for an autocommit statement, else when its transaction commits. A transaction
that rolls back drops its pending after-faults. A driver gives a :class:`SqlDriver` its
name (so a short error name resolves in its own modules), how to read a connection's
transaction status (libpq's values) and how to sever a connection when its worker
crashes.
"""

from __future__ import annotations

import functools
import re
import weakref
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from .. import _runtime
from .. import history as h
from . import calling, one_line, record_failure

# libpq transaction status values; UNKNOWN when the connection is gone.
IDLE, ACTIVE, INTRANS, INERROR, UNKNOWN = 0, 1, 2, 3, 4
_ROLLBACK_WORDS = ("ROLLBACK", "ABORT")
_COMMIT_WORDS = {"COMMIT", "END", "COMMIT WORK", "COMMIT TRANSACTION", "END WORK", "END TRANSACTION"}
ROWS = "sql_rows"  # event kind: how many rows a statement returned or changed (after it ran)


_SAVEPOINT = re.compile(r"SAVEPOINT\s+(\S+)$", re.I)
_ROLLBACK_TO = re.compile(r"ROLLBACK\s+(?:WORK\s+|TRANSACTION\s+)?TO\s+(?:SAVEPOINT\s+)?(\S+)$", re.I)
_RELEASE = re.compile(r"RELEASE\s+(?:SAVEPOINT\s+)?(\S+)$", re.I)


def _ident(name: str) -> str:
    """A savepoint name as the server compares it: quoted kept as is, unquoted folded to lower case."""
    return name[1:-1].replace('""', '"') if len(name) > 1 and name[0] == name[-1] == '"' else name.lower()


@dataclass
class _ConnState:
    pending: list[str] = field(default_factory=list)  # labels whose after phase waits for COMMIT
    run: Any = None  # the Runtime the connection is registered with
    workers: set[int | None] = field(default_factory=set)
    failed: bool = False  # a statement failed inside the open transaction (drivers without INERROR)
    # open savepoints, innermost last: (name, how many labels were pending, failed) when it was set
    savepoints: list[tuple[str, int, bool]] = field(default_factory=list)

    def reset(self) -> None:
        self.pending.clear()
        self.savepoints.clear()
        self.failed = False

    def savepoint(self, name: str) -> None:
        self.savepoints.append((name, len(self.pending), self.failed))

    def _find(self, name: str) -> int | None:
        for i in range(len(self.savepoints) - 1, -1, -1):
            if self.savepoints[i][0] == name:
                return i
        return None

    def rollback_to(self, name: str) -> None:
        """``ROLLBACK TO SAVEPOINT``: what ran since is undone (its after phase never comes); it stays set."""
        i = self._find(name)
        if i is not None:
            _name, n, failed = self.savepoints[i]
            del self.pending[n:]
            del self.savepoints[i + 1:]
            self.failed = failed

    def release(self, name: str) -> None:
        i = self._find(name)
        if i is not None:
            del self.savepoints[i:]

    def control(self, text: str) -> None:
        """Follow a savepoint statement that ran inside the transaction."""
        flat = text.strip().rstrip(";").strip()
        for pattern, apply in ((_SAVEPOINT, self.savepoint), (_ROLLBACK_TO, self.rollback_to),
                               (_RELEASE, self.release)):
            m = pattern.match(flat)
            if m:
                apply(_ident(m.group(1)))
                return


def in_run() -> _runtime.Runtime | None:
    rt = _runtime.active()
    if rt is None or _runtime.current_worker() is None:
        return None
    return rt


def short(value: Any, limit: int = 200) -> str:
    try:
        text = repr(value)
    except Exception:  # noqa: BLE001 - a parameter we cannot render is still a parameter
        text = f"<{type(value).__name__}>"
    return one_line(text, limit)


def statement_text(text: str) -> str:
    flat = one_line(text)
    return "COMMIT" if flat.rstrip(";").strip().upper() in _COMMIT_WORDS else flat


def query_text(query: Any, render: Callable[[Any], str] = str) -> str:
    """The text of a statement given as ``str``, ``bytes`` or a composed object (``render`` it)."""
    if isinstance(query, bytes):
        return query.decode(errors="replace")
    if isinstance(query, str):
        return query
    try:
        return render(query)
    except Exception:  # noqa: BLE001 - a statement we cannot render is still a statement
        return repr(query)


def params_payload(params: Any, many: bool = False) -> dict[str, Any]:
    """``params`` (a short repr of the bound parameters) or, for an executemany, ``batches``."""
    if params is None:
        return {}
    if many:
        try:
            return {"batches": len(params)}
        except TypeError:
            return {}
    return {"params": short(params)}


def cursor_rows(cursor: Any) -> int | None:
    """A DB-API cursor's ``rowcount`` (None when it has none)."""
    try:
        return int(cursor.rowcount)
    except Exception:  # noqa: BLE001 - no row count is no row count
        return None


Rows = Callable[[Any], "int | None"]  # the row count of a statement, from its call's result


class SqlDriver:
    """The statement/commit bookkeeping of one SQL driver."""

    def __init__(self, name: str, status: Callable[[Any], int], sever: Callable[[Any], None]) -> None:
        self.name = name
        self.status = status
        self.sever = sever
        self._states: weakref.WeakKeyDictionary[Any, _ConnState] = weakref.WeakKeyDictionary()

    def state(self, conn: Any) -> _ConnState:
        try:
            st = self._states.get(conn)
            if st is None:
                st = self._states[conn] = _ConnState()
            return st
        except TypeError:  # not weak-referenceable: nothing to remember it by
            return _ConnState()

    def register(self, rt: _runtime.Runtime, conn: Any) -> None:
        """Let a crash of the calling worker sever ``conn`` (once per worker and run)."""
        if conn is None:
            return
        st = self.state(conn)
        if st.run is not rt:
            st.run, st.workers = rt, set()
        worker = _runtime.current_worker()
        if worker in st.workers:
            return
        st.workers.add(worker)
        rt.register_resource(functools.partial(self._sever_quietly, conn))

    def _sever_quietly(self, conn: Any) -> None:
        self.sever(conn)

    # -- statements --------------------------------------------------------------------------
    def _enter(self, rt: _runtime.Runtime, conn: Any) -> int:
        self.register(rt, conn)
        before = self.status(conn)
        if before == IDLE and conn is not None:
            self.state(conn).reset()  # a new transaction starts: whatever was pending rolled back
        return before

    def begin(self, rt: _runtime.Runtime, conn: Any, text: str, **payload: Any) -> tuple[str, int]:
        """Before a statement: register the connection, note the transaction state, reach the point."""
        before = self._enter(rt, conn)
        label = "sql:" + text
        with calling(self.name):
            rt.at_point(label, h.SQL, statement=text, **payload)
        return label, before

    async def begin_async(self, rt: _runtime.Runtime, conn: Any, text: str, **payload: Any) -> tuple[str, int]:
        before = self._enter(rt, conn)
        label = "sql:" + text
        with calling(self.name):
            await rt.at_point_async(label, h.SQL, statement=text, **payload)
        return label, before

    def failed(self, rt: _runtime.Runtime, conn: Any, label: str, text: str, exc: BaseException) -> None:
        """A statement raised: record it; inside a transaction the transaction is now failed."""
        if conn is not None and self.status(conn) in (INTRANS, INERROR):
            self.state(conn).failed = True
        record_failure(rt, h.SQL, label, "statement", text, exc)

    def done(self, rt: _runtime.Runtime, conn: Any, label: str, text: str, before: int,
             rows: int | None = None) -> None:
        """After a statement succeeded: fire its after-faults now, at commit, or never (rollback)."""
        if rows is not None and rows >= 0:
            rt.record(ROWS, label, rows=rows)
        after = self.status(conn)
        if after in (INTRANS, INERROR):
            st = self.state(conn)
            st.control(text)
            st.pending.append(label)
            return
        if before in (INTRANS, INERROR) and after == IDLE:
            st = self.state(conn)
            if before == INERROR or st.failed or text.lstrip().upper().startswith(_ROLLBACK_WORDS):
                st.reset()
                return
            self.committed(rt, conn, label)
            return
        self.after(rt, label)

    def after(self, rt: _runtime.Runtime, label: str) -> None:
        with calling(self.name):
            rt.after_point(label)

    def committed(self, rt: _runtime.Runtime, conn: Any, label: str | None) -> None:
        """The transaction committed: fire the after-faults of its statements, then of ``label``."""
        labels: list[str] = []
        if conn is not None:
            st = self.state(conn)
            labels = list(st.pending)
            st.reset()
        with calling(self.name):
            for lab in labels:
                rt.after_point(lab)
            if label is not None:
                rt.after_point(label)

    def rolled_back(self, conn: Any) -> None:
        self.state(conn).reset()

    def savepoint(self, conn: Any, name: str) -> None:
        """A savepoint the driver set by itself (not through a statement racecheck saw)."""
        self.state(conn).savepoint(name)

    def savepoint_done(self, conn: Any, name: str, rolled_back: bool) -> None:
        """The driver rolled back to (``rolled_back``) and released, or just released, a savepoint."""
        st = self.state(conn)
        if rolled_back:
            st.rollback_to(name)
        st.release(name)

    # -- commits (a commit() method, the end of a transaction block) ---------------------------
    def commit_begin(self, rt: _runtime.Runtime, conn: Any) -> int:
        self.register(rt, conn)
        before = self.status(conn)
        with calling(self.name):
            rt.at_point("sql:COMMIT", h.SQL, statement="COMMIT")
        return before

    async def commit_begin_async(self, rt: _runtime.Runtime, conn: Any) -> int:
        self.register(rt, conn)
        before = self.status(conn)
        with calling(self.name):
            await rt.at_point_async("sql:COMMIT", h.SQL, statement="COMMIT")
        return before

    def commit_failed(self, rt: _runtime.Runtime, conn: Any, exc: BaseException) -> None:
        self.rolled_back(conn)
        record_failure(rt, h.SQL, "sql:COMMIT", "statement", "COMMIT", exc)

    def commit_done(self, rt: _runtime.Runtime, conn: Any, before: int) -> None:
        st = self.state(conn)
        if before == INERROR or st.failed:  # COMMIT of a failed transaction is a rollback
            self.rolled_back(conn)
            return
        self.committed(rt, conn, "sql:COMMIT")

    # -- wrapping a statement or a commit-like call: what every SQL driver's patch calls ---------
    def run_statement(self, rt: _runtime.Runtime, conn: Any, text: str, payload: dict[str, Any],
                      call: Callable[[], Any], rows: Rows) -> Any:
        """A statement: its point (faults before it fire), the call, its rows, its after phase."""
        text = statement_text(text)
        label, before = self.begin(rt, conn, text, **payload)
        try:
            result = call()
        except Exception as exc:
            self.failed(rt, conn, label, text, exc)
            raise
        self.done(rt, conn, label, text, before, rows(result))
        return result

    async def run_statement_async(self, rt: _runtime.Runtime, conn: Any, text: str, payload: dict[str, Any],
                                  call: Callable[[], Awaitable[Any]], rows: Rows) -> Any:
        text = statement_text(text)
        label, before = await self.begin_async(rt, conn, text, **payload)
        try:
            result = await call()
        except Exception as exc:
            self.failed(rt, conn, label, text, exc)
            raise
        self.done(rt, conn, label, text, before, rows(result))
        return result

    def run_commit(self, rt: _runtime.Runtime, conn: Any, call: Callable[[], Any]) -> Any:
        before = self.commit_begin(rt, conn)
        try:
            result = call()
        except Exception as exc:
            self.commit_failed(rt, conn, exc)
            raise
        self.commit_done(rt, conn, before)
        return result

    async def run_commit_async(self, rt: _runtime.Runtime, conn: Any, call: Callable[[], Awaitable[Any]]) -> Any:
        before = await self.commit_begin_async(rt, conn)
        try:
            result = await call()
        except Exception as exc:
            self.commit_failed(rt, conn, exc)
            raise
        self.commit_done(rt, conn, before)
        return result
