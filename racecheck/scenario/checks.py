"""Invariants over backend state that scenarios declare in YAML (SQL queries, Redis keys).

Each takes a ``handles`` mapping filled when the backends are provisioned, so the same
objects can be built (and validated) before any server exists.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ..invariants import Violation

if TYPE_CHECKING:
    from ..result import TrialRecord


def _rows(handles: Mapping[str, Any], sql: str) -> list[tuple[Any, ...]]:
    db = handles["postgres"]
    return [tuple(r) for r in db.execute(sql)]


def _bounds(value: int, equals: int | None, at_least: int | None, at_most: int | None) -> str | None:
    if equals is not None and value != equals:
        return f"expected exactly {equals}"
    if at_least is not None and value < at_least:
        return f"expected at least {at_least}"
    if at_most is not None and value > at_most:
        return f"expected at most {at_most}"
    return None


class SqlQuery:
    """Rows returned by a SQL query (the ``no_stuck`` query callable)."""

    def __init__(self, handles: Mapping[str, Any], sql: str) -> None:
        self.handles, self.sql = handles, sql

    def __call__(self) -> list[tuple[Any, ...]]:
        return _rows(self.handles, self.sql)


class RowsUnique:
    """The query's rows hold no duplicate (e.g. ``select sha from review``: one review per sha)."""

    name = "rows_unique"

    def __init__(self, handles: Mapping[str, Any], sql: str, describe: str = "") -> None:
        self.handles, self.sql, self.describe = handles, sql, describe

    def check(self, trial: TrialRecord) -> list[Violation]:
        counts = Counter(_rows(self.handles, self.sql))
        dups = {row: c for row, c in counts.items() if c > 1}
        if not dups:
            return []
        shown = ", ".join(f"{row!r} x{c}" for row, c in list(dups.items())[:5])
        what = f" ({self.describe})" if self.describe else ""
        return [Violation(self.name, f"{len(dups)} duplicated row(s) in {self.sql!r}{what}: {shown}",
                          tuple(str(r) for r in list(dups)[:20]))]


class SqlCount:
    """The number of rows the query returns is within bounds (write ``select id ...``, not ``count(*)``)."""

    name = "sql_count"

    def __init__(self, handles: Mapping[str, Any], sql: str, equals: int | None = None,
                 at_least: int | None = None, at_most: int | None = None) -> None:
        self.handles, self.sql = handles, sql
        self.equals, self.at_least, self.at_most = equals, at_least, at_most

    def check(self, trial: TrialRecord) -> list[Violation]:
        n = len(_rows(self.handles, self.sql))
        problem = _bounds(n, self.equals, self.at_least, self.at_most)
        if problem is None:
            return []
        return [Violation(self.name, f"{self.sql!r} returned {n} row(s); {problem}")]


class RedisKeys:
    """The number of Redis keys matching ``pattern`` is within bounds (e.g. no lock left behind)."""

    name = "redis_keys"

    def __init__(self, handles: Mapping[str, Any], pattern: str, count: int | None = None,
                 at_least: int | None = None, at_most: int | None = None) -> None:
        self.handles, self.pattern = handles, pattern
        self.count, self.at_least, self.at_most = count, at_least, at_most

    def _keys(self) -> list[str]:
        handle = self.handles["redis"]
        if hasattr(handle, "client"):
            client = handle.client()
        else:
            import redis

            client = redis.Redis.from_url(handle.url)
        try:
            return sorted(k.decode() if isinstance(k, bytes) else str(k)
                          for k in client.scan_iter(match=self.pattern))
        finally:
            close = getattr(client, "close", None)
            if close is not None:
                close()

    def check(self, trial: TrialRecord) -> list[Violation]:
        keys = self._keys()
        problem = _bounds(len(keys), self.count, self.at_least, self.at_most)
        if problem is None:
            return []
        shown = ", ".join(keys[:5]) + (" ..." if len(keys) > 5 else "")
        return [Violation(self.name, f"{len(keys)} Redis key(s) match {self.pattern!r}; {problem}"
                          + (f": {shown}" if keys else ""), tuple(keys[:20]))]
