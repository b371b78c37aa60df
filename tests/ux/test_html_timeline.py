"""The HTML timeline in headless Chromium: the first spawn is not labelled DUPLICATE, labels are
never cut, the page fits its width (no sideways scrolling), a delayed command is drawn when it
was sent."""

from __future__ import annotations

import re
import uuid
from pathlib import Path

import pytest

import racecheck
from racecheck import history as h
from racecheck.report import write_html
from racecheck.timeline import describe, visible_events

from . import ux_targets as t
from .helpers import SPAWN, dump_dom, small_result


def _tags(dom: str, cls: str) -> list[str]:
    return [m.group(0) for m in re.finditer(r"<(?:span|div)[^>]*class=\"[^\"]*\b" + cls + r"\b[^\"]*\"[^>]*>[^<]*", dom)]


def test_first_spawn_is_not_labelled_duplicate(tmp_path: Path) -> None:
    path = write_html(small_result(), None, tmp_path)
    dom = dump_dom(path)
    assert 'data-rendered="1"' in dom
    labels = [tag for tag in _tags(dom, "label") if "duplicate" in tag]
    first = [tag for tag in labels if re.search(r'class="[^"]*\bfirst\b', tag)]
    again = [tag for tag in labels if re.search(r'class="[^"]*\bagain\b', tag)]
    assert len(first) == 1 and len(again) == 1
    css = Path(path).read_text()
    assert '.label.duplicate.again::before { content:"DUPLICATE "; }' in css
    assert '.label.duplicate::before' not in css  # the first one is not prefixed DUPLICATE


def _long_key_result() -> racecheck.RunResult:
    key = "session-" + "x" * 70
    return racecheck.run(t.buggy, args=(key,), n=3, trials=50, strategy="random", seed=1, setup=t.reset,
                         spies=[racecheck.spy(SPAWN, key="job")], invariants=[racecheck.exactly_once("spawn")])


@pytest.mark.parametrize("width", [700, 1400])
def test_labels_are_whole_and_the_page_fits_its_width(tmp_path: Path, width: int) -> None:
    r = _long_key_result()
    path = write_html(r, None, tmp_path)
    dom = dump_dom(path, width=width)
    assert 'data-fits="1"' in dom, "the timeline scrolls sideways"
    long_labels = [tag for tag in _tags(dom, "label") if "x" * 70 in tag]
    assert long_labels and all("\u2026" not in tag for tag in long_labels)
    if width == 700:
        assert any(re.search(r'class="[^"]*\bwrap\b', tag) for tag in long_labels)


def test_order_mode_fits_too(tmp_path: Path) -> None:
    path = write_html(small_result(n=8, trials=20), None, tmp_path)
    dom = dump_dom(path + "#order", width=800)
    assert 'data-mode="order"' in dom and 'data-fits="1"' in dom


@pytest.fixture
def delayed_result() -> racecheck.RunResult:
    redis = pytest.importorskip("redis")
    url = "redis://127.0.0.1:6379/0"
    key = f"racecheck-ux-{uuid.uuid4().hex}"

    def target() -> None:
        c = redis.Redis.from_url(url)
        try:
            c.set(key, racecheck.current_worker())
            c.get(key)
        finally:
            c.close()

    try:
        r = racecheck.run(target, n=2, trials=1, faults=[racecheck.delay("redis:SET*", 0.3, worker=0)])
    finally:
        c = redis.Redis.from_url(url)
        c.delete(key)
        c.close()
    return r


def test_delayed_command_is_drawn_when_it_was_sent(delayed_result: racecheck.RunResult, tmp_path: Path) -> None:
    trial = delayed_result.trials[0]
    raw = list(trial.history)
    fault = next(e for e in raw if e.kind == h.FAULT and e.name == "delay")
    recorded = next(e for e in raw if e.kind == h.REDIS and e.worker == 0 and e.name.startswith("redis:SET"))
    assert recorded.t < fault.t  # as recorded: the point was reached, then the sleep
    shown = visible_events(raw)
    moved = next(e for e in shown if e.kind == h.REDIS and e.worker == 0 and e.name.startswith("redis:SET"))
    assert moved.t >= fault.t + int(0.25e9)  # drawn at the end of the 0.3 s sleep
    assert shown.index(moved) > shown.index(fault)
    assert describe(moved).endswith("(sent after a 0.3 s delay)")
    dom = dump_dom(write_html(delayed_result, trial, tmp_path))
    ms = {m.group(2): float(m.group(1)) for m in re.finditer(
        r'data-ms="([0-9.]+)"[^>]*data-worker="0"[^>]*data-name="(delay|redis:SET[^"]*)"', dom)}
    set_ms = next(v for k, v in ms.items() if k.startswith("redis:SET"))
    assert set_ms >= ms["delay"] + 250
