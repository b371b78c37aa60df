"""The HTML page from `racecheck run --report-dir` labels an emulated backend EMULATED, as the
text line, JSON and JUnit do; on a real server it does not. Checked in headless Chromium."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"

SCENARIO = """\
name: redis-claim-buggy
target: redis_claim:claim
n: 3
trials: 20
strategy: random
seed: 1
backends: {redis: {env: REDIS_URL}}
spies: [{target: "redis_claim:spawn", key: job}]
invariants: [{exactly_once: spawn}]
expect: violation
"""

TARGET = """\
import os
import redis

def spawn(job): ...

def claim(job="job-1"):
    r = redis.Redis.from_url(os.environ["REDIS_URL"])
    if r.get("claim:" + job) is not None:
        return False
    r.set("claim:" + job, "1")
    spawn(job)
    return True
"""


def _dom(path: Path) -> str:
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"{CHROMIUM} not found: install it with `sh scripts/install-system-deps.sh`")
    with tempfile.TemporaryDirectory(prefix="racecheck-emulated-chromium-") as profile:
        proc = subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                               "--disable-background-networking", "--disable-component-update",
                               f"--user-data-dir={profile}", "--virtual-time-budget=3000", "--dump-dom",
                               f"file://{path}"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout


def _run(tmp: Path, provider: str) -> tuple[subprocess.CompletedProcess[str], Path]:
    (tmp / "claim.race.yaml").write_text(SCENARIO)
    (tmp / "redis_claim.py").write_text(TARGET)
    env = {**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{tmp}", "RACECHECK_PROVIDERS": provider,
           "RACECHECK_EXAMPLE_DB": "off"}
    proc = subprocess.run([sys.executable, "-m", "racecheck.cli", "run", str(tmp / "claim.race.yaml"),
                           "--report-dir", str(tmp / "html"), "--json", str(tmp / "r.json"),
                           "--junit", str(tmp / "r.xml")], capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    pages = sorted((tmp / "html").glob("*.html"))
    assert len(pages) == 1, proc.stdout
    return proc, pages[0]


def test_html_labels_an_emulated_backend_like_the_other_reports(parse, tmp_path: Path) -> None:
    proc, page = _run(tmp_path, "fakeredis")
    assert "[EMULATED: redis via fakeredis]" in proc.stdout  # the text line
    assert json.loads((tmp_path / "r.json").read_text())["scenarios"][0]["emulated"] == ["redis via fakeredis"]
    props = {p.get("name"): p.get("value") for p in ET.parse(tmp_path / "r.xml").getroot().iter("property")}
    assert props["emulated"] == "redis via fakeredis"

    dom = parse(_dom(page))
    panel = dom.by_id("emulated")
    assert panel is not None and panel.attrs["data-emulated"] == "redis via fakeredis"
    assert "EMULATED" in panel.text and "redis via fakeredis (not the real server)" in panel.text
    assert any("EMULATED" in n.text for n in dom.find("badge", "emulated"))
    title = next(n for n in dom.nodes if n.tag == "title")
    assert title.text.endswith("[EMULATED]")
    assert dom.by_id("violations") is not None and dom.find("violation")  # the bug itself is still shown


def test_html_on_a_real_server_has_no_emulated_label(parse, tmp_path: Path) -> None:
    proc, page = _run(tmp_path, "local")
    assert "EMULATED" not in proc.stdout
    text = _dom(page)
    dom = parse(text)
    assert dom.by_id("emulated") is None and not dom.find("badge", "emulated")
    assert "EMULATED" not in text
    assert dom.find("violation")


PYTEST_PROJECT = """\
import racecheck
import redis
from racecheck.report import write_html

def spawn(job): ...

def test_claim(race, race_redis):
    def claim(job="job-1"):
        r = redis.Redis.from_url(race_redis.url)
        if r.get("claim:" + job) is None:
            r.set("claim:" + job, "1")
            spawn(job)
    race.spy(__name__ + ":spawn", key="job")
    result = race.run(claim, n=3, trials=20, strategy="random", setup=race_redis.reset,
                      invariants=[racecheck.exactly_once("spawn")], check=False)
    print("HTML", write_html(result, None, "{out}"))
"""


@pytest.mark.parametrize(("provider", "emulated"), [("fakeredis", True), ("local", False)])
def test_html_written_in_a_pytest_test_labels_the_session_backend(pytester: pytest.Pytester, parse,
                                                                  provider: str, emulated: bool) -> None:
    out = pytester.path / "html"
    pytester.makepyfile(test_claim=PYTEST_PROJECT.replace("{out}", str(out)))
    res = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-s", f"--racecheck-providers={provider}",
                                        "--racecheck-example-db=off")
    res.assert_outcomes(passed=1)
    (page,) = out.glob("*.html")
    dom = parse(page.read_text())
    panel = dom.by_id("emulated")
    if emulated:
        assert panel is not None and panel.attrs["data-emulated"] == "redis via fakeredis"
    else:
        assert panel is None and "EMULATED" not in page.read_text()
