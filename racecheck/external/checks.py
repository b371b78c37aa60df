"""Invariants over records a system under test wrote, checked after each trial (and its recovery).

``sql_check(url, query)``: every row the query returns is a violation (write the query to
select what must not exist: duplicates, stuck rows). ``sql_count(url, query, ...)``: the
first column of the first row must lie within bounds. ``redis_keys(url, pattern, ...)``:
the number of keys matching a pattern must lie within bounds.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..errors import ConfigError
from ..invariants import Violation

if TYPE_CHECKING:
    from ..result import TrialRecord

Url = str | Callable[[], str]


def _resolve(url: Url) -> str:
    return url() if callable(url) else url


def _bounds(what: str, equals: int | None, min: int | None, max: int | None) -> tuple[int | None, int | None]:  # noqa: A002
    if equals is not None:
        if min is not None or max is not None:
            raise ConfigError(f"{what}: give 'equals' or 'min'/'max', not both")
        return equals, equals
    if min is None and max is None:
        raise ConfigError(f"{what}: give at least one of 'equals', 'min', 'max'")
    if min is not None and max is not None and min > max:
        raise ConfigError(f"{what}: min {min} is greater than max {max}")
    return min, max


def _outside(value: int, lo: int | None, hi: int | None) -> str | None:
    if lo is not None and hi is not None and lo == hi and value != lo:
        return f"{value}, expected exactly {lo}"
    if lo is not None and value < lo:
        return f"{value}, expected at least {lo}"
    if hi is not None and value > hi:
        return f"{value}, expected at most {hi}"
    return None


def _sql_rows(url: str, query: str) -> list[tuple[Any, ...]]:
    import psycopg

    with psycopg.connect(url, autocommit=True, connect_timeout=10) as conn:
        return [tuple(r) for r in conn.execute(query).fetchall()]


class SqlCheck:
    """Rows returned by ``query`` are violations (e.g. ``SELECT id FROM t WHERE status='queued'``)."""

    def __init__(self, url: Url, query: str, name: str = "sql", describe: str = "") -> None:
        if not query.strip():
            raise ConfigError(f"sql check {name!r} has an empty query; write one that selects the rows that must not exist")
        self.url, self.query, self.name, self.describe = url, query, name, describe

    def check(self, trial: TrialRecord) -> list[Violation]:
        rows = _sql_rows(_resolve(self.url), self.query)
        if not rows:
            return []
        shown = ", ".join(repr(r if len(r) > 1 else r[0]) for r in rows[:5]) + (" ..." if len(rows) > 5 else "")
        what = self.describe or f"query {self.query.strip()!r}"
        return [Violation(self.name, f"{len(rows)} row(s) violate {what}: {shown}",
                          tuple(str(r[0]) for r in rows[:20] if r))]


class SqlCount:
    """The first column of the first row of ``query`` lies within bounds."""

    def __init__(self, url: Url, query: str, equals: int | None = None, min: int | None = None,  # noqa: A002
                 max: int | None = None, name: str = "sql_count") -> None:  # noqa: A002
        self.lo, self.hi = _bounds(f"sql count {name!r}", equals, min, max)
        self.url, self.query, self.name = url, query, name

    def check(self, trial: TrialRecord) -> list[Violation]:
        rows = _sql_rows(_resolve(self.url), self.query)
        value = int(rows[0][0]) if rows and rows[0] and rows[0][0] is not None else 0
        bad = _outside(value, self.lo, self.hi)
        return [Violation(self.name, f"query {self.query.strip()!r} returned {bad}")] if bad else []


class RedisKeys:
    """The number of Redis keys matching ``pattern`` lies within bounds."""

    def __init__(self, url: Url, pattern: str, equals: int | None = None, min: int | None = None,  # noqa: A002
                 max: int | None = None, name: str = "redis_keys") -> None:  # noqa: A002
        if not pattern:
            raise ConfigError(f"redis check {name!r} has an empty key pattern; give one such as 'claim:*'")
        self.lo, self.hi = _bounds(f"redis check {name!r}", equals, min, max)
        self.url, self.pattern, self.name = url, pattern, name

    def check(self, trial: TrialRecord) -> list[Violation]:
        import redis

        client = redis.Redis.from_url(_resolve(self.url), socket_timeout=10, retry_on_timeout=False)
        try:
            keys = sorted(k.decode("utf-8", "replace") if isinstance(k, bytes) else str(k)
                          for k in client.scan_iter(match=self.pattern, count=500))
        finally:
            client.close()
        bad = _outside(len(keys), self.lo, self.hi)
        if not bad:
            return []
        shown = ", ".join(keys[:5]) + (" ..." if len(keys) > 5 else "")
        return [Violation(self.name, f"keys matching {self.pattern!r}: {bad}" + (f" ({shown})" if keys else ""),
                          tuple(keys[:20]))]


def sql_check(url: Url, query: str, name: str = "sql", describe: str = "") -> SqlCheck:
    return SqlCheck(url, query, name, describe)


def sql_count(url: Url, query: str, equals: int | None = None, min: int | None = None,  # noqa: A002
              max: int | None = None, name: str = "sql_count") -> SqlCount:  # noqa: A002
    return SqlCount(url, query, equals, min, max, name)


def redis_keys(url: Url, pattern: str, equals: int | None = None, min: int | None = None,  # noqa: A002
               max: int | None = None, name: str = "redis_keys") -> RedisKeys:  # noqa: A002
    return RedisKeys(url, pattern, equals, min, max, name)
