"""The example database in .racecheck/: a failing schedule is saved, replayed first on the next run
(before new seeds), dropped once it no longer fails; it can be switched off; writes are atomic."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

from racecheck.example_db import ExampleDB, from_setting, run_examples_first

from . import ux_targets as t
from .helpers import CLAIM_BUGGY as BUGGY
from .helpers import CLAIM_FIXED as FIXED
from .helpers import SPAWN

PROJECT = """\
import racecheck
import target_mod

def test_spawn(race):
    race.spy("target_mod:spawn", key="job")
    result = race.run(target_mod.trigger, n=3, trials=30, strategy="random",
                      setup=target_mod.reset, invariants=[racecheck.exactly_once("spawn")])
    print("STRATEGY", result.strategy, "SCHEDULE", result.first_failure.schedule if result.first_failure else None)
    result.assert_ok()
"""



def _files(root: Path) -> list[Path]:
    return sorted((root / ".racecheck" / "examples").glob("*.json")) if (root / ".racecheck").exists() else []


def _printed(out: str) -> tuple[str, str]:
    line = next(ln for ln in out.splitlines() if ln.startswith("STRATEGY "))
    _, strategy, _, schedule = line.split()
    return strategy, schedule


def test_failing_schedule_is_saved_then_replayed_first_then_dropped_when_fixed(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_spawn=PROJECT, target_mod=BUGGY)
    first = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    first.assert_outcomes(failed=1)
    strategy1, schedule1 = _printed(first.stdout.str())
    assert strategy1 == "random"
    files = _files(pytester.path)
    assert len(files) == 1
    doc = json.loads(files[0].read_text())
    assert doc["key"] == "test_spawn.py::test_spawn#0" and doc["schedules"] == [schedule1]

    second = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    second.assert_outcomes(failed=1)
    strategy2, schedule2 = _printed(second.stdout.str())
    assert (strategy2, schedule2) == ("replay", schedule1)  # the saved example ran before new seeds

    (pytester.path / "target_mod.py").write_text(FIXED)
    third = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    third.assert_outcomes(passed=1)
    assert _files(pytester.path) == []  # no longer fails: dropped


def test_off_switch_writes_nothing(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_spawn=PROJECT, target_mod=BUGGY)
    res = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--racecheck-example-db=off")
    res.assert_outcomes(failed=1)
    assert not (pytester.path / ".racecheck").exists()


def test_under_xdist_each_test_keeps_its_examples(pytester: pytest.Pytester) -> None:
    many = PROJECT + "".join(PROJECT.split("\n", 2)[2].replace("def test_spawn", f"def test_spawn_{i}")
                             for i in range(3))
    pytester.makepyfile(test_spawn=many, target_mod=BUGGY)
    res = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-n", "2")
    res.assert_outcomes(failed=4)
    keys = sorted(json.loads(f.read_text())["key"] for f in _files(pytester.path))
    assert keys == sorted(f"test_spawn.py::test_spawn{s}#0" for s in ("", "_0", "_1", "_2"))
    assert not list((pytester.path / ".racecheck" / "examples").glob("*.tmp"))


def test_concurrent_saves_never_leave_a_torn_file(tmp_path: Path) -> None:
    db = ExampleDB(tmp_path)
    threads = [threading.Thread(target=lambda i=i: [db.save(f"k{i}", f"rc1:2:{i}:{j}:0") for j in range(20)])
               for i in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    for i in range(4):
        assert len(db.load(f"k{i}")) == 10  # capped at the last ten, each file valid JSON


def test_library_helper_replays_saved_schedule_first(tmp_path: Path) -> None:
    import racecheck

    db = ExampleDB(tmp_path)
    opts = dict(n=3, trials=50, strategy="random", seed=1, setup=t.reset, spies=[racecheck.spy(SPAWN, key="job")],
                invariants=[racecheck.exactly_once("spawn")])
    first = run_examples_first(db, "k", t.buggy, dict(opts))
    assert first.first_failure is not None and db.load("k") == [first.first_failure.schedule]
    again = run_examples_first(db, "k", t.buggy, dict(opts, seed=999))
    assert again.strategy == "replay" and again.first_failure.schedule == first.first_failure.schedule
    fixed = run_examples_first(db, "k", t.fixed, dict(opts))
    assert fixed.ok and db.load("k") == []


def test_setting_values(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RACECHECK_EXAMPLE_DB", raising=False)
    assert from_setting(None, tmp_path).root == tmp_path / ".racecheck"  # type: ignore[union-attr]
    assert from_setting("off", tmp_path) is None
    monkeypatch.setenv("RACECHECK_EXAMPLE_DB", "off")
    assert from_setting(None, tmp_path) is None


def test_gitignore_lists_the_folder() -> None:
    root = Path(__file__).resolve().parents[2]
    assert ".racecheck/" in (root / ".gitignore").read_text().splitlines()
