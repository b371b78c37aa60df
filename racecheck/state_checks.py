"""State checks: invariants over the records a trial left behind (SQL rows, Redis keys).

One vocabulary for Python, YAML scenarios and systems in any language:

=================  ====================================================  ===========
check              violated when                                         YAML kind
=================  ====================================================  ===========
``NoRows``         the query returns any row (write it to select what    ``no_rows``
                   must not exist: stuck or duplicated records)
``RowCount``       the number of rows the query returns is out of bounds ``sql_count``
``SqlValue``       the first column of the first row is out of bounds    (Python)
                   (``select count(*) ...``)
``RowsUnique``     the query returns a row twice                         ``rows_unique``
``RedisKeys``      the number of keys matching a pattern is out of       ``redis_keys``
                   bounds
=================  ====================================================  ===========

Bounds are always ``equals`` / ``at_least`` / ``at_most``. A *source* says where to look:
a URL, a callable returning one (for URLs known only once servers run), a handle with
``execute(sql)`` (Postgres) or ``client()`` (Redis), or ``(mapping, name)`` to read the
handle from a mapping filled later (the scenario runner provisions backends after it
validated the file). Drivers are imported only when a check runs.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .errors import ConfigError
from .invariants import Violation

if TYPE_CHECKING:
    from .result import TrialRecord

Source = Any  # str | Callable[[], str] | handle | tuple[Mapping[str, Any], str]


def _handle(source: Source) -> Any:
    if isinstance(source, tuple) and len(source) == 2 and isinstance(source[0], Mapping):
        mapping, name = source
        if name not in mapping:
            raise ConfigError(f"state check needs the {name!r} backend, which this run did not provide")
        return mapping[name]
    if callable(source) and not hasattr(source, "execute") and not hasattr(source, "client"):
        return source()
    return source


def sql_rows(source: Source, sql: str) -> list[tuple[Any, ...]]:
    """The rows ``sql`` returns from the Postgres ``source``."""
    handle = _handle(source)
    if isinstance(handle, str):
        import psycopg

        with psycopg.connect(handle, autocommit=True, connect_timeout=10) as conn:
            return [tuple(r) for r in conn.execute(sql).fetchall()]
    return [tuple(r) for r in handle.execute(sql)]


def redis_key_names(source: Source, pattern: str) -> list[str]:
    """The keys matching ``pattern`` in the Redis ``source``, sorted."""
    handle = _handle(source)
    if not isinstance(handle, str) and not hasattr(handle, "client") and hasattr(handle, "url"):
        handle = handle.url
    if isinstance(handle, str):
        import redis

        client = redis.Redis.from_url(handle, socket_timeout=10, retry_on_timeout=False)
    else:
        client = handle.client() if hasattr(handle, "client") else handle
    try:
        return sorted(k.decode("utf-8", "replace") if isinstance(k, bytes) else str(k)
                      for k in client.scan_iter(match=pattern, count=500))
    finally:
        if client is not handle:
            close = getattr(client, "close", None)
            if close is not None:
                close()


@dataclass(frozen=True)
class Bounds:
    """``equals`` alone, or ``at_least`` and/or ``at_most``; validated when built."""

    equals: int | None = None
    at_least: int | None = None
    at_most: int | None = None

    @classmethod
    def of(cls, what: str, equals: int | None, at_least: int | None, at_most: int | None) -> Bounds:
        if equals is not None and (at_least is not None or at_most is not None):
            raise ConfigError(f"{what}: give 'equals' or 'at_least'/'at_most', not both")
        if equals is None and at_least is None and at_most is None:
            raise ConfigError(f"{what}: give at least one of 'equals', 'at_least', 'at_most'")
        if at_least is not None and at_most is not None and at_least > at_most:
            raise ConfigError(f"{what}: at_least {at_least} is greater than at_most {at_most}")
        return cls(equals, at_least, at_most)

    def outside(self, value: int) -> str | None:
        """None when ``value`` is within bounds, else ``"<value>, expected ..."``."""
        if self.equals is not None and value != self.equals:
            return f"{value}, expected exactly {self.equals}"
        if self.at_least is not None and value < self.at_least:
            return f"{value}, expected at least {self.at_least}"
        if self.at_most is not None and value > self.at_most:
            return f"{value}, expected at most {self.at_most}"
        return None


def _shown(items: Iterable[Any], limit: int = 5) -> str:
    items = list(items)
    return ", ".join(items[:limit]) + (" ..." if len(items) > limit else "")


class NoRows:
    """Every row ``sql`` returns is a violation (e.g. ``SELECT id FROM t WHERE status='queued'``)."""

    def __init__(self, source: Source, sql: str, name: str = "no_rows", describe: str = "") -> None:
        if not sql.strip():
            raise ConfigError(f"state check {name!r} has an empty query; "
                              "write one that selects the rows that must not exist")
        self.source, self.sql, self.name, self.describe = source, sql, name, describe

    def check(self, trial: TrialRecord) -> list[Violation]:
        rows = sql_rows(self.source, self.sql)
        if not rows:
            return []
        shown = _shown(repr(r if len(r) > 1 else r[0]) for r in rows)
        what = self.describe or f"query {self.sql.strip()!r}"
        return [Violation(self.name, f"{len(rows)} row(s) violate {what}: {shown}",
                          tuple(str(r[0]) for r in rows[:20] if r))]


class RowCount:
    """The number of rows ``sql`` returns lies within bounds (write ``select id ...``)."""

    def __init__(self, source: Source, sql: str, equals: int | None = None, at_least: int | None = None,
                 at_most: int | None = None, name: str = "sql_count") -> None:
        self.bounds = Bounds.of(f"state check {name!r}", equals, at_least, at_most)
        self.source, self.sql, self.name = source, sql, name

    def check(self, trial: TrialRecord) -> list[Violation]:
        n = len(sql_rows(self.source, self.sql))
        bad = self.bounds.outside(n)
        if bad is None:
            return []
        expected = bad.partition(", ")[2]
        return [Violation(self.name, f"{self.sql.strip()!r} returned {n} row(s); {expected}")]


class SqlValue:
    """The first column of the first row of ``sql`` lies within bounds (``select count(*) ...``)."""

    def __init__(self, source: Source, sql: str, equals: int | None = None, at_least: int | None = None,
                 at_most: int | None = None, name: str = "sql_value") -> None:
        self.bounds = Bounds.of(f"state check {name!r}", equals, at_least, at_most)
        self.source, self.sql, self.name = source, sql, name

    def check(self, trial: TrialRecord) -> list[Violation]:
        rows = sql_rows(self.source, self.sql)
        value = int(rows[0][0]) if rows and rows[0] and rows[0][0] is not None else 0
        bad = self.bounds.outside(value)
        return [Violation(self.name, f"query {self.sql.strip()!r} returned {bad}")] if bad else []


class RowsUnique:
    """The rows ``sql`` returns hold no duplicate (``select sha from review``: one review per sha)."""

    def __init__(self, source: Source, sql: str, describe: str = "", name: str = "rows_unique") -> None:
        self.source, self.sql, self.describe, self.name = source, sql, describe, name

    def check(self, trial: TrialRecord) -> list[Violation]:
        counts = Counter(sql_rows(self.source, self.sql))
        dups = {row: c for row, c in counts.items() if c > 1}
        if not dups:
            return []
        shown = _shown(f"{row!r} x{c}" for row, c in dups.items())
        what = f" ({self.describe})" if self.describe else ""
        return [Violation(self.name, f"{len(dups)} duplicated row(s) in {self.sql!r}{what}: {shown}",
                          tuple(str(r) for r in list(dups)[:20]))]


class RedisKeys:
    """The number of Redis keys matching ``pattern`` lies within bounds (e.g. no lock left behind)."""

    def __init__(self, source: Source, pattern: str, equals: int | None = None, at_least: int | None = None,
                 at_most: int | None = None, name: str = "redis_keys") -> None:
        if not pattern:
            raise ConfigError(f"state check {name!r} has an empty key pattern; give one such as 'claim:*'")
        self.bounds = Bounds.of(f"state check {name!r}", equals, at_least, at_most)
        self.source, self.pattern, self.name = source, pattern, name

    def check(self, trial: TrialRecord) -> list[Violation]:
        keys = redis_key_names(self.source, self.pattern)
        bad = self.bounds.outside(len(keys))
        if not bad:
            return []
        return [Violation(self.name, f"keys matching {self.pattern!r}: {bad}" + (f" ({_shown(keys)})" if keys else ""),
                          tuple(keys[:20]))]


class RowsQuery:
    """A callable returning the rows of ``sql`` (what ``no_stuck`` takes)."""

    def __init__(self, source: Source, sql: str) -> None:
        self.source, self.sql = source, sql

    def __call__(self) -> list[tuple[Any, ...]]:
        return sql_rows(self.source, self.sql)


StateCheck = NoRows | RowCount | SqlValue | RowsUnique | RedisKeys
