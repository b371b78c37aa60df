"""`racecheck run --shard K/N`: every scenario in exactly one shard, stable across machines and
checkout places; `racecheck merge` joins the shards' JSON and JUnit into one report and exit code."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from racecheck.shard import parse_shard, shard_key, shard_of

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "scenarios" / "examples"


def _cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "racecheck.cli", *args], capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=300, cwd=cwd)


def _suite(d: Path, count: int = 12) -> Path:
    suite = d / "suite"
    (suite / "sub").mkdir(parents=True)
    shutil.copy(EXAMPLES / "example_targets.py", suite / "example_targets.py")
    shutil.copy(EXAMPLES / "example_targets.py", suite / "sub" / "example_targets.py")
    fixed = (EXAMPLES / "claim_fixed.race.yaml").read_text().replace("trials: 30", "trials: 2")
    for i in range(count):
        where = suite / "sub" if i % 2 else suite
        (where / f"s{i}.race.yaml").write_text(fixed.replace("claim-fixed-passes", f"fixed-{i}"))
    return suite


def _names(report: Path) -> list[str]:
    return [s["scenario"] for s in json.loads(report.read_text())["scenarios"]]


def test_every_scenario_runs_in_exactly_one_shard_and_merge_joins_them(tmp_path: Path) -> None:
    suite = _suite(tmp_path)
    seen: list[str] = []
    for k in (1, 2, 3):
        proc = _cli("run", str(suite), "--shard", f"{k}/3", "--json", str(tmp_path / f"s{k}.json"),
                    "--junit", str(tmp_path / f"s{k}.xml"))
        assert proc.returncode == 0, proc.stdout + proc.stderr
        seen += _names(tmp_path / f"s{k}.json")
    assert sorted(seen) == sorted(f"fixed-{i}" for i in range(12))  # each exactly once
    assert all(_names(tmp_path / f"s{k}.json") for k in (1, 2, 3))  # 12 scenarios: no shard empty here

    merged = _cli("merge", *(str(tmp_path / f"s{k}.json") for k in (1, 2, 3)),
                  *(str(tmp_path / f"s{k}.xml") for k in (1, 2, 3)),
                  "--json", str(tmp_path / "all.json"), "--junit", str(tmp_path / "all.xml"))
    assert merged.returncode == 0, merged.stdout + merged.stderr
    assert sorted(_names(tmp_path / "all.json")) == sorted(seen)
    root = ET.parse(tmp_path / "all.xml").getroot()
    assert root.get("tests") == "12" and len(root.findall("testsuite/testcase")) == 12


def test_assignment_is_stable_when_the_checkout_moves(tmp_path: Path) -> None:
    a = _suite(tmp_path / "a")
    b = tmp_path / "elsewhere" / "checkout"
    shutil.copytree(a, b)
    keys_a = sorted(shard_key(p, "x", [a]) for p in a.rglob("*.race.yaml"))
    keys_b = sorted(shard_key(p, "x", [b]) for p in b.rglob("*.race.yaml"))
    assert keys_a == keys_b and "sub/s1.race.yaml::x" in keys_a
    assert [shard_of(k, 4) for k in keys_a] == [shard_of(k, 4) for k in keys_b]


def test_merge_exit_code_is_the_worst_shard(tmp_path: Path) -> None:
    buggy = (EXAMPLES / "claim_fixed.race.yaml").read_text().replace("example_targets:claim_fixed",
                                                                      "example_targets:claim_buggy")
    d = tmp_path / "bad"
    d.mkdir()
    shutil.copy(EXAMPLES / "example_targets.py", d / "example_targets.py")
    (d / "b.race.yaml").write_text(buggy)
    assert _cli("run", str(d), "--json", str(tmp_path / "bad.json")).returncode == 1
    assert _cli("run", str(EXAMPLES), "--json", str(tmp_path / "good.json")).returncode == 0
    merged = _cli("merge", str(tmp_path / "good.json"), str(tmp_path / "bad.json"), "--json",
                  str(tmp_path / "m.json"))
    assert merged.returncode == 1
    assert "3 scenario(s) from 2 report(s): 2 as expected, 1 not" in merged.stdout


def test_bad_shard_and_bad_report_are_bad_input(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="1 <= K <= N"):
        parse_shard("0/3")
    assert _cli("run", str(EXAMPLES), "--shard", "4/3").returncode == 2
    (tmp_path / "x.json").write_text("{}")
    proc = _cli("merge", str(tmp_path / "x.json"))
    assert proc.returncode == 2 and "not a racecheck JSON report" in proc.stderr
