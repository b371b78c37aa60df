"""Provider and server version in every output: the CLI's terminal summary, JSON, JUnit
<properties>, the HTML page, and the pytest summary line (also under xdist) and --junitxml."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

SCENARIO = """\
name: pg-select-passes
target: pg_target:touch
n: 2
trials: 2
strategy: random
seed: 1
backends: {postgres: {schema: "create table t (id int)"}}
expect: pass
"""

TARGET = """\
import os
import psycopg

def touch():
    with psycopg.connect(os.environ["DATABASE_URL"], autocommit=True) as conn:
        conn.execute("select count(*) from t").fetchone()
"""


@pytest.fixture(scope="module")
def cli_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[subprocess.CompletedProcess[str], Path]:
    d = tmp_path_factory.mktemp("versions")
    (d / "pg.race.yaml").write_text(SCENARIO)
    (d / "pg_target.py").write_text(TARGET)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "RACECHECK_PROVIDERS": "local"}
    proc = subprocess.run([sys.executable, "-m", "racecheck.cli", "run", str(d / "pg.race.yaml"),
                           "--json", str(d / "r.json"), "--junit", str(d / "r.xml")],
                          capture_output=True, text=True, env=env, timeout=300)
    return proc, d


def test_cli_summary_names_provider_and_version(cli_run: tuple[subprocess.CompletedProcess[str], Path]) -> None:
    proc, _ = cli_run
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "backends: postgres: PostgreSQL 1" in proc.stdout and "(local)" in proc.stdout


def test_json_names_provider_and_version(cli_run: tuple[subprocess.CompletedProcess[str], Path]) -> None:
    _, d = cli_run
    doc = json.loads((d / "r.json").read_text())
    pg = doc["scenarios"][0]["backends"]["postgres"]
    assert pg["provider"] == "local" and pg["version"].startswith("PostgreSQL ") and pg["emulated"] is False
    assert doc["backends"] == {"postgres": pg}


def test_junit_has_properties_with_version(cli_run: tuple[subprocess.CompletedProcess[str], Path]) -> None:
    _, d = cli_run
    root = ET.parse(d / "r.xml").getroot()
    suite_props = {p.get("name"): p.get("value") for p in root.find("testsuite/properties")}  # type: ignore[union-attr]
    assert suite_props["racecheck.version"]
    assert suite_props["backend.postgres"].startswith("PostgreSQL ") and "(local)" in suite_props["backend.postgres"]
    case_props = root.find("testsuite/testcase/properties")
    assert case_props is not None and case_props[0].get("name") == "backend.postgres"


def test_html_names_the_backends(tmp_path: Path) -> None:
    from racecheck.report import render_html

    from .helpers import small_result

    html = render_html(small_result(), backends={"redis": {"provider": "embedded", "version": "Valkey 9.0",
                                                           "emulated": False}})
    assert '<div id=backends><dt>backends</dt><dd>redis: Valkey 9.0 (embedded)</dd></div>' in html
    plain = render_html(small_result(), backends={})
    assert "none provided by racecheck" in plain


PYTEST_PROJECT = """\
def test_uses_postgres(race_postgres):
    assert race_postgres.execute("select 1") == [(1,)]

def test_uses_postgres_again(race_postgres):
    assert race_postgres.execute("select 2") == [(2,)]
"""


@pytest.mark.parametrize("xdist", [[], ["-n", "2"]], ids=["no-xdist", "xdist"])
def test_pytest_summary_and_junitxml_name_the_backend(pytester: pytest.Pytester, xdist: list[str]) -> None:
    pytester.makepyfile(test_pg=PYTEST_PROJECT)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--racecheck-providers=local",
                                           "--junitxml=out.xml", *xdist)
    result.assert_outcomes(passed=2)
    out = result.stdout.str()
    assert "racecheck backends" in out
    lines = [ln for ln in out.splitlines() if ln.startswith("racecheck postgres: local")]
    assert len(lines) == 1, out  # both workers used a local server: said once
    assert "PostgreSQL" in lines[0]
    props = {p.get("name"): p.get("value") for p in ET.parse(pytester.path / "out.xml").getroot().iter("property")}
    assert props["racecheck.backend.postgres"].startswith("local")


def test_pytest_summary_absent_when_no_backend_was_used(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_plain=textwrap.dedent("""\
        def test_nothing():
            assert True
    """))
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-n", "2")
    result.assert_outcomes(passed=1)
    assert "racecheck backends" not in result.stdout.str()
