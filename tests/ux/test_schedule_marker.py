"""The documented `racecheck(strategy="replay", schedule=...)` marker pins a test to one interleaving:
the buggy code fails with exactly that schedule, the fixed code passes it."""

from __future__ import annotations

import re

import pytest

from .helpers import CLAIM_BUGGY as BUGGY
from .helpers import CLAIM_FIXED as FIXED

FIND = """\
import racecheck
import target_mod

def test_find(race):
    race.spy("target_mod:spawn", key="job")
    result = race.run(target_mod.trigger, n=3, trials=30, strategy="random",
                      setup=target_mod.reset, invariants=[racecheck.exactly_once("spawn")], check=False)
    print("SCHEDULE", result.first_failure.schedule)
"""

PINNED = """\
import pytest
import racecheck
import target_mod


@pytest.mark.racecheck(strategy="replay", schedule="{schedule}")
def test_pinned(race):
    race.spy("target_mod:spawn", key="job")
    result = race.run(target_mod.trigger, n=3, setup=target_mod.reset,
                      invariants=[racecheck.exactly_once("spawn")])
    print("RAN", result.strategy, result.first_failure.schedule if result.first_failure else None)
    result.assert_ok()
"""



def _choices(schedule: str) -> tuple[str, str]:
    """Workers and choices of a schedule (rc1:N:SEED:TRIAL:CHOICES): a run(schedule=...) draws its own seed."""
    parts = schedule.split(":")
    return parts[1], parts[4]


def _line(out: str, tag: str) -> list[str]:
    m = re.search(rf"\b{tag} (.*)$", out, flags=re.M)  # with -s the print follows the file name
    assert m, out[-3000:]
    return m.group(1).split()


def test_marker_pins_the_schedule(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_find=FIND, target_mod=BUGGY)
    found = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-s", "--racecheck-example-db=off")
    found.assert_outcomes(passed=1)
    (schedule,) = _line(found.stdout.str(), "SCHEDULE")
    assert schedule.startswith("rc1:3:")
    (pytester.path / "test_find.py").unlink()

    pytester.makepyfile(test_pinned=PINNED.format(schedule=schedule))
    buggy = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-s", "--racecheck-example-db=off")
    buggy.assert_outcomes(failed=1)
    strategy, ran = _line(buggy.stdout.str(), "RAN")
    assert strategy == "replay" and _choices(ran) == _choices(schedule)  # the same interleaving

    (pytester.path / "target_mod.py").write_text(FIXED)
    fixed = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-s", "--racecheck-example-db=off")
    fixed.assert_outcomes(passed=1)
    assert _line(fixed.stdout.str(), "RAN") == ["replay", "None"]
