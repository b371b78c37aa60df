"""The JSON report: a stable, documented document that round-trips through json.loads."""

from __future__ import annotations

import json

import pytest

from racecheck.report import build_json, write_json
from racecheck.report.json_report import FIELDS


def test_json_round_trips_with_documented_fields(outcomes, tmp_path):
    """write_json writes format, version, machine, date, summary counts and one entry per scenario."""
    path = write_json(outcomes, tmp_path / "sub" / "report.json")
    doc = json.loads(open(path, encoding="utf-8").read())
    assert doc["format"] == "racecheck-report" and doc["version"] == 1
    assert {"hostname", "platform", "python", "cpus"} <= set(doc["machine"])
    assert doc["created"].endswith("+00:00")
    assert doc["summary"] == {"total": 5, "as-expected": 2, "unexpected-pass": 1,
                              "unexpected-violation": 1, "inconclusive": 0, "error": 1, "ok": False}
    assert [s["scenario"] for s in doc["scenarios"]] == [o["scenario"] for o in outcomes]
    for s in doc["scenarios"]:
        assert set(FIELDS) | {"ok"} == set(s)


def test_json_results_are_run_dicts(outcomes, dup_result):
    """A RunResult is stored as its to_dict(); an error outcome has no result and keeps its message."""
    doc = json.loads(json.dumps(build_json(outcomes)))
    first, _, fixed, _, broken = doc["scenarios"]
    assert first["ok"] is True and first["result"]["violations"][0]["invariant"] == "exactly_once"
    assert first["result"]["replay"] == dup_result.replay_line()
    assert first["html"].endswith("d.html")
    assert fixed["ok"] is False and fixed["result"]["ok"] is True
    assert broken["result"] is None and "unknown key" in broken["error"]


def test_all_as_expected_summary_is_ok(outcomes):
    """The summary is ok only when every scenario behaved as expected."""
    good = [o for o in outcomes if o["status"] == "as-expected"]
    assert build_json(good)["summary"]["ok"] is True
    assert build_json(outcomes)["summary"]["ok"] is False


def test_bad_status_is_rejected(outcomes, tmp_path):
    """An outcome with an unknown status is refused with a message naming the allowed ones."""
    bad = dict(outcomes[0], status="flaky")
    with pytest.raises(ValueError, match="as-expected"):
        write_json([bad], tmp_path / "r.json")
    assert not (tmp_path / "r.json").exists()
