"""The documentation site builds with warnings as errors, and its API reference covers every
public run option, fault helper and invariant (each parameter documented in the docstring)."""

from __future__ import annotations

import dataclasses
import inspect
import os
import subprocess
import sys
from pathlib import Path

import pytest

import racecheck
from racecheck.config import RunConfig

ROOT = Path(__file__).resolve().parents[2]
FAULTS = ["crash", "db_error", "redis_error", "error", "backend_down", "delay", "clock", "scrub_env"]
INVARIANTS = ["exactly_once", "at_most_once", "at_least_once", "mutual_exclusion", "no_exceptions", "fencing",
              "no_stuck", "fail_closed", "custom"]


def _args_section(doc: str) -> str:
    return doc.split("Args:", 1)[1] if "Args:" in doc else ""


def test_every_run_option_is_documented() -> None:
    doc = inspect.getdoc(RunConfig) or ""
    attrs = doc.split("Attributes:", 1)[1]
    missing = [f.name for f in dataclasses.fields(RunConfig) if f"\n{f.name}:" not in "\n" + "\n".join(
        line.strip() for line in attrs.splitlines())]
    assert missing == []


@pytest.mark.parametrize("name", FAULTS + INVARIANTS + ["spy"])
def test_every_parameter_of_faults_invariants_and_spy_is_documented(name: str) -> None:
    mod = racecheck.spy if name == "spy" else (racecheck.faults if name in FAULTS else racecheck.invariants)
    fn = getattr(racecheck, name) if name == "spy" else getattr(mod, name)
    doc = inspect.getdoc(fn) or ""
    args = _args_section(doc)
    missing = [p for p in inspect.signature(fn).parameters if f"{p}:" not in args]
    assert doc and missing == [], f"{name}: undocumented parameters {missing}"


def test_pytest_fixture_methods_are_documented() -> None:
    from racecheck.pytest_plugin import Race

    for method in ("spy", "fault", "run"):
        assert inspect.getdoc(getattr(Race, method)), method
    assert "section:" in _args_section(inspect.getdoc(Race.spy) or "")


def test_mkdocs_strict_build_has_the_reference(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "NO_MKDOCS_2_WARNING": "1"}
    proc = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path)],
                          cwd=ROOT, capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    run_page = (tmp_path / "reference" / "run" / "index.html").read_text()
    for f in dataclasses.fields(RunConfig):
        assert f.name in run_page, f.name
    faults_page = (tmp_path / "reference" / "faults" / "index.html").read_text()
    assert all(f"racecheck.faults.{n}" in faults_page for n in FAULTS)
    inv_page = (tmp_path / "reference" / "invariants" / "index.html").read_text()
    assert all(f"racecheck.invariants.{n}" in inv_page for n in INVARIANTS)
    assert "section" in (tmp_path / "reference" / "pytest" / "index.html").read_text()
    assert (tmp_path / "scale-out" / "index.html").exists()


def test_docs_extra_and_dev_bring_mkdocs() -> None:
    text = (ROOT / "pyproject.toml").read_text()
    assert 'docs = ["mkdocs' in text and "mkdocstrings[python]" in text and '"racecheck[docs]"' in text
