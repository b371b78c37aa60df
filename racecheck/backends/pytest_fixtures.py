"""pytest fixtures for real backends; the racecheck plugin star-imports this module.

Session scope (one server per session, i.e. per xdist worker):
``race_postgres_server``, ``race_redis_server``.
Function scope (fresh per test): ``race_postgres`` (a :class:`PostgresDB`),
``race_redis`` (a :class:`RedisDB`), ``race_redis_real`` (refuses fakeredis).
A test marked ``racecheck_real_redis`` also refuses fakeredis: it fails with
a clear message instead of running on the emulation.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from .errors import EmulatedBackendError, NoBackendError
from .postgres import PostgresDB, PostgresServer
from .redis import RedisDB, RedisServer

__all__ = [
    "add_backend_options",
    "backend_configure",
    "backend_header_lines",
    "backend_summary_lines",
    "race_postgres",
    "race_postgres_server",
    "race_redis",
    "race_redis_real",
    "race_redis_server",
]

REAL_REDIS_MARKER = "racecheck_real_redis"

_OPTIONS = (
    # option, ini/dest, kind, help
    ("--racecheck-postgres-url", "racecheck_postgres_url", "string",
     "use this PostgreSQL server (env RACECHECK_POSTGRES_URL); racecheck creates and drops its own databases there"),
    ("--racecheck-redis-url", "racecheck_redis_url", "string",
     "use this Redis server (env RACECHECK_REDIS_URL); FLUSHDB there needs --racecheck-allow-reset"),
    ("--racecheck-allow-reset", "racecheck_allow_reset", "bool",
     "allow destructive resets (DROP DATABASE / FLUSHDB) on servers racecheck did not start"),
    ("--racecheck-providers", "racecheck_providers", "string",
     "comma list restricting the backend provider chain: url,local,embedded,docker,fakeredis "
     "(env RACECHECK_PROVIDERS)"),
)


def add_backend_options(parser: Any) -> None:
    """Register the backend command-line options and ini keys (call from pytest_addoption)."""
    group = parser.getgroup("racecheck-backends", "racecheck: backend servers")
    for opt, dest, kind, help_ in _OPTIONS:
        if kind == "bool":
            group.addoption(opt, dest=dest, action="store_true", default=None, help=help_)
            parser.addini(dest, help=help_, type="bool", default=False)
        else:
            group.addoption(opt, dest=dest, default=None, help=help_)
            parser.addini(dest, help=help_, default=None)


def backend_configure(config: Any) -> None:
    """Register the backend markers (call from pytest_configure)."""
    config.addinivalue_line(
        "markers", f"{REAL_REDIS_MARKER}: this test needs real Redis; fail rather than run on fakeredis")


def _setting(config: Any, dest: str) -> Any:
    val = None
    try:
        val = config.getoption(dest, default=None)
    except (ValueError, AttributeError):
        val = None
    if val in (None, ""):
        try:
            val = config.getini(dest)
        except (ValueError, KeyError):
            val = None
    return val if val not in ("", []) else None


def _settings(config: Any) -> dict[str, Any]:
    providers = _setting(config, "racecheck_providers")
    return {
        "pg_url": _setting(config, "racecheck_postgres_url"),
        "redis_url": _setting(config, "racecheck_redis_url"),
        "allow_reset": bool(_setting(config, "racecheck_allow_reset")),
        "providers": [p.strip() for p in str(providers).split(",") if p.strip()] if providers else None,
    }


# servers started in this process by the fixtures (for the header/summary)
_STARTED: dict[str, Any] = {}


def backend_header_lines(config: Any = None) -> list[str]:
    """Lines for the pytest header: the provider per kind; nothing is started for it."""
    from .providers import plan

    s = _settings(config) if config is not None else {"pg_url": None, "redis_url": None, "providers": None}
    lines = []
    for kind, u in (("postgres", s["pg_url"]), ("redis", s["redis_url"])):
        srv = _STARTED.get(kind)
        if srv is not None:
            emu = " [EMULATED]" if getattr(srv, "emulated", False) else ""
            lines.append(f"racecheck {kind}: {srv.provider}{emu} {srv.version} (started)")
            continue
        try:
            reports = plan(kind, url=u, providers=s["providers"])
        except Exception as e:  # noqa: BLE001 - never break the header
            lines.append(f"racecheck {kind}: not started (probe failed: {e})")
            continue
        chosen = [r for r in reports if r.status == "would use"]
        if chosen:
            r = chosen[0]
            emu = " [EMULATED]" if r.emulated else ""
            lines.append(f"racecheck {kind}: not started; provider {r.name}{emu} ({r.reason})")
        else:
            lines.append(f"racecheck {kind}: not started; no provider available (run `racecheck backends`)")
    return lines


def backend_summary_lines() -> list[str]:
    """What the fixtures actually used in this process (for a terminal summary)."""
    from .providers import LAST_REPORTS

    out = []
    for kind, reports in LAST_REPORTS.items():
        used = [r for r in reports if r.used]
        if used:
            emu = " [EMULATED]" if used[0].emulated else ""
            out.append(f"racecheck {kind}: {used[0].name}{emu}: {used[0].reason}")
    return out


@pytest.fixture(scope="session")
def race_postgres_server(request: pytest.FixtureRequest) -> Iterator[PostgresServer]:
    """A PostgreSQL server for the session (per xdist worker), from the provider chain."""
    from .providers import provide_postgres

    s = _settings(request.config)
    try:
        server = provide_postgres(url=s["pg_url"], allow_reset=s["allow_reset"], providers=s["providers"])
    except NoBackendError as e:
        pytest.fail(str(e), pytrace=False)
    _STARTED["postgres"] = server
    try:
        yield server
    finally:
        _STARTED.pop("postgres", None)
        server.close()


@pytest.fixture(scope="session")
def race_redis_server(request: pytest.FixtureRequest) -> Iterator[RedisServer]:
    """A Redis server for the session (per xdist worker); fakeredis only when nothing real exists."""
    from .providers import provide_redis

    s = _settings(request.config)
    try:
        server = provide_redis(url=s["redis_url"], allow_reset=s["allow_reset"], providers=s["providers"])
    except NoBackendError as e:
        pytest.fail(str(e), pytrace=False)
    _STARTED["redis"] = server
    try:
        yield server
    finally:
        _STARTED.pop("redis", None)
        server.close()


@pytest.fixture
def race_postgres(race_postgres_server: PostgresServer) -> Iterator[PostgresDB]:
    """A fresh PostgreSQL database for this test (cloned from an empty template); dropped after."""
    db = race_postgres_server.database()
    try:
        yield db
    finally:
        db.close()


def _refuse_emulated(server: RedisServer, why: str) -> None:
    if server.emulated:
        msg = (f"{why} but the only Redis available is {server.provider} (an EMULATION); "
               "install a real server (apt-get install redis-server, or pip install racecheck[embedded]) "
               "or pass --racecheck-redis-url")
        pytest.fail(str(EmulatedBackendError(msg)), pytrace=False)


@pytest.fixture
def race_redis(request: pytest.FixtureRequest, race_redis_server: RedisServer) -> Iterator[RedisDB]:
    """An isolated Redis db for this test, flushed before it runs (and after)."""
    if request.node.get_closest_marker(REAL_REDIS_MARKER) is not None:
        _refuse_emulated(race_redis_server, f"test is marked {REAL_REDIS_MARKER}")
    rdb = race_redis_server.database()
    if race_redis_server.allow_reset:
        rdb.reset()
    try:
        yield rdb
    finally:
        rdb.close()


@pytest.fixture
def race_redis_real(race_redis: RedisDB) -> RedisDB:
    """Like race_redis, but fails (never silently passes) when the Redis is fakeredis."""
    _refuse_emulated(race_redis.server, "test uses race_redis_real")
    return race_redis
