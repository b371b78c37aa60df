"""The example database works for `racecheck run` too: a scenario that failed (an unexpected
violation) saves its schedule in .racecheck/ (the pytest format), the next run replays it first and
it reproduces, and once fixed it passes and the entry is dropped. --no-example-db opts out; a
scenario that expects a violation never saves one; -j N (child processes) uses the same database."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from racecheck.example_db import ExampleDB

from .helpers import CLAIM_BUGGY as BUGGY
from .helpers import CLAIM_FIXED as FIXED

ROOT = Path(__file__).resolve().parents[2]


SCENARIO = """\
name: {name}
target: cli_target:trigger
n: 3
trials: 30
strategy: random
seed: {seed}
setup: cli_target:reset
spies: [{{target: "cli_target:spawn", key: job}}]
invariants: [{{exactly_once: spawn}}]
expect: {expect}
"""


def _project(tmp: Path, *, expect: str = "pass", seed: int = 1, names: tuple[str, ...] = ("spawn-once",)) -> None:
    (tmp / "scen").mkdir(parents=True, exist_ok=True)
    (tmp / "cli_target.py").write_text(BUGGY)
    for name in names:
        (tmp / "scen" / f"{name}.race.yaml").write_text(SCENARIO.format(name=name, seed=seed, expect=expect))


def _run(tmp: Path, *args: str) -> tuple[subprocess.CompletedProcess[str], dict]:
    env = {k: v for k, v in os.environ.items() if k != "RACECHECK_EXAMPLE_DB"}
    env["PYTHONPATH"] = f"{ROOT}{os.pathsep}{tmp}"
    proc = subprocess.run([sys.executable, "-m", "racecheck.cli", "run", "scen", "--json", "r.json", *args],
                          cwd=tmp, capture_output=True, text=True, env=env, timeout=300)
    doc = json.loads((tmp / "r.json").read_text()) if (tmp / "r.json").exists() else {}
    return proc, doc


def _failing(doc: dict, i: int = 0) -> tuple[str, str]:
    """(strategy, failing schedule) of scenario i in a JSON report."""
    res = doc["scenarios"][i]["result"]
    return res["strategy"], res["failing_trial"]["schedule"]


def _saved(tmp: Path) -> dict[str, list[str]]:
    folder = tmp / ".racecheck" / "examples"
    docs = [json.loads(p.read_text()) for p in sorted(folder.glob("*.json"))] if folder.exists() else []
    return {d["key"]: d["schedules"] for d in docs}


def test_failing_scenario_is_saved_replayed_first_and_dropped_once_fixed(tmp_path: Path) -> None:
    _project(tmp_path)
    first, doc1 = _run(tmp_path)
    assert first.returncode == 1, first.stdout + first.stderr
    strategy1, schedule1 = _failing(doc1)
    assert strategy1 == "random"
    assert _saved(tmp_path) == {"scen/spawn-once.race.yaml::spawn-once": [schedule1]}  # pytest's format
    assert ExampleDB(tmp_path / ".racecheck").load("scen/spawn-once.race.yaml::spawn-once") == [schedule1]
    assert "saved the failing schedule in .racecheck/: the next run replays it first" in first.stdout

    # another seed would draw other schedules: the saved one runs first and reproduces
    second, doc2 = _run(tmp_path, "--seed", "987")
    assert second.returncode == 1, second.stdout + second.stderr
    assert _failing(doc2) == ("replay", schedule1)
    assert doc2["scenarios"][0]["status"] == "unexpected-violation"
    assert "replayed the saved failing schedule from .racecheck/ first: it still fails" in second.stdout
    assert _saved(tmp_path) == {"scen/spawn-once.race.yaml::spawn-once": [schedule1]}

    (tmp_path / "cli_target.py").write_text(FIXED)
    third, doc3 = _run(tmp_path)
    assert third.returncode == 0, third.stdout + third.stderr
    assert doc3["scenarios"][0]["status"] == "as-expected" and doc3["scenarios"][0]["result"]["strategy"] == "random"
    assert _saved(tmp_path) == {}  # it no longer fails: dropped, as pytest does
    assert "1 saved failing schedule(s) in .racecheck/ no longer fail: dropped" in third.stdout


@pytest.mark.parametrize("off", [["--no-example-db"], ["--example-db=off"]], ids=["flag", "value"])
def test_opt_out_neither_saves_nor_replays(tmp_path: Path, off: list[str]) -> None:
    _project(tmp_path)
    proc, doc = _run(tmp_path, *off)
    assert proc.returncode == 1
    assert not (tmp_path / ".racecheck").exists()
    saved = _run(tmp_path)[1]  # now save one
    _, schedule = _failing(saved)
    again, doc2 = _run(tmp_path, *off, "--seed", "987")
    assert again.returncode == 1 and _failing(doc2)[0] == "random"  # fresh seeds, the saved one skipped
    assert doc2["scenarios"][0]["result"]["seed"] == 987 and "replayed" not in again.stdout
    assert _saved(tmp_path) == {"scen/spawn-once.race.yaml::spawn-once": [schedule]}  # left as it was


def test_expected_violation_never_saves(tmp_path: Path) -> None:
    _project(tmp_path, expect="violation")
    proc, doc = _run(tmp_path)
    assert proc.returncode == 0 and doc["scenarios"][0]["status"] == "as-expected"
    assert not (tmp_path / ".racecheck").exists()  # trials to detection stay those of fresh seeds


def test_parallel_jobs_use_the_same_database(tmp_path: Path) -> None:
    _project(tmp_path, names=("spawn-a", "spawn-b"))
    first, doc1 = _run(tmp_path, "-j", "2")
    assert first.returncode == 1, first.stdout + first.stderr
    by_name = {s["scenario"]: s["result"]["failing_trial"]["schedule"] for s in doc1["scenarios"]}
    assert _saved(tmp_path) == {f"scen/{n}.race.yaml::{n}": [by_name[n]] for n in ("spawn-a", "spawn-b")}
    second, doc2 = _run(tmp_path, "-j", "2", "--seed", "987")
    assert {s["scenario"]: (s["result"]["strategy"], s["result"]["failing_trial"]["schedule"])
            for s in doc2["scenarios"]} == {n: ("replay", by_name[n]) for n in by_name}


def test_scenario_outside_the_working_directory_is_left_out(tmp_path: Path) -> None:
    _project(tmp_path / "elsewhere")
    (tmp_path / "here").mkdir()
    env = {k: v for k, v in os.environ.items() if k != "RACECHECK_EXAMPLE_DB"}
    env["PYTHONPATH"] = f"{ROOT}{os.pathsep}{tmp_path / 'elsewhere'}"
    proc = subprocess.run([sys.executable, "-m", "racecheck.cli", "run", str(tmp_path / "elsewhere" / "scen")],
                          cwd=tmp_path / "here", capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 1, proc.stdout + proc.stderr  # it still fails, as always
    assert not (tmp_path / "here" / ".racecheck").exists() and "saved the failing schedule" not in proc.stdout
