"""No output racecheck writes holds a password: terminal, JSON, JUnit, HTML, pytest junitxml, manifests.

The servers are racecheck's own (they need their generated password), handed to the run as
URL providers, so a masked URL would not even connect: the runs prove the real one was used.
"""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from racecheck.backends import provide_postgres, provide_redis
from racecheck.redact import redact

ROOT = Path(__file__).resolve().parents[2]

TARGETS = '''
import os

import psycopg
import redis

import racecheck


def setup():
    pass


def effect(key):
    """spied: one call per claim that won"""


def claim_pg(url=None):
    """check-then-act on Postgres: the URL (with its password) is an argument, so in the history"""
    with psycopg.connect(url or os.environ["DATABASE_URL"], autocommit=True) as conn:
        # no DDL here: four concurrent CREATE TABLE IF NOT EXISTS can fail all but one
        # trigger (a unique violation in pg_type), and then at_most_once holds
        conn.execute("select 1").fetchone()
        racecheck.point("checked")
        conn.execute("select 2").fetchone()
        effect("j")  # every trigger claims: at_most_once breaks in every trial
    raise RuntimeError(f"could not finish claim at {url}")


def claim_redis(url=None):
    c = redis.Redis.from_url(url or os.environ["REDIS_URL"])
    c.get("claimed")
    racecheck.point("checked")
    c.set("claimed", "1")
    effect("j")  # every trigger claims: at_most_once breaks in every trial
    return os.environ["REDIS_URL"]
'''

SCENARIOS = '''
scenarios:
  - name: secret-pg-buggy
    target: secret_targets:claim_pg
    n: 4
    trials: 5
    seed: 1
    backends: {postgres: {url_kwarg: url}}
    spies: [{target: "secret_targets:effect", key: "key"}]
    invariants: [{at_most_once: effect}]
    expect: pass
  - name: secret-redis-buggy
    target: secret_targets:claim_redis
    n: 4
    trials: 5
    seed: 1
    backends: {redis: {url_kwarg: url}}
    spies: [{target: "secret_targets:effect", key: "key"}]
    invariants: [{at_most_once: effect}]
    expect: pass
'''

PYTEST_FILE = '''
import os

import racecheck


def test_pg_url_in_a_failure(race_postgres):
    url = race_postgres.url
    print("connecting to", url)
    assert url == "something else", f"unexpected {url}"


def test_redis_url_in_a_failure(race_redis):
    print("redis at", race_redis.url, os.environ.get("RACECHECK_REDIS_URL"))
    raise RuntimeError(f"cannot talk to {race_redis.url}")
'''


@pytest.fixture(scope="module")
def servers():
    pg = provide_postgres(providers=["local", "embedded"])
    rs = provide_redis(providers=["local", "embedded"], require_real=True)
    yield pg, rs
    rs.close()
    pg.close()


def _passwords(*urls: str) -> list[str]:
    out = [urlsplit(u).password for u in urls]
    assert all(out)
    return [p for p in out if p]


def _leaks(passwords: list[str], texts: dict[str, str]) -> list[str]:
    return [f"{name} holds {pw[:3]}..." for name, text in texts.items() for pw in passwords if pw in text]


def _files(root: Path) -> dict[str, str]:
    return {str(p): p.read_text(errors="replace") for p in root.rglob("*") if p.is_file()}


def test_redact_masks_urls_dsns_and_env_assignments():
    assert redact("postgresql://u:hunter2@h:5/db") == "postgresql://u:***@h:5/db"
    assert redact("redis://:pw-xyz@127.0.0.1:1/0") == "redis://:***@127.0.0.1:1/0"
    assert redact("host=h password=s3cr3t dbname=x") == "host=h password=*** dbname=x"
    assert redact("PGPASSWORD=abcd1234 cmd") == "PGPASSWORD=*** cmd"
    assert redact("http://example.com:8080/path@x") == "http://example.com:8080/path@x"


def test_cli_outputs_hold_no_password(servers, tmp_path):
    pg, rs = servers
    pg_url, redis_url = pg.url, rs.database().url
    passwords = _passwords(pg_url, redis_url)
    (tmp_path / "secret_targets.py").write_text(TARGETS)
    (tmp_path / "secret.race.yaml").write_text(SCENARIOS)
    out = tmp_path / "out"
    env = dict(os.environ, RACECHECK_PROVIDERS="url", RACECHECK_POSTGRES_URL=pg_url,
               RACECHECK_REDIS_URL=redis_url, PYTHONPATH=f"{ROOT}{os.pathsep}{tmp_path}")
    for jobs in ("1", "2"):
        proc = subprocess.run(
            [sys.executable, "-m", "racecheck.cli", "run", str(tmp_path / "secret.race.yaml"),
             "--allow-reset", "-j", jobs, "--json", str(out / f"r{jobs}.json"),
             "--junit", str(out / f"r{jobs}.xml"), "--report-dir", str(out / f"html{jobs}")],
            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
        # both scenarios ran against the URL servers and broke at_most_once (exit 1, not 3)
        assert proc.returncode == 1, proc.stdout + proc.stderr
        doc = json.loads((out / f"r{jobs}.json").read_text())
        assert {s["status"] for s in doc["scenarios"]} == {"unexpected-violation"}, [
            (s["scenario"], s["message"], s["result"].get("aborted")) for s in doc["scenarios"]]
        assert list((out / f"html{jobs}").glob("*.html"))
        assert _leaks(passwords, {"stdout": proc.stdout, "stderr": proc.stderr, **_files(out)}) == []
    proc = subprocess.run([sys.executable, "-m", "racecheck.cli", "backends"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120)
    assert _leaks(passwords, {"backends stdout": proc.stdout, "stderr": proc.stderr}) == []


def test_pytest_outputs_hold_no_password(servers, tmp_path):
    pg, rs = servers
    pg_url, redis_url = pg.url, rs.url
    passwords = _passwords(pg_url, redis_url)
    (tmp_path / "secret_targets.py").write_text(TARGETS)
    (tmp_path / "secret.race.yaml").write_text(SCENARIOS)
    (tmp_path / "test_secret.py").write_text(textwrap.dedent(PYTEST_FILE))
    env = dict(os.environ, RACECHECK_PROVIDERS="url", RACECHECK_POSTGRES_URL=pg_url,
               RACECHECK_REDIS_URL=redis_url, PYTHONPATH=f"{ROOT}{os.pathsep}{tmp_path}")
    env.pop("PYTEST_XDIST_WORKER", None)
    env["RACECHECK_ALLOW_RESET"] = "1"  # the scenario items reset the URL servers too
    for extra in ([], ["-n", "2"]):
        xml = tmp_path / f"junit{len(extra)}.xml"
        proc = subprocess.run(
            [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--racecheck-allow-reset",
             "-rA", "--junitxml", str(xml), *extra, str(tmp_path)],
            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
        assert proc.returncode == 1, proc.stdout + proc.stderr
        assert "4 failed" in proc.stdout, proc.stdout
        assert _leaks(passwords, {"stdout": proc.stdout, "stderr": proc.stderr,
                                  "junitxml": xml.read_text()}) == []


CHILD = '''
import sys, time
from racecheck.backends import provide_postgres
srv = provide_postgres(url=sys.argv[1], providers=["url"])
db = srv.database()
print(db.dbname, flush=True)
time.sleep(60)
'''


def test_manifest_is_private_and_the_watchdog_still_drops_foreign_databases(servers, tmp_path):
    """The session manifest (0600) holds the foreign URL masked; the watchdog learned the real one
    over its pipe, so after a SIGKILL it still drops the database (a masked URL could not connect)."""
    pg, _ = servers
    url = pg.url
    (password,) = _passwords(url)
    env = dict(os.environ, RACECHECK_TMPDIR=str(tmp_path / "rt"), PYTHONPATH=str(ROOT))
    child = subprocess.Popen([sys.executable, "-c", CHILD, url], env=env, stdout=subprocess.PIPE,
                             text=True)
    try:
        assert child.stdout is not None
        dbname = child.stdout.readline().strip()
        assert dbname.startswith("racecheck_")
        (manifest,) = (tmp_path / "rt").glob("s-*/manifest.json")
        assert stat.S_IMODE(manifest.stat().st_mode) == 0o600
        text = manifest.read_text()
        assert dbname in text and password not in text
        assert pg.admin("select count(*) from pg_database where datname = %s", (dbname,)) == [(1,)]
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if pg.admin("select count(*) from pg_database where datname = %s", (dbname,)) == [(0,)]:
            break
        time.sleep(0.2)
    assert pg.admin("select count(*) from pg_database where datname = %s", (dbname,)) == [(0,)]
