"""describe_providers() and `python -m racecheck.backends`: every provider per kind, used or not, and why."""

from __future__ import annotations

import subprocess
import sys

from racecheck.backends import describe_providers, provide_redis
from racecheck.backends import providers as prov


def test_describe_lists_every_provider_with_reason(monkeypatch):
    """Without starting anything the text names each provider per kind, which one would be used and why not the others."""
    monkeypatch.delenv("RACECHECK_PROVIDERS", raising=False)
    monkeypatch.delenv("RACECHECK_POSTGRES_URL", raising=False)
    monkeypatch.setattr(prov, "LAST_REPORTS", {})
    text = describe_providers()
    pg, rd = text.split("Redis:")
    for name in ("url", "local", "embedded", "docker"):
        assert f"  {name} " in pg and f"  {name} " in rd
    assert "fakeredis" not in pg and "fakeredis" in rd and "[EMULATED]" in rd
    assert "RACECHECK_POSTGRES_URL not set" in pg
    assert pg.count("would use") == 1 and rd.count("would use") == 1
    assert "Docker engine" in text or "testcontainers" in text


def test_describe_shows_what_was_used(monkeypatch):
    """After a provide_*() call the text shows the chain as run, with the used provider marked."""
    monkeypatch.setattr(prov, "LAST_REPORTS", {})
    srv = provide_redis(providers=["url", "local"])
    try:
        text = describe_providers()
        assert "Redis: provider chain as run (url, local)" in text
        assert "local     USED" in text
    finally:
        srv.close()


def test_describe_restricted_chain_marks_skipped(monkeypatch):
    """With RACECHECK_PROVIDERS=embedded the others are listed as skipped, not silently dropped."""
    monkeypatch.setenv("RACECHECK_PROVIDERS", "embedded")
    monkeypatch.setattr(prov, "LAST_REPORTS", {})
    text = describe_providers()
    assert "local     skipped   not in RACECHECK_PROVIDERS" in text
    assert "embedded  would use" in text


def test_module_cli_runs_on_this_machine():
    """`python -m racecheck.backends --start` starts and stops a server of each kind and reports them used."""
    out = subprocess.run([sys.executable, "-m", "racecheck.backends", "--start"], capture_output=True,
                         text=True, timeout=120, check=True).stdout
    assert out.count("USED") == 2, out
