"""Put ``tests/`` on sys.path so targets import as ``drivers.targets.*`` here and in spawned workers.

Servers come from racecheck's own fixtures (``race_postgres``: a fresh database per test;
``race_redis_real``: an isolated real Redis db). Drivers under test are the real ones.
"""

from __future__ import annotations

import os
import sys
import uuid

import pytest

_TESTS = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if _TESTS not in sys.path:
    sys.path.insert(0, _TESTS)


@pytest.fixture
def kvdb(race_redis_real):
    """``(url, prefix)``: keys under a prefix of their own on an isolated real Redis db."""
    from drivers.targets import kv

    prefix = race_redis_real.key(f"drv-{uuid.uuid4().hex[:8]}:")
    yield race_redis_real.url, prefix
    kv.reset(race_redis_real.url, prefix)()
