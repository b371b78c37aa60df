"""Record checks in Postgres and Redis, and the service launcher that starts systems under test."""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Iterator

import pytest

import racecheck
from racecheck.errors import ConfigError
from racecheck.external import Service, ServiceError, redis_keys, sql_check, sql_count


def noop() -> None:
    return None


def test_sql_check_reports_rows_and_passes_when_none(pg_url: str) -> None:
    """Rows returned by the check's query are a violation; an empty result passes."""
    import psycopg

    with psycopg.connect(pg_url, autocommit=True) as c:
        c.execute("CREATE TABLE jobs (id text, status text)")
        c.execute("INSERT INTO jobs VALUES ('a', 'queued'), ('b', 'done')")
    stuck = sql_check(pg_url, "SELECT id FROM jobs WHERE status = 'queued'", name="no_stuck_jobs")
    bad = racecheck.run(noop, n=1, trials=1, invariants=[stuck])
    assert not bad.ok and "1 row(s) violate" in bad.first_failure.violations[0].message
    assert bad.first_failure.violations[0].keys == ("a",)
    fine = sql_check(pg_url, "SELECT id FROM jobs WHERE status = 'lost'")
    racecheck.run(noop, n=1, trials=1, invariants=[fine]).assert_ok()


def test_sql_count_bounds(pg_url: str) -> None:
    """sql_count compares the first value with equals/min/max both ways."""
    q = "SELECT count(*) FROM generate_series(1, 3)"
    racecheck.run(noop, n=1, trials=1, invariants=[sql_count(pg_url, q, equals=3)]).assert_ok()
    bad = racecheck.run(noop, n=1, trials=1, invariants=[sql_count(pg_url, q, max=2)])
    assert not bad.ok and "3, expected at most 2" in bad.first_failure.violations[0].message


@pytest.fixture
def redis_url() -> Iterator[str]:
    """A redis-server of our own on a free port (never the shared one)."""
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not on PATH")
    with Service(["redis-server", "--port", "{port}", "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
                 port_env="RACECHECK_UNUSED_PORT") as svc:
        yield f"redis://127.0.0.1:{svc.port}/0"


def test_redis_keys_counts_matching_keys(redis_url: str) -> None:
    """Two claim keys break 'at most 1' and satisfy 'equals 2'."""
    import redis

    client = redis.Redis.from_url(redis_url)
    client.set("claim:1", "w0")
    client.set("claim:2", "w1")
    client.set("other", "x")
    client.close()
    bad = racecheck.run(noop, n=1, trials=1, invariants=[redis_keys(redis_url, "claim:*", max=1)])
    assert not bad.ok and "claim:1, claim:2" in bad.first_failure.violations[0].message
    racecheck.run(noop, n=1, trials=1, invariants=[redis_keys(redis_url, "claim:*", equals=2)]).assert_ok()


def test_bad_bounds_are_refused() -> None:
    """A check with no bound, or with both equals and a range, is a ConfigError."""
    with pytest.raises(ConfigError):
        sql_count("postgresql://x/y", "SELECT 1")
    with pytest.raises(ConfigError):
        redis_keys("redis://x", "k*", equals=1, max=2)


def test_service_is_stopped_with_its_children() -> None:
    """Stopping a service kills its whole process group, including a child it started."""
    script = "import subprocess,sys,time,http.server,os; subprocess.Popen(['sleep','60']); " \
             "http.server.HTTPServer(('127.0.0.1', int(os.environ['PORT'])), http.server.BaseHTTPRequestHandler).serve_forever()"
    svc = Service([sys.executable, "-c", script]).start()
    pgid = svc.proc.pid if svc.proc else 0
    svc.stop()
    assert pgid and not alive_in_group(pgid)


def alive_in_group(pgid: int) -> list[int]:
    """Processes of group ``pgid`` that are not zombies (a killed child may wait a moment to be reaped)."""
    out = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            out.append(int(entry))
    return out


def test_service_that_exits_reports_its_output() -> None:
    """A service that dies before its port answers raises ServiceError with its output."""
    with pytest.raises(ServiceError, match="(?s)exited 4 before it was ready.*boom"):
        Service([sys.executable, "-c", "print('boom'); raise SystemExit(4)"]).start()
