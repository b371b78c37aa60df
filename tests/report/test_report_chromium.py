"""The HTML timeline in a real browser: headless Chromium runs the page's script and we read the DOM."""

from __future__ import annotations

import os
import subprocess
import tempfile

import pytest

from racecheck.report import write_html

CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--window-size=1400,1000"]


def dump_dom(path: str) -> str:
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"{CHROMIUM} not found: install it with `apt-get install chromium` (CI's .ci/run does)")
    with tempfile.TemporaryDirectory(prefix="racecheck-chromium-") as profile:
        proc = subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={profile}", "--dump-dom", f"file://{path}"],
                              capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout


def test_chromium_renders_lanes_axis_and_duplicate(dup_result, tmp_path, parse):
    """After the script ran in Chromium, the page is marked rendered, has ms ticks, one laid-out lane
    per worker plus recovery, and the duplicate spawn highlighted in two lanes."""
    path = write_html(dup_result, None, tmp_path)
    dom = parse(dump_dom(path))
    body = next(n for n in dom.nodes if n.tag == "body")
    assert body.attrs.get("data-rendered") == "1"
    ticks = dom.find("tick")
    assert len(ticks) >= 2 and all(n.text.strip() for n in ticks)
    lanes = dom.find("lane")
    assert [n.attrs["data-worker"] for n in lanes] == ["0", "1", "2", "-1"]
    assert all("height:" in n.attrs.get("style", "").replace(" ", "") for n in dom.find("lane-track"))
    dups = dom.find("event", "effect", "duplicate")
    assert len({d.attrs["data-worker"] for d in dups}) == 2
    assert all(d.attrs["style"].replace(" ", "").count("px") >= 2 for d in dups)
    shown = [n for n in dom.find("label", "duplicate") if "display:none" not in n.attrs.get("style", "").replace(" ", "")]
    assert len(shown) == 2
