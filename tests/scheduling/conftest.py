"""Put ``tests/`` on sys.path (targets import as ``scheduling.targets``) and give a private Postgres database."""

from __future__ import annotations

import os
import sys
import uuid
from collections.abc import Iterator

import pytest

_TESTS = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if _TESTS not in sys.path:
    sys.path.insert(0, _TESTS)

SHARED_PG = os.environ.get("RACECHECK_TEST_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """A database of our own on the shared server (created here, dropped after); skip if unreachable."""
    psycopg = pytest.importorskip("psycopg")
    name = f"racecheck_sched_{uuid.uuid4().hex[:10]}"
    try:
        admin = psycopg.connect(SHARED_PG, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as exc:
        pytest.skip(f"no Postgres at {SHARED_PG}: {exc}")
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    url = SHARED_PG.rsplit("/", 1)[0] + "/" + name
    try:
        yield url
    finally:
        with psycopg.connect(SHARED_PG, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
