"""Fixture factories in pytest-postgresql's style: make your own server and database fixtures.

```python
# conftest.py
from racecheck.backends import factories

pg_server = factories.postgres_proc(providers=["local", "embedded"])
orders_db = factories.postgres_db("pg_server", schema="create table orders (id int primary key)")
cache_server = factories.redis_proc(require_real=True)
cache = factories.redis_db("cache_server")
```

A ``*_proc`` fixture is one server for the session (per xdist worker), chosen by the provider
chain; a ``*_db`` fixture is a fresh database on it for each test, dropped (Postgres) or
flushed (Redis) first. ``race_postgres`` / ``race_redis`` are the ready-made pair.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from .errors import NoBackendError


def _server_fixture(provide: Callable[..., Any], scope: str, **kwargs: Any) -> Any:
    def server() -> Iterator[Any]:
        try:
            srv = provide(**kwargs)
        except NoBackendError as e:
            pytest.fail(str(e), pytrace=False)
        with srv:
            yield srv

    return pytest.fixture(scope=scope)(server)  # type: ignore[call-overload]


def postgres_proc(*, url: str | None = None, providers: list[str] | None = None, allow_reset: bool = False,
                  scope: str = "session") -> Any:
    """A fixture providing a PostgreSQL server (a ``PostgresServer``), closed at the end of ``scope``.

    Args:
        url: use this server instead of starting one (``postgresql://...``).
        providers: restrict the provider chain (``["local", "embedded", "docker"]``).
        allow_reset: allow destructive resets on a server racecheck did not start.
        scope: the fixture scope (``"session"``: one server per session and xdist worker).
    """
    from .providers import provide_postgres

    return _server_fixture(provide_postgres, scope, url=url, providers=providers, allow_reset=allow_reset)


def redis_proc(*, url: str | None = None, providers: list[str] | None = None, allow_reset: bool = False,
               require_real: bool = False, scope: str = "session") -> Any:
    """A fixture providing a Redis server (a ``RedisServer``), closed at the end of ``scope``.

    Args:
        url: use this server instead of starting one (``redis://...``).
        providers: restrict the provider chain (``["local", "embedded", "fakeredis"]``).
        allow_reset: allow ``FLUSHDB`` on a server racecheck did not start.
        require_real: refuse fakeredis (an emulation).
        scope: the fixture scope.
    """
    from .providers import provide_redis

    return _server_fixture(provide_redis, scope, url=url, providers=providers, allow_reset=allow_reset,
                           require_real=require_real)


def postgres_db(proc_fixture_name: str, *, schema: str | None = None, scope: str = "function") -> Any:
    """A fixture giving each test a fresh database (a ``PostgresDB``) on the server fixture named.

    Args:
        proc_fixture_name: the name of a ``postgres_proc`` fixture.
        schema: SQL run once to build the database (later databases are cloned from it).
        scope: the fixture scope (``"function"``: a new database per test).
    """

    def database(request: pytest.FixtureRequest) -> Iterator[Any]:
        server = request.getfixturevalue(proc_fixture_name)
        with server.database(schema=schema) as db:
            yield db

    return pytest.fixture(scope=scope)(database)  # type: ignore[call-overload]


def redis_db(proc_fixture_name: str, *, scope: str = "function") -> Any:
    """A fixture giving each test its own Redis database (a ``RedisDB``), flushed before it when
    racecheck may reset that server (it started it, or ``allow_reset``).

    Args:
        proc_fixture_name: the name of a ``redis_proc`` fixture.
        scope: the fixture scope.
    """

    def database(request: pytest.FixtureRequest) -> Iterator[Any]:
        server = request.getfixturevalue(proc_fixture_name)
        with server.database() as db:
            if server.allow_reset:  # owned servers, or --racecheck-allow-reset
                db.reset()
            yield db

    return pytest.fixture(scope=scope)(database)  # type: ignore[call-overload]
