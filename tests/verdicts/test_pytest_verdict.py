"""Item 7: the race fixture owns the verdict; a violation or inconclusive run nobody asserted fails."""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]

INNER = '''
import pytest
import racecheck

STATE = {}


def buggy():
    racecheck.point("check")
    if "k" not in STATE:
        racecheck.point("act")
        STATE["k"] = 1
        racecheck.effect("spawn", key="k")


def blind():
    if "k" not in STATE:
        STATE["k"] = 1
        racecheck.effect("spawn", key="k")


RUN = dict(n=2, trials=20, strategy="random", seed=7, setup=STATE.clear,
           invariants=[racecheck.at_most_once("spawn")])


def test_violation_forgotten(race):
    race.run(buggy, **RUN)


def test_violation_asserted(race):
    race.run(buggy, **RUN).assert_violation("at_most_once")


def test_violation_read(race):
    assert not race.run(buggy, **RUN).ok


def test_violation_opted_out(race):
    race.run(buggy, check=False, **RUN)


@pytest.mark.racecheck(check=False)
def test_violation_opted_out_by_marker(race):
    race.run(buggy, **RUN)


def test_inconclusive_forgotten(race):
    race.run(blind, **RUN)


def test_inconclusive_ok_is_not_enough(race):
    assert race.run(blind, **RUN).ok


def test_inconclusive_verdict_read(race):
    assert race.run(blind, **RUN).verdict == "inconclusive"


def test_inconclusive_assert_ok(race):
    race.run(blind, **RUN).assert_ok()


def test_inconclusive_expected(race):
    with pytest.raises(racecheck.Inconclusive, match="no scheduling point reached"):
        race.run(blind, **RUN).assert_ok()


def test_pass_unasserted(race):
    race.run(blind, n=2, trials=2, setup=STATE.clear, invariants=[racecheck.at_most_once("spawn")])
'''


@pytest.fixture
def inner(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makepyfile(test_inner=INNER)
    return pytester


def _outcomes(res: pytest.RunResult) -> dict[str, str]:
    out = {}
    for line in res.stdout.lines:
        for word in ("PASSED", "FAILED"):
            if line.startswith("test_inner.py::") and f" {word}" in line:
                out[line.split("::")[1].split()[0]] = word
    return out


def test_unread_violations_and_inconclusive_runs_fail_their_tests(inner: pytest.Pytester) -> None:
    res = inner.runpytest_inprocess("-v", "-p", "no:cacheprovider")
    assert _outcomes(res) == {
        "test_violation_forgotten": "FAILED",
        "test_violation_asserted": "PASSED",
        "test_violation_read": "PASSED",
        "test_violation_opted_out": "PASSED",
        "test_violation_opted_out_by_marker": "PASSED",
        "test_inconclusive_forgotten": "FAILED",
        "test_inconclusive_ok_is_not_enough": "FAILED",
        "test_inconclusive_verdict_read": "PASSED",
        "test_inconclusive_assert_ok": "FAILED",
        "test_inconclusive_expected": "PASSED",
        "test_pass_unasserted": "PASSED",
    }
    text = res.stdout.str()
    assert "race.run found a violation the test never asserted" in text
    assert "INCONCLUSIVE after" in text and "The test never read this verdict" in text


def test_warn_mode_downgrades_inconclusive_to_a_warning(inner: pytest.Pytester) -> None:
    res = inner.runpytest_inprocess("-v", "-p", "no:cacheprovider", "--racecheck-inconclusive=warn",
                                    "-k", "inconclusive_forgotten or violation_forgotten")
    assert _outcomes(res) == {"test_inconclusive_forgotten": "PASSED", "test_violation_forgotten": "FAILED"}
    assert "InconclusiveWarning" in res.stdout.str()


def test_warn_mode_from_the_ini_file(inner: pytest.Pytester) -> None:
    inner.makeini("[pytest]\nracecheck_inconclusive = warn\n")
    res = inner.runpytest_inprocess("-v", "-p", "no:cacheprovider", "-k", "inconclusive_forgotten")
    assert _outcomes(res) == {"test_inconclusive_forgotten": "PASSED"}


def test_a_bad_mode_is_a_usage_error(inner: pytest.Pytester) -> None:
    res = inner.runpytest_inprocess("-p", "no:cacheprovider", "--racecheck-inconclusive=ignore",
                                    "-k", "inconclusive_forgotten")
    assert "--racecheck-inconclusive must be one of fail, warn" in res.stdout.str() + res.stderr.str()
    assert res.ret != 0


BLIND_YAML = """
name: blind-yaml
target: verdicts.targets:blind_check_then_act
setup: verdicts.targets:reset
n: 2
trials: 2
strategy: pct
seed: 1
invariants: [{at_most_once: spawn}]
"""


def test_an_inconclusive_yaml_scenario_fails_under_pytest_unless_warn(pytester: pytest.Pytester) -> None:
    import os

    pytester.makefile(".race.yaml", blind=BLIND_YAML)
    tests_dir = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    pytester.syspathinsert(tests_dir)
    res = pytester.runpytest_inprocess("-p", "no:cacheprovider")
    res.assert_outcomes(failed=1)
    assert "INCONCLUSIVE blind-yaml" in res.stdout.str()
    res = pytester.runpytest_inprocess("-p", "no:cacheprovider", "--racecheck-inconclusive=warn")
    res.assert_outcomes(passed=1, warnings=1)
