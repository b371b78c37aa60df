"""racecheck's fixtures across machines with pytest-split (--splits N --group K): every test runs in
exactly one group and the fixtures work in each; plus pytest-xdist inside a group."""

from __future__ import annotations

import re

import pytest

PROJECT = """\
import threading

import racecheck

claims = {}
lock = threading.Lock()

def spawn(job): ...

def locked(job="j"):
    with lock:
        if job in claims:
            return
        claims[job] = 1
    spawn(job)

@pytest.mark.parametrize("i", range(4))
def test_race_with_postgres(race, race_postgres, i):
    race_postgres.execute("create table t (id int)")
    race.spy(f"{__name__}:spawn", key="job")
    result = race.run(locked, n=2, trials=2, setup=claims.clear, invariants=[racecheck.exactly_once("spawn")])
    result.assert_ok()
    assert race_postgres.execute("select count(*) from t") == [(0,)]
"""


@pytest.mark.parametrize("xdist", [[], ["-n", "2"]], ids=["plain", "xdist-in-group"])
def test_split_groups_cover_every_test_once(pytester: pytest.Pytester, xdist: list[str]) -> None:
    pytester.makepyfile(test_split="import pytest\n" + PROJECT)
    ran: list[str] = []
    for group in (1, 2):
        res = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--splits", "2", "--group", str(group),
                                            "-v", "--racecheck-providers=local", *xdist)
        res.assert_outcomes(passed=2)
        ran += [m for line in res.stdout.lines if "PASSED" in line
                for m in re.findall(r"test_race_with_postgres\[(\d)\]", line)]
    assert sorted(ran) == ["0", "1", "2", "3"]
