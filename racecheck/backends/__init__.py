"""Real PostgreSQL and Redis servers for racecheck: provider chain, per-trial isolation, no orphans.

Nothing here imports psycopg, redis, fakeredis or testcontainers at import
time; they are imported when a server is actually provided.
"""

from __future__ import annotations

from .errors import (
    BackendError,
    EmulatedBackendError,
    NoBackendError,
    NotOwnedError,
    ResetRefused,
)
from .postgres import OwnedPostgres, PostgresDB, PostgresServer
from .providers import (
    ALL_PROVIDERS,
    LAST_REPORTS,
    ProviderReport,
    describe_providers,
    plan,
    provide_postgres,
    provide_redis,
)
from .redis import OwnedRedis, RedisDB, RedisServer, make_client

__all__ = [
    "ALL_PROVIDERS",
    "LAST_REPORTS",
    "BackendError",
    "EmulatedBackendError",
    "NoBackendError",
    "NotOwnedError",
    "OwnedPostgres",
    "OwnedRedis",
    "PostgresDB",
    "PostgresServer",
    "ProviderReport",
    "RedisDB",
    "RedisServer",
    "ResetRefused",
    "describe_providers",
    "make_client",
    "plan",
    "provide_postgres",
    "provide_redis",
]
