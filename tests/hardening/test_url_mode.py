"""URL mode: a Redis/Postgres server given by URL is reset only with the explicit, documented opt-in."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from racecheck.backends import ResetRefused, provide_redis

ROOT = Path(__file__).resolve().parents[2]

TARGETS = textwrap.dedent('''
    import os
    import redis

    def effect(key):
        pass

    def claim():
        c = redis.Redis.from_url(os.environ["REDIS_URL"])
        if c.set("claim", "1", nx=True):
            effect("j")
''')

SCENARIO = textwrap.dedent('''
    name: url-redis-claim
    target: url_targets:claim
    n: 3
    trials: 4
    backends: {redis: {}}
    spies: [{target: "url_targets:effect", key: "key"}]
    invariants: [{exactly_once: effect}]
''')


@pytest.fixture(scope="module")
def redis_url():
    srv = provide_redis(providers=["local", "embedded"], require_real=True)
    yield srv.database().url  # racecheck's own throwaway server, handed over as a URL
    srv.close()


def _run(tmp_path: Path, url: str, *args: str, **env_extra: str) -> tuple[int, dict]:
    (tmp_path / "url_targets.py").write_text(TARGETS)
    (tmp_path / "url.race.yaml").write_text(SCENARIO)
    env = {k: v for k, v in os.environ.items() if k not in ("RACECHECK_ALLOW_RESET", "PYTEST_XDIST_WORKER")}
    env.update(RACECHECK_PROVIDERS="url", RACECHECK_REDIS_URL=url,
               PYTHONPATH=f"{ROOT}{os.pathsep}{tmp_path}", **env_extra)
    out = tmp_path / "out.json"
    proc = subprocess.run([sys.executable, "-m", "racecheck.cli", "run", str(tmp_path), "--json", str(out),
                           *args], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    return proc.returncode, json.loads(out.read_text())["scenarios"][0]


def _refused(code: int, outcome: dict) -> bool:
    """The reset (the trial's setup) was refused: an infrastructure outcome naming the opt-in, or
    (with the verdict model) a run aborted by the setup error before its trials ran."""
    if code == 3:
        return "--allow-reset" in outcome["message"] or "RACECHECK_ALLOW_RESET" in outcome["message"]
    result = outcome.get("result") or {}
    return result.get("aborted") == "error" and result.get("trials_run", 0) < 4


def test_without_the_opt_in_a_url_server_is_never_flushed(redis_url, tmp_path):
    code, outcome = _run(tmp_path, redis_url)
    assert _refused(code, outcome), outcome


def test_allow_reset_flag_makes_url_mode_usable(redis_url, tmp_path):
    code, outcome = _run(tmp_path, redis_url, "--allow-reset")
    assert code == 0, outcome
    assert outcome["status"] == "as-expected" and outcome["result"]["trials_run"] == 4
    assert not outcome["result"].get("aborted")


def test_env_opt_in_with_a_list_resets_only_the_listed_dbs(redis_url, tmp_path):
    db = int(redis_url.rsplit("/", 1)[1])
    code, outcome = _run(tmp_path, redis_url, RACECHECK_ALLOW_RESET=f"redis:{db}")
    assert code == 0 and outcome["result"]["trials_run"] == 4 and not outcome["result"].get("aborted")
    code, outcome = _run(tmp_path, redis_url, RACECHECK_ALLOW_RESET=f"redis:{db + 1}")
    assert _refused(code, outcome), outcome


def test_api_refuses_unlisted_db(redis_url, monkeypatch):
    monkeypatch.setenv("RACECHECK_ALLOW_RESET", "redis:250")
    srv = provide_redis(url=redis_url, providers=["url"])
    try:
        with pytest.raises(ResetRefused, match="RACECHECK_ALLOW_RESET"):
            srv.database().reset()
    finally:
        srv.close()
