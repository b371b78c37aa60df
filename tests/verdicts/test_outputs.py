"""The verdict in every output: CLI exit codes, terminal lines, JSON, JUnit, HTML; EMULATED labels (item 8)."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

import racecheck
from racecheck.cli import main
from racecheck.report import write_html

from . import targets

BLIND = """
name: blind-{expect}
target: verdicts.targets:blind_check_then_act
setup: verdicts.targets:reset
n: 2
trials: 3
strategy: pct
seed: 1
invariants: [{{at_most_once: spawn}}]
expect: {expect}
"""

CAUGHT = """
name: caught-{expect}
target: verdicts.targets:check_then_act
setup: verdicts.targets:reset
n: 2
trials: 20
strategy: random
seed: 3
invariants: [{{at_most_once: spawn}}]
expect: {expect}
"""


def _run(tmp_path: Path, text: str, *extra: str) -> tuple[int, dict, ET.Element]:
    path = tmp_path / "s.race.yaml"
    path.write_text(text)
    code = main(["run", str(path), "--json", str(tmp_path / "r.json"), "--junit", str(tmp_path / "r.xml"), *extra])
    return code, json.loads((tmp_path / "r.json").read_text()), ET.parse(tmp_path / "r.xml").getroot()


def test_inconclusive_scenario_exits_4_and_says_why_everywhere(tmp_path: Path,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    code, doc, junit = _run(tmp_path, BLIND.format(expect="pass"))
    assert code == 4
    out = capsys.readouterr().out
    assert "INCONCLUSIVE blind-pass: inconclusive, no violation" in out and "no scheduling point reached" in out
    assert "1 inconclusive" in out and "exit 4" in out
    s = doc["scenarios"][0]
    assert s["status"] == "inconclusive" and s["verdict"] == "inconclusive" and not s["ok"]
    assert "no scheduling point reached" in s["reasons"][0]
    assert doc["summary"]["inconclusive"] == 1
    case = junit.find(".//testcase")
    assert case is not None
    failure = case.find("failure")
    assert failure is not None and failure.get("type") == "inconclusive"
    assert "no scheduling point reached" in (failure.get("message") or "")
    assert junit.get("failures") == "1"


def test_expect_violation_on_a_blind_run_is_never_as_expected(tmp_path: Path) -> None:
    code, doc, _ = _run(tmp_path, BLIND.format(expect="violation"))
    assert code == 4 and doc["scenarios"][0]["status"] == "inconclusive"


def test_expect_inconclusive_is_as_expected_only_when_inconclusive(tmp_path: Path) -> None:
    code, doc, _ = _run(tmp_path, BLIND.format(expect="inconclusive"))
    assert code == 0 and doc["scenarios"][0]["status"] == "as-expected"
    code, doc, _ = _run(tmp_path, CAUGHT.format(expect="inconclusive"))
    assert code == 1 and doc["scenarios"][0]["status"] == "unexpected-violation"


def test_a_caught_violation_and_a_pass_keep_their_exit_codes(tmp_path: Path) -> None:
    code, doc, _ = _run(tmp_path, CAUGHT.format(expect="violation"))
    assert code == 0 and doc["scenarios"][0]["verdict"] == "violation"
    code, doc, _ = _run(tmp_path, CAUGHT.format(expect="pass"))
    assert code == 1


def test_html_report_shows_the_verdict_banner(tmp_path: Path) -> None:
    res = racecheck.run(targets.blind_check_then_act, n=2, trials=2, strategy="pct", seed=1,
                        setup=targets.reset, invariants=[racecheck.at_most_once("spawn")])
    page = Path(write_html(res, None, tmp_path / "r.html")).read_text()
    assert 'id="verdict"' in page and 'data-verdict="inconclusive"' in page
    assert "Verdict: INCONCLUSIVE" in page and "no scheduling point reached" in page
    ok = racecheck.run(targets.check_then_act_locked, n=2, trials=2, strategy="random", seed=1,
                       setup=targets.reset, invariants=[racecheck.at_most_once("spawn")])
    assert 'data-verdict="pass"' in Path(write_html(ok, None, tmp_path / "ok.html")).read_text()


def test_summary_and_report_name_the_verdict() -> None:
    res = racecheck.run(targets.blind_check_then_act, n=2, trials=2, strategy="pct", seed=1,
                        setup=targets.reset, invariants=[racecheck.at_most_once("spawn")])
    assert res.summary().startswith("blind_check_then_act: INCONCLUSIVE after 2 trials, no violation: ")
    assert "  - no scheduling point reached" in res.report()
    d = res.to_dict()
    assert d["verdict"] == "inconclusive" and d["ok"] is True and d["reasons"] == res.reasons


REDIS = """
name: redis-claim
target: verdicts.targets:redis_claim
setup: verdicts.targets:redis_reset
n: 2
trials: 2
backends: {redis: {}}
invariants: [{at_most_once: spawn}]
"""


def test_fakeredis_is_labelled_emulated_in_every_output(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("fakeredis")
    monkeypatch.setenv("RACECHECK_PROVIDERS", "fakeredis")
    code, doc, junit = _run(tmp_path, REDIS, "--providers", "fakeredis")
    out = capsys.readouterr().out
    assert code == 0, out
    assert "PASS   redis-claim [EMULATED: redis via fakeredis]: no violation" in out
    assert "redis-claim [EMULATED]" in out  # the summary table
    assert doc["scenarios"][0]["emulated"] == ["redis via fakeredis"]
    prop = junit.find(".//testcase/properties/property[@name='emulated']")
    assert prop is not None and prop.get("value") == "redis via fakeredis"
    assert "EMULATED: redis via fakeredis" in (junit.findtext(".//testcase/system-out") or "")


def test_a_real_redis_is_not_labelled(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RACECHECK_PROVIDERS", "local")
    code, doc, junit = _run(tmp_path, REDIS, "--providers", "local")
    out = capsys.readouterr().out
    assert code == 0, out
    assert "EMULATED" not in out and doc["scenarios"][0]["emulated"] == []
    names = [p.get("name") for p in junit.iterfind(".//testcase/properties/property")]
    assert "emulated" not in names and "backend.redis" in names, names  # the real server is named


def test_replay_on_fakeredis_says_emulated(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("fakeredis")
    from racecheck.scheduling import Schedule

    monkeypatch.setenv("RACECHECK_PROVIDERS", "fakeredis")
    path = tmp_path / "s.race.yaml"
    path.write_text(REDIS)
    schedule = Schedule(2, 1, 0, (0, 1), ()).encode()
    main(["--providers", "fakeredis", "replay", str(path), schedule, "--times", "1"])
    assert "EMULATED: redis via fakeredis (not the real server)" in capsys.readouterr().out
