"""The racecheck CLI: expect in both directions, reports, parallel runs, replay, profiles, exit codes."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from helpers import EXAMPLES, claim, write_scenario

from racecheck.cli import main


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_examples_run_as_expected(capsys: pytest.CaptureFixture[str]) -> None:
    """The shipped examples: the buggy claim is caught, the fixed one passes, exit 0."""
    code, out, _ = run_cli(capsys, "run", str(EXAMPLES))
    assert code == 0
    assert re.search(r"^CAUGHT +claim-buggy-is-caught: expected violation caught", out, re.M)
    assert re.search(r"^PASS +claim-fixed-passes", out, re.M)
    assert "2 as expected, 0 unexpected" in out


def test_expect_violation_on_buggy_target_passes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """expect: violation over the buggy claim is as expected (exit 0)."""
    f = write_scenario(tmp_path, "s", claim("buggy-caught", "buggy", "violation"))
    code, out, _ = run_cli(capsys, "run", str(f))
    assert code == 0 and "CAUGHT" in out


def test_expect_violation_on_fixed_target_is_unexpected_pass(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """expect: violation over the fixed claim reports an unexpected pass (exit 1)."""
    f = write_scenario(tmp_path, "s", claim("fixed-expected-buggy", "fixed", "violation", trials=10))
    code, out, _ = run_cli(capsys, "run", str(f))
    assert code == 1
    assert re.search(r"^FAIL +fixed-expected-buggy: unexpected pass: expected a violation but 10/10 trials passed",
                     out, re.M)


def test_expect_pass_on_buggy_target_prints_the_report(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """expect: pass over the buggy claim fails (exit 1) and prints the library's report with a replay line."""
    f = write_scenario(tmp_path, "s", claim("buggy-expected-ok", "buggy", "pass"))
    code, out, _ = run_cli(capsys, "run", str(f))
    assert code == 1
    assert re.search(r"^FAIL +buggy-expected-ok: violation in trial \d+", out, re.M)
    assert "VIOLATION exactly_once" in out
    assert f"replay with: racecheck replay {f} 'rc1:" in out


def test_expect_pass_on_fixed_target_passes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """expect: pass over the fixed claim passes (exit 0)."""
    f = write_scenario(tmp_path, "s", claim("fixed-ok", "fixed", "pass", trials=10))
    code, out, _ = run_cli(capsys, "run", str(f))
    assert code == 0 and re.search(r"^PASS +fixed-ok", out, re.M)


def test_expect_invariant_must_match(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """expect_invariant naming an invariant that did not break is an unexpected violation (exit 1)."""
    f = write_scenario(tmp_path, "s", claim("wrong-invariant", "buggy", "violation",
                                            extra="expect_invariant: mutual_exclusion\n"))
    code, out, _ = run_cli(capsys, "run", str(f))
    assert code == 1 and "expected mutual_exclusion to break" in out


def test_json_junit_and_html_reports(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """--json, --junit and --report-dir write the three reports for a mixed run."""
    a = write_scenario(tmp_path, "a", claim("rep-caught", "buggy", "violation"))
    b = write_scenario(tmp_path, "b", claim("rep-unexpected", "fixed", "violation", trials=5))
    js, xml, html = tmp_path / "r.json", tmp_path / "r.xml", tmp_path / "html"
    code, out, _ = run_cli(capsys, "run", str(a), str(b), "--json", str(js), "--junit", str(xml),
                           "--report-dir", str(html))
    assert code == 1
    doc = json.loads(js.read_text())
    assert {s["scenario"]: s["status"] for s in doc["scenarios"]} == {
        "rep-caught": "as-expected", "rep-unexpected": "unexpected-pass"}
    suite = ET.parse(xml).getroot()
    assert suite.get("tests") == "2" and suite.get("failures") == "1"
    pages = list(html.glob("*.html"))
    assert len(pages) == 1 and "rep-caught" in pages[0].name
    assert f"HTML timeline: {pages[0].resolve()}" in out


def test_parallel_jobs_give_the_same_outcomes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """-j 2 runs scenarios in their own processes and reports the same outcomes and table."""
    write_scenario(tmp_path, "a", claim("par-caught", "buggy", "violation"))
    write_scenario(tmp_path, "b", claim("par-fixed", "fixed", "pass", trials=5))
    code, out, _ = run_cli(capsys, "run", "-j", "2", str(tmp_path))
    assert code == 0
    assert re.search(r"^CAUGHT +par-caught", out, re.M) and re.search(r"^PASS +par-fixed", out, re.M)
    assert "2 scenario(s): 2 as expected" in out


def test_profile_thorough_multiplies_trials(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """--profile thorough runs thorough_trials, else 10x trials."""
    a = write_scenario(tmp_path, "a", claim("thorough-default", "fixed", "pass", trials=2))
    b = write_scenario(tmp_path, "b", claim("thorough-set", "fixed", "pass", trials=2, extra="thorough_trials: 7\n"))
    js = tmp_path / "r.json"
    assert run_cli(capsys, "run", str(a), str(b), "--profile", "thorough", "--json", str(js))[0] == 0
    runs = {s["scenario"]: s["result"]["trials_requested"] for s in json.loads(js.read_text())["scenarios"]}
    assert runs == {"thorough-default": 20, "thorough-set": 7}


def test_progress_line_only_when_asked(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """--progress draws a progress line on stderr; without a terminal nothing is drawn."""
    f = write_scenario(tmp_path, "s", claim("progress", "fixed", "pass", trials=2))
    _, out, err = run_cli(capsys, "run", str(f), "--progress")
    assert "[1/1]" in err and "[1/1]" not in out
    _, _, err = run_cli(capsys, "run", str(f))
    assert "[1/1]" not in err


def test_replay_reproduces_and_reports_k_of_k(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`racecheck replay` reruns a recorded schedule: reproduced k/K and exit 0; on the fixed target 0/K and exit 1."""
    buggy = write_scenario(tmp_path, "buggy", claim("replay-buggy", "buggy", "violation"))
    fixed = write_scenario(tmp_path, "fixed", claim("replay-fixed", "fixed", "pass"))
    js = tmp_path / "r.json"
    run_cli(capsys, "run", str(buggy), "--json", str(js))
    replay_line = json.loads(js.read_text())["scenarios"][0]["result"]["replay"]
    schedule = re.search(r"'(rc1:[^']+)'", replay_line)[1]  # type: ignore[index]
    code, out, _ = run_cli(capsys, "replay", str(buggy), schedule, "--times", "3")
    assert code == 0 and re.search(r"^reproduced [1-3]/3$", out, re.M)
    code, out, _ = run_cli(capsys, "replay", str(fixed), schedule, "--times", "2")
    assert code == 1 and out.startswith("reproduced 0/2")


def test_replay_bad_schedule_is_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    """A malformed schedule string is bad input (exit 2), with no traceback."""
    code, out, err = run_cli(capsys, "replay", str(EXAMPLES / "claim_fixed.race.yaml"), "not-a-schedule")
    assert code == 2 and "Traceback" not in out + err


def test_no_backend_is_exit_3(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                              monkeypatch: pytest.MonkeyPatch) -> None:
    """A scenario needing postgres exits 3 when --providers names an impossible provider; the other scenario still runs."""
    monkeypatch.setenv("RACECHECK_PROVIDERS", "")
    pg = write_scenario(tmp_path, "pg", """
        name: needs-postgres
        target: scenario_targets:noop
        n: 1
        trials: 1
        backends: {postgres: {schema: "create table t (id int);"}}
        """)
    ok = write_scenario(tmp_path, "ok", claim("runs-anyway", "fixed", "pass", trials=2))
    code, out, _ = run_cli(capsys, "--providers", "no-such-provider", "run", str(pg), str(ok))
    assert code == 3
    assert re.search(r"^INFRA +needs-postgres: ", out, re.M)
    assert re.search(r"^PASS +runs-anyway", out, re.M)


def test_usage_errors_and_help(capsys: pytest.CaptureFixture[str]) -> None:
    """An unknown option is a usage error (exit 2); --help documents the exit codes and exits 0."""
    assert main(["run", "--no-such-option", "x"]) == 2
    assert main(["--help"]) == 0
    assert "3  infrastructure" in capsys.readouterr().out


def test_backends_command_describes_providers(capsys: pytest.CaptureFixture[str]) -> None:
    """`racecheck backends` prints the provider chain for PostgreSQL and Redis and exits 0."""
    code, out, _ = run_cli(capsys, "backends")
    assert code == 0
    assert "PostgreSQL" in out and "Redis" in out
