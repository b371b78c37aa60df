"""Seed-incident tests: put ``scenarios/`` on sys.path (workers inherit it) and hand URLs over by env."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"
if str(SCENARIOS) not in sys.path:
    sys.path.insert(0, str(SCENARIOS))


@pytest.fixture
def pg(race_postgres: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """A real Postgres database for one test, its URL in DATABASE_URL."""
    monkeypatch.setenv("DATABASE_URL", race_postgres.url)
    yield race_postgres


@pytest.fixture
def rds(race_redis_real: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """A real Redis db for one test (never an emulation), its URL in REDIS_URL."""
    monkeypatch.setenv("REDIS_URL", race_redis_real.url)
    yield race_redis_real

