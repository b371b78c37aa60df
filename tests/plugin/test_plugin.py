"""The pytest plugin, driven through pytester: fixture, marker, options, header, report section, replay."""

from __future__ import annotations

import re

import pytest

pytest_plugins = ["pytester"]

INNER = '''
import pytest
import racecheck

STATE = {}
LOCK = __import__("threading").Lock()


def dispatch():
    racecheck.point("check")
    if "k" in STATE:
        return
    racecheck.point("act")
    racecheck.effect("spawn", key="k")
    STATE["k"] = 1


def dispatch_locked():
    with LOCK:
        dispatch()


@pytest.mark.racecheck(n=2, trials=20, strategy="random", seed=7)
def test_buggy(race):
    res = race.run(dispatch, setup=STATE.clear, invariants=[racecheck.exactly_once("spawn")])
    res.assert_ok()


@pytest.mark.racecheck(n=2, trials=5, strategy="random", seed=7)
def test_locked(race):
    res = race.run(dispatch_locked, setup=STATE.clear, invariants=[racecheck.exactly_once("spawn")])
    res.assert_ok()


@pytest.mark.racecheck(n=3, trials=4, strategy="pct", seed=11)
def test_marker_defaults(race):
    res = race.run(dispatch_locked, setup=STATE.clear)
    assert (res.n, res.trials_run, res.strategy, res.seed) == (3, 4, "pct", 11)
    res2 = race.run(dispatch_locked, setup=STATE.clear, trials=2)
    assert res2.trials_run == 2
'''


@pytest.fixture
def inner(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makepyfile(test_inner=INNER)
    return pytester


def test_race_fixture_passes_a_correct_target(inner: pytest.Pytester) -> None:
    """race.run on the lock-protected dispatcher passes inside a test."""
    res = inner.runpytest_inprocess("-k", "test_locked")
    res.assert_outcomes(passed=1)


def test_marker_sets_run_defaults_and_run_arguments_override(inner: pytest.Pytester) -> None:
    """@pytest.mark.racecheck(...) sets n, trials, strategy and seed; race.run arguments win over it."""
    res = inner.runpytest_inprocess("-k", "test_marker_defaults")
    res.assert_outcomes(passed=1)


def test_failing_race_shows_racecheck_section_with_timeline_and_replay(inner: pytest.Pytester) -> None:
    """A failing race shows the per-worker timeline and a replay command once: in assert_ok()'s
    message, so no second copy in a 'racecheck' report section (issue 20)."""
    res = inner.runpytest_inprocess("-k", "test_buggy")
    res.assert_outcomes(failed=1)
    out = res.stdout.str()
    assert not re.search(r"-+ racecheck -+", out)
    assert out.count("VIOLATION exactly_once") == 1
    assert "t(ms)" in out and "EFFECT spawn[k]" in out
    assert re.search(r"replay with: pytest 'test_inner.py::test_buggy' --racecheck-replay='rc1:2:7:\d+:[0-9x.]+'", out)


def test_help_lists_racecheck_options(pytester: pytest.Pytester) -> None:
    """pytest --help lists the --racecheck- options."""
    out = pytester.runpytest_inprocess("--help").stdout.str()
    for opt in ("--racecheck-trials", "--racecheck-strategy", "--racecheck-seed", "--racecheck-timeout",
                "--racecheck-replay", "--racecheck-replays"):
        assert opt in out


def test_header_line_starts_with_racecheck(inner: pytest.Pytester) -> None:
    """The session header has a line starting with 'racecheck' that shows the chosen options."""
    res = inner.runpytest_inprocess("-k", "test_locked", "--racecheck-strategy=pct", "--racecheck-seed=5")
    lines = [ln for ln in res.stdout.lines if ln.startswith("racecheck")]
    assert lines and "strategy=pct" in lines[0] and "seed=5" in lines[0]


def test_command_line_options_override_the_marker(inner: pytest.Pytester) -> None:
    """--racecheck-trials overrides the marker's trials (the marker test then fails its own check)."""
    res = inner.runpytest_inprocess("-k", "test_marker_defaults", "--racecheck-trials=3")
    res.assert_outcomes(failed=1)
    assert "(3, 3, 'pct', 11)" in res.stdout.str()


def _schedule(out: str) -> str:
    m = re.search(r"--racecheck-replay='(rc1:[^']+)'", out)
    assert m, out
    return m.group(1)


def test_replay_option_reproduces_the_failure(inner: pytest.Pytester) -> None:
    """--racecheck-replay with the reported schedule fails the test again with the same violation."""
    sched = _schedule(inner.runpytest_inprocess("-k", "test_buggy").stdout.str())
    res = inner.runpytest_inprocess("-k", "test_buggy", f"--racecheck-replay={sched}", "--racecheck-replays=3")
    res.assert_outcomes(failed=1)
    out = res.stdout.str()
    assert "exactly_once violated" in out and "strategy=replay" in out


def test_replay_that_never_reproduces_fails_with_did_not_reproduce(inner: pytest.Pytester) -> None:
    """--racecheck-replay on the fixed target fails the test with DidNotReproduce."""
    sched = _schedule(inner.runpytest_inprocess("-k", "test_buggy").stdout.str())
    res = inner.runpytest_inprocess("-k", "test_locked", f"--racecheck-replay={sched}", "--racecheck-replays=1")
    res.assert_outcomes(failed=1)
    assert "DidNotReproduce" in res.stdout.str()
