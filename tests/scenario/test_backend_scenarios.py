"""Scenarios with real backends: postgres schema + migrations + SQL checks, redis key checks (both directions)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from helpers import HERE, write_scenario

from racecheck.cli import main

PG_COMMON = """
args: [abc]
n: 3
strategy: random
seed: 5
"""


def test_postgres_scenarios_both_ways(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The check-then-insert review request is caught by rows_unique; the unique-index variant passes every SQL check."""
    shutil.copy(HERE / "backend_targets.py", tmp_path / "backend_targets.py")
    (tmp_path / "schema.sql").write_text(
        "create table review (id serial primary key, sha text not null, status text not null);\n")
    (tmp_path / "unique.sql").write_text("create unique index review_sha on review (sha);\n")
    buggy = write_scenario(tmp_path, "buggy", f"""
        name: pg-duplicate-review-caught
        target: backend_targets:request_review
        trials: 20
        {PG_COMMON.strip().replace(chr(10), chr(10) + ' ' * 8)}
        backends:
          postgres: {{schema: schema.sql}}
        invariants:
          - rows_unique: "select sha from review"
        expect: violation
        expect_invariant: rows_unique
        """)
    fixed = write_scenario(tmp_path, "fixed", f"""
        name: pg-one-review
        target: backend_targets:request_review_fixed
        trials: 5
        {PG_COMMON.strip().replace(chr(10), chr(10) + ' ' * 8)}
        backends:
          postgres: {{schema: schema.sql, migrations: [unique.sql]}}
        invariants:
          - rows_unique: "select sha from review"
          - sql_count: {{sql: "select id from review", equals: 1}}
          - no_stuck: "select id from review where status = 'queued'"
          - no_exceptions
        """)
    code = main(["run", str(buggy), str(fixed)])
    out = capsys.readouterr().out
    assert re.search(r"^CAUGHT +pg-duplicate-review-caught: .*rows_unique", out, re.M), out
    assert re.search(r"^PASS +pg-one-review: no violation in 5/5 trials", out, re.M), out
    assert code == 0


def test_redis_keys_check_both_ways(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """redis_keys catches a lock left behind (passed the URL via url_kwarg) and passes when the lock is released."""
    shutil.copy(HERE / "backend_targets.py", tmp_path / "backend_targets.py")
    body = """
        name: {name}
        target: backend_targets:{fn}
        n: 2
        trials: 3
        backends:
          redis: {{url_kwarg: redis_url}}
        invariants:
          - redis_keys: {{pattern: "lock:*", count: 0}}
        expect: {expect}
        """
    a = write_scenario(tmp_path, "leak", body.format(name="redis-leak-caught", fn="take_lock_leaky", expect="violation"))
    b = write_scenario(tmp_path, "ok", body.format(name="redis-released", fn="take_lock", expect="pass"))
    code = main(["run", str(a), str(b)])
    out = capsys.readouterr().out
    assert re.search(r"^CAUGHT +redis-leak-caught: .*redis_keys", out, re.M), out
    assert re.search(r"^PASS +redis-released", out, re.M), out
    assert code == 0
