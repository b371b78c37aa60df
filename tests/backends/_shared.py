"""Helpers for the backends tests: the machine's shared servers (never reset, flushed or stopped)."""

from __future__ import annotations

import os

SHARED_PG_URL = os.environ.get("RACECHECK_TEST_SHARED_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
SHARED_REDIS_URL = os.environ.get("RACECHECK_TEST_SHARED_REDIS", "redis://127.0.0.1:6379/0")
