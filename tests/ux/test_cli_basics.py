"""--version, validate's own help, `racecheck backends` exit codes and hints, a missing driver and a
bogus RACECHECK_* setting reported up front (before any server is started)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from racecheck.backends import NoBackendError, provide_postgres, provide_redis
from racecheck.backends import providers as prov
from racecheck.cli import main

ROOT = Path(__file__).resolve().parents[2]


def _cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    full = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
    return subprocess.run([sys.executable, "-m", "racecheck.cli", *args], capture_output=True, text=True,
                          env=full, timeout=120)


def test_version_prints_the_package_version(capsys: pytest.CaptureFixture[str]) -> None:
    from racecheck import __version__

    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"racecheck {__version__}"


def test_validate_help_speaks_of_valid_files_not_of_behaviour(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", "--help"]) == 0
    text = capsys.readouterr().out
    assert "behaved as expected" not in text
    assert "every scenario file is valid" in text and "does not validate" in text
    assert main(["run", "--help"]) == 0
    assert "behaved as expected" in capsys.readouterr().out  # run's help keeps its own meaning


def test_backends_exits_3_and_says_each_hint_once_when_a_kind_has_no_provider() -> None:
    proc = _cli("backends", env={"RACECHECK_PROVIDERS": "url", "RACECHECK_POSTGRES_URL": "",
                                 "RACECHECK_REDIS_URL": ""})
    assert proc.returncode == 3, proc.stdout + proc.stderr
    out = proc.stdout
    assert out.count("--racecheck-postgres-url") == 1 and out.count("--racecheck-redis-url") == 1
    assert "=> no PostgreSQL provider available" in out and "=> no Redis provider available" in out


def test_backends_exits_0_when_every_kind_has_a_provider() -> None:
    proc = _cli("backends", env={"RACECHECK_PROVIDERS": "local"})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.count("would use") == 2


def test_backends_names_a_bogus_pg_bindir_and_exits_2(tmp_path: Path) -> None:
    proc = _cli("backends", env={"RACECHECK_PG_BINDIR": str(tmp_path / "nope")})
    assert proc.returncode == 2
    assert f"RACECHECK_PG_BINDIR={tmp_path / 'nope'} is not a directory" in proc.stderr
    assert "or unset it" in proc.stderr


def test_bogus_pg_bindir_is_an_error_not_a_silent_fallback(monkeypatch: pytest.MonkeyPatch,
                                                          tmp_path: Path) -> None:
    monkeypatch.setenv("RACECHECK_PG_BINDIR", str(tmp_path))  # a folder, but no postgres in it
    monkeypatch.setattr(prov, "LAST_REPORTS", {})
    with pytest.raises(NoBackendError, match=r"RACECHECK_PG_BINDIR=.* has no executable postgres or initdb"):
        provide_postgres(providers=["local"])
    assert prov.LAST_REPORTS == {}  # raised before any provider was tried


def test_bogus_redis_server_setting_is_an_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("RACECHECK_REDIS_SERVER", str(tmp_path / "redis-server"))
    with pytest.raises(NoBackendError, match=r"RACECHECK_REDIS_SERVER=.* does not exist"):
        provide_redis(providers=["local"])


def test_a_good_pg_bindir_setting_is_used(monkeypatch: pytest.MonkeyPatch) -> None:
    from racecheck.backends.local import find_pg_bindir

    monkeypatch.delenv("RACECHECK_PG_BINDIR", raising=False)
    bindir, _ = find_pg_bindir()
    assert bindir is not None
    monkeypatch.setenv("RACECHECK_PG_BINDIR", str(bindir))
    from racecheck.backends.settings import setting_errors

    assert setting_errors() == []


def test_missing_driver_names_the_extra_before_any_server_starts(tmp_path: Path) -> None:
    script = tmp_path / "nodriver.py"
    script.write_text(
        "import sys\n"
        "sys.modules['psycopg'] = None  # as if psycopg were not installed\n"
        "from racecheck.backends import provide_postgres, providers\n"
        "try:\n"
        "    provide_postgres(providers=['local'])\n"
        "except Exception as e:\n"
        "    print(type(e).__name__, '|', e, '|', providers.LAST_REPORTS)\n")
    proc = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=60,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    kind, msg, reports = proc.stdout.strip().split(" | ")
    assert kind == "BadSettingError"
    assert msg.startswith("racecheck needs the Python package 'psycopg'")
    assert "pip install 'racecheck[postgres]'" in msg
    assert reports == "{}"  # no provider was probed or started


NO_PSYCOPG = ("import sys; sys.modules['psycopg'] = None; sys.modules['psycopg2'] = None  # as if not installed\n"
              "from racecheck.cli import main; sys.exit(main(sys.argv[1:]))")
PG_SCENARIO = """\
name: needs-postgres
target: os:getpid
n: 2
trials: 1
backends: {postgres: {schema: "create table t (id int)"}}
expect: pass
"""


def test_backends_names_the_missing_driver_extra() -> None:
    proc = subprocess.run([sys.executable, "-c", NO_PSYCOPG, "backends"], capture_output=True, text=True,
                          timeout=120, env={**os.environ, "PYTHONPATH": str(ROOT), "RACECHECK_PROVIDERS": "local"})
    assert "pip install 'racecheck[postgres]'" in proc.stderr, proc.stdout + proc.stderr
    assert proc.stderr.count("pip install 'racecheck[postgres]'") == 1


def test_run_reports_the_missing_extra_as_one_infra_line_before_a_server(tmp_path: Path) -> None:
    (tmp_path / "pg.race.yaml").write_text(PG_SCENARIO)
    proc = subprocess.run([sys.executable, "-c", NO_PSYCOPG, "run", str(tmp_path / "pg.race.yaml"),
                           "--no-progress"], capture_output=True, text=True, timeout=120, cwd=tmp_path,
                          env={**os.environ, "PYTHONPATH": str(ROOT), "RACECHECK_PROVIDERS": "local"})
    assert proc.returncode == 3, proc.stdout + proc.stderr
    infra = [ln for ln in proc.stdout.splitlines() if ln.startswith("INFRA")]
    assert len(infra) == 1 and "pip install 'racecheck[postgres]'" in infra[0], proc.stdout
    assert "Traceback" not in proc.stdout + proc.stderr
    assert "backends: none" in proc.stdout  # no server was provided for the run
