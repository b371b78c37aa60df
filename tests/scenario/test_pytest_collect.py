"""pytest collects *.race.yaml files: one item per scenario, failures show the library's report."""

from __future__ import annotations

import shutil

import pytest
from helpers import HERE, claim


def write(pytester: pytest.Pytester, module: str, files: dict[str, str]) -> None:
    # A module name unique to the test: in-process pytester runs share sys.modules.
    shutil.copy(HERE / "scenario_targets.py", pytester.path / f"{module}.py")
    for name, body in files.items():
        pytester.path.joinpath(f"{name}.race.yaml").write_text(body.replace("scenario_targets", module))


def test_collects_and_runs_scenarios_both_ways(pytester: pytest.Pytester) -> None:
    """A file of two scenarios is two items: a caught expected violation and a passing fixed claim both pass."""
    body = "scenarios:\n" + "".join(
        "  - " + "\n    ".join(claim(n, v, e).strip().splitlines()) + "\n"
        for n, v, e in (("caught", "buggy", "violation"), ("fixed", "fixed", "pass")))
    write(pytester, "pc_targets_a", {"claims": body})
    result = pytester.runpytest("-q", "--collect-only")
    result.stdout.fnmatch_lines(["*claims.race.yaml::caught*", "*claims.race.yaml::fixed*"])
    result = pytester.runpytest("-q")
    result.assert_outcomes(passed=2)


def test_failures_show_one_clean_message_each(pytester: pytest.Pytester) -> None:
    """An unexpected violation shows the library's timeline report, an unexpected pass says so, a bad file gives file:line: field."""
    write(pytester, "pc_targets_b", {
        "bad": claim("buggy-ok", "buggy", "pass"),
        "up": claim("fixed-buggy", "fixed", "violation", trials=5),
        "broken": "name: broken\ntarget: m:f\nn: 0\n",
    })
    result = pytester.runpytest("-q")
    result.assert_outcomes(failed=3)
    result.stdout.fnmatch_lines_random([
        "*FAIL *buggy-ok: violation in trial*", "*VIOLATION exactly_once*",
        "*replay with: racecheck replay *bad.race.yaml 'rc1:*",
        "*unexpected pass: expected a violation but 5/5 trials passed*",
        "*broken.race.yaml:3: n: input should be greater than or equal to 1 (got 0)*",
    ])
    assert "Traceback" not in result.stdout.str()
