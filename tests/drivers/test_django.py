"""A small Django project on psycopg2 and on psycopg 3: races under pct, faults through transaction.atomic().

Django picks its driver when it is imported (psycopg 3 when importable), so each driver
runs in a process of its own (``django_app/run_cases.py``); for psycopg2 that process
hides psycopg 3 first, as in a project that only installed psycopg2.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


@pytest.fixture(scope="module", params=["psycopg2", "psycopg"])
def results(request, race_postgres_server) -> dict:
    db = race_postgres_server.database()
    try:
        env = dict(os.environ, PYTHONPATH=os.pathsep.join([ROOT, os.environ.get("PYTHONPATH", "")]))
        proc = subprocess.run([sys.executable, os.path.join(HERE, "django_app", "run_cases.py"),
                               request.param, db.url], capture_output=True, text=True, env=env,
                              timeout=600)
    finally:
        db.close()
    line = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")]
    assert proc.returncode == 0 and line, proc.stderr[-3000:]
    out = json.loads(line[-1][len("RESULT "):])
    out["want"] = request.param
    return out


def test_django_uses_the_driver_the_project_has(results):
    assert results["dbapi"] == results["want"]


def test_lost_update_through_the_orm_is_caught_under_pct(results):
    assert None not in results["lost_update"], results["lost_update"]


def test_claim_without_select_for_update_is_caught(results):
    assert None not in results["claim"], results["claim"]


def test_fixed_forms_pass_200_pct_trials(results):
    for case in ("increment_fixed", "claim_fixed"):
        r = results[case]
        assert r["ok"] and r["trials"] == 200 and r["sql"] > 0, (case, r)


def test_db_error_before_the_insert_sends_nothing(results):
    r = results["before"]
    assert r["error"] == "django.db.utils.IntegrityError" and r["faults"] == ["before"] and r["rows"] == []


@pytest.mark.parametrize("case", ["after_atomic", "after_autocommit"])
def test_db_error_after_commit_leaves_the_row_committed(results, case):
    """transaction.atomic() (and autocommit) commit, then the view sees an OperationalError."""
    r = results[case]
    assert r["error"] == "django.db.utils.OperationalError" and r["faults"] == ["after"]
    assert r["rows"] == [case.removeprefix("after_")]


def test_nested_atomic_commits_the_outer_row_and_fires_its_after_fault(results):
    r = results["nested_outer"]
    assert r["error"] == "django.db.utils.OperationalError" and r["faults"] == ["after"], r
    assert r["rows"] == ["outer"]


def test_nested_atomic_rolled_back_savepoint_never_reaches_its_after_phase(results):
    """The inner INSERT ran inside a savepoint that was rolled back: its after-commit fault never fires."""
    r = results["nested_inner"]
    assert r["ok"] and r["error"] is None and r["faults"] == [] and r["rows"] == ["outer"], r
    assert any(s.startswith("SAVEPOINT") for s in r["savepoint_sql"]), r["savepoint_sql"]
    assert any(s.startswith("ROLLBACK TO SAVEPOINT") for s in r["savepoint_sql"]), r["savepoint_sql"]
