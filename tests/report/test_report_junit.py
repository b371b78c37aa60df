"""JUnit XML: one testcase per scenario; failures carry the text report, errors the bad input."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from racecheck.report import write_junit


def _cases(path: str) -> tuple[ET.Element, dict[str, ET.Element]]:
    root = ET.parse(path).getroot()
    return root, {c.get("name"): c for c in root.iter("testcase")}


def test_junit_parses_with_right_counts(outcomes, tmp_path):
    """The file parses and its suite counts 5 tests, 2 failures and 1 error."""
    root, cases = _cases(write_junit(outcomes, tmp_path / "junit.xml"))
    assert root.tag == "testsuites"
    suite = root.find("testsuite")
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors")) == ("5", "2", "1")
    assert (root.get("tests"), root.get("failures"), root.get("errors")) == ("5", "2", "1")
    assert len(cases) == 5
    assert cases["dispatch-dup"].get("classname") == "racecheck.dispatch"


def test_as_expected_cases_pass(outcomes, tmp_path):
    """Scenarios that behaved as expected have no failure or error element."""
    _, cases = _cases(write_junit(outcomes, tmp_path / "junit.xml"))
    for name in ("dispatch-dup", "dispatch-ok"):
        assert cases[name].find("failure") is None and cases[name].find("error") is None
    assert "HTML timeline:" in cases["dispatch-dup"].find("system-out").text


def test_unexpected_violation_failure_has_text_report(outcomes, overlap_result, tmp_path):
    """An unexpected violation is a failure whose text is the text report, rebuilt from to_dict()."""
    _, cases = _cases(write_junit(outcomes, tmp_path / "junit.xml"))
    f = cases["lock-overlap"].find("failure")
    assert f is not None and f.get("type") == "unexpected-violation"
    assert "mutual_exclusion" in f.get("message")
    assert "VIOLATION mutual_exclusion" in f.text and "enter job[k1]" in f.text
    assert f"replay with: {overlap_result.replay_line()}" in f.text


def test_unexpected_pass_is_failure(outcomes, tmp_path):
    """A scenario expected to find a violation that passed is a failure saying how many trials passed."""
    _, cases = _cases(write_junit(outcomes, tmp_path / "junit.xml"))
    f = cases["lock-fixed"].find("failure")
    assert f is not None and f.get("type") == "unexpected-pass"
    assert "expected a violation but 20 trials passed" in f.get("message")


def test_error_case_carries_message_even_with_control_chars(outcomes, tmp_path):
    """Bad input is an error element typed by its error_kind with its message; characters XML
    cannot hold are replaced."""
    outcomes[-1]["error"] += "\x00\x1b[31m"
    outcomes[-1]["error_kind"] = "input"
    _, cases = _cases(write_junit(outcomes, tmp_path / "junit.xml"))
    e = cases["broken-yaml"].find("error")
    assert e is not None and "unknown key 'invariant'" in e.get("message") and e.get("type") == "input"
    assert cases["broken-yaml"].find("failure") is None
