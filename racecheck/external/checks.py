"""State checks for systems in any language, addressed by URL (see :mod:`racecheck.state_checks`).

``sql_check(url, query)``: every row the query returns is a violation. ``sql_value(url,
query, ...)`` (also ``sql_count``, its older name): the first column of the first row lies
within bounds, for ``SELECT count(*) ...``. ``redis_keys(url, pattern, ...)``: the number of
matching keys lies within bounds. ``min``/``max`` are accepted for ``at_least``/``at_most``.
"""

from __future__ import annotations

from collections.abc import Callable

from ..state_checks import NoRows, RedisKeys, SqlValue

Url = str | Callable[[], str]


def sql_check(url: Url, query: str, name: str = "sql", describe: str = "") -> NoRows:
    """Rows returned by ``query`` are violations (e.g. ``SELECT id FROM t WHERE status='queued'``)."""
    return NoRows(url, query, name, describe)


def sql_value(url: Url, query: str, equals: int | None = None, at_least: int | None = None,
              at_most: int | None = None, name: str = "sql_count", *, min: int | None = None,  # noqa: A002
              max: int | None = None) -> SqlValue:  # noqa: A002
    """The first column of the first row of ``query`` lies within bounds."""
    return SqlValue(url, query, equals, at_least if min is None else min, at_most if max is None else max, name)


sql_count = sql_value


def redis_keys(url: Url, pattern: str, equals: int | None = None, at_least: int | None = None,
               at_most: int | None = None, name: str = "redis_keys", *, min: int | None = None,  # noqa: A002
               max: int | None = None) -> RedisKeys:  # noqa: A002
    """The number of Redis keys matching ``pattern`` lies within bounds."""
    return RedisKeys(url, pattern, equals, at_least if min is None else min, at_most if max is None else max, name)
