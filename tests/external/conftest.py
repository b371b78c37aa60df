"""Fixtures for testing systems outside Python: a Postgres database, the Node dispatcher, a Python one."""

from __future__ import annotations

import fcntl
import os
import secrets
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from racecheck.external import EffectSink, Service

ROOT = Path(__file__).resolve().parents[2]
NODE_DIR = ROOT / "examples" / "node-dispatcher"
SHARED_PG = os.environ.get("RACECHECK_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")


@pytest.fixture
def pg_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """A fresh database: the race_postgres fixture when the backends provide it, else one made on the shared server."""
    try:
        db = request.getfixturevalue("race_postgres")
    except pytest.FixtureLookupError:
        db = None
    if db is not None:
        yield str(db.url)
        return
    import psycopg

    name = f"racecheck_ext_{os.getpid()}_{secrets.token_hex(4)}"
    with psycopg.connect(SHARED_PG, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield SHARED_PG.rsplit("/", 1)[0] + "/" + name
    finally:
        with psycopg.connect(SHARED_PG, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def node_dispatcher() -> Path:
    """The Node dispatcher's folder with its npm dependencies installed (``npm ci`` once, under a lock)."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.skip("node/npm are not on PATH; install Node.js 20 to run the any-language demo")
    with open(NODE_DIR / ".npm-ci.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (NODE_DIR / "node_modules" / "pg").is_dir():
            subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=NODE_DIR, check=True,
                           stdout=subprocess.DEVNULL, timeout=300)
    return NODE_DIR


@pytest.fixture
def sink() -> Iterator[EffectSink]:
    """An effect sink on a free loopback port, stopped after the test."""
    with EffectSink() as s:
        yield s


def py_dispatcher(variant: str, reviewer_url: str) -> Service:
    """The in-test Python dispatcher service (tests/external/pydispatcher.py) for ``variant``."""
    return Service([sys.executable, str(Path(__file__).with_name("pydispatcher.py"))],
                   env={"VARIANT": variant, "REVIEWER_URL": reviewer_url}, ready="/health")
