"""The HTML timeline: lanes, marks, bars and highlights, checked both ways on real runs."""

from __future__ import annotations

import os
import re

import report_targets as t

import racecheck
from racecheck.report import render_html, report_paths_line, write_failing_html, write_html


def test_duplicate_effect_is_highlighted_on_both_workers(dup_result, parse):
    """The two spawns of one key are effect marks with class duplicate, in two different lanes."""
    dom = parse(render_html(dup_result))
    dups = dom.find("event", "effect", "duplicate")
    assert len(dups) == 2
    assert len({d.attrs["data-worker"] for d in dups}) == 2
    assert all(d.attrs["data-name"] == "spawn" and d.attrs["data-key"] == "abc" for d in dups)
    spans = dom.find("section", "effect-span", "duplicate")
    assert len(spans) == 2


def test_correct_dispatcher_has_no_duplicate(clean_dispatch_result, parse):
    """A trial of the atomic dispatcher shows its one spawn without any duplicate highlight."""
    trial = clean_dispatch_result.trials[-1]
    dom = parse(render_html(clean_dispatch_result, trial))
    assert len(dom.find("event", "effect")) == 1
    assert not [n for n in dom.nodes if n.classes & {"duplicate", "maybe-duplicate"}]
    assert dom.by_id("violations").text.strip().startswith("No invariant was violated")


def test_overlapping_sections_are_highlighted(overlap_result, parse):
    """Sections of one key held by two workers at once are bars with class overlap, plus a shaded window."""
    dom = parse(render_html(overlap_result))
    bars = dom.find("section", "critical", "overlap")
    assert len(bars) >= 2
    assert len({b.attrs["data-worker"] for b in bars}) >= 2
    assert all(b.attrs["data-name"] == "job" and b.attrs["data-key"] == "k1" for b in bars)
    assert dom.find("overlap-window")


def test_correct_lock_has_no_overlap(clean_lock_result, parse):
    """Sections of the atomic lock are drawn as bars but none is marked overlap."""
    dom = parse(render_html(clean_lock_result, clean_lock_result.trials[-1]))
    assert dom.find("section", "critical")
    assert not dom.find("overlap")
    assert not dom.find("overlap-window")


def test_one_lane_per_worker_and_recovery_lane(dup_result, parse):
    """Lanes exist for w0..w2 and the recovery step (worker -1), labelled as in the text timeline."""
    dom = parse(render_html(dup_result))
    lanes = {n.attrs["data-worker"]: n for n in dom.find("lane")}
    assert set(lanes) == {"0", "1", "2", "-1"}
    assert [n.text for n in dom.find("lane-name")] == ["w0", "w1", "w2", "recover"]


def test_crash_and_fault_marks_with_hover_text(dup_result, parse):
    """The crash of w2 is a fault mark and a crash mark in lane 2, each with a title naming the point."""
    dom = parse(render_html(dup_result))
    for kind in ("crash", "fault"):
        marks = dom.find("event", kind, data_worker="2")
        assert marks, kind
        assert "check" in marks[0].attrs["title"]


def test_violations_and_replay_line_shown(dup_result, parse):
    """The violations are listed with their messages and #replay holds the result's replay line."""
    trial = dup_result.first_failure
    dom = parse(render_html(dup_result, trial))
    items = dom.find("violation")
    assert [i.attrs["data-invariant"] for i in items] == [v.invariant for v in trial.violations]
    assert trial.violations[0].message in items[0].text
    replay = dom.by_id("replay")
    assert replay.attrs["data-replay"] == dup_result.replay_line(trial) != ""
    assert dup_result.replay_line(trial) in replay.text


def test_event_list_has_every_event_and_flags_violating_ones(dup_result, parse):
    """Each event of the trial is a row of #event-list; rows named by the violation are flagged."""
    trial = dup_result.first_failure
    dom = parse(render_html(dup_result, trial))
    rows = dom.find("event-row")
    assert len(rows) == len([e for e in trial.history if e.kind != "schedule"])
    assert len(dom.find("event-row", "flagged")) == len(set(trial.violations[0].times))


def test_page_is_self_contained(dup_result):
    """The page loads nothing from the network or other files: no src/href to anything."""
    page = render_html(dup_result)
    assert not re.search(r"\b(src|href)\s*=", page)
    assert "http://" not in page and "https://" not in page
    assert "<style>" in page and "<script>" in page


def test_user_text_is_escaped(parse):
    """Log messages, effect keys and the run name are HTML-escaped, never injected as markup."""
    evil = "<script>alert('x')</script>"

    def target() -> None:
        racecheck.log(evil)
        racecheck.effect("send", key='"><img onerror=1>')

    r = racecheck.run(target, n=2, trials=1, name="<b>run</b>")
    page = render_html(r, r.trials[0])
    assert evil not in page and "<img onerror" not in page and "<b>run</b>" not in page
    dom = parse(page)
    assert any(evil in n.text for n in dom.find("event-row"))
    assert dom.find("event", "effect")[0].attrs["data-key"] == '"><img onerror=1>'


def test_write_html_to_dir_and_file_and_paths_line(dup_result, tmp_path):
    """write_html names the file after the run and trial in a directory, honours a .html path, and
    report_paths_line names the absolute path."""
    p = write_html(dup_result, None, tmp_path / "out")
    assert os.path.basename(p) == f"racecheck-buggy_dispatch-trial{dup_result.first_failure.index + 1}.html"
    assert os.path.isfile(p)
    q = write_html(dup_result, dup_result.first_failure, tmp_path / "x" / "mine.html")
    assert q == str(tmp_path / "x" / "mine.html") and os.path.isfile(q)
    assert report_paths_line(os.path.relpath(q)) == f"HTML timeline: {q}"
    paths = write_failing_html(dup_result, tmp_path / "all")
    assert len(paths) == len(dup_result.failing) >= 1


def test_passing_run_page_says_no_violation(clean_lock_result, parse):
    """render_html of a passing run (no trial given) shows its last trial and a no-violation badge."""
    dom = parse(render_html(clean_lock_result))
    assert dom.find("badge", "pass")
    assert not dom.find("violation")


def test_stress_trial_says_not_replayable(parse):
    """A stress-strategy trial has no schedule, so #replay says how to get one instead of a command."""
    r = racecheck.run(t.correct_lock, n=2, trials=1, strategy="stress", setup=t.reset)
    dom = parse(render_html(r, r.trials[0]))
    assert dom.by_id("replay").attrs["data-replay"] == ""
    assert "strategy='random'" in dom.by_id("replay").text



def test_section_cut_by_crash_is_open_bar(parse):
    """A worker crashing inside its section leaves an 'open' bar ending at the crash, not an overlap."""
    r = racecheck.run(t.correct_lock, n=2, trials=1, strategy="random", seed=3, setup=t.reset,
                      faults=[racecheck.crash(at="work")])
    dom = parse(render_html(r, r.trials[0]))
    crash = dom.find("event", "crash")[0]
    bars = dom.find("section", "critical", "open")
    assert len(bars) == 1 and bars[0].attrs["data-worker"] == crash.attrs["data-worker"]
    assert bars[0].attrs["data-e"] == crash.attrs["data-idx"]
    assert not dom.find("overlap")


def test_spied_call_cut_by_crash_is_indeterminate_bar(parse):
    """A crash inside the spied spawn leaves an indeterminate effect-span bar, not a duplicate."""
    r = racecheck.run(t.correct_dispatch, n=2, trials=1, strategy="random", seed=3, setup=t.reset,
                      spies=[racecheck.spy(f"{t.__name__}:spawn", key="sha")],
                      faults=[racecheck.crash(at="spawning")])
    dom = parse(render_html(r, r.trials[0]))
    bars = dom.find("section", "effect-span", "indeterminate")
    assert len(bars) == 1 and bars[0].attrs["data-name"] == "spawn"
    assert not [n for n in dom.nodes if n.classes & {"duplicate", "maybe-duplicate"}]
