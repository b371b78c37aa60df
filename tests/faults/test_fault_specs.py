"""Fault specs without servers: validation, matching, occurrences, workers, spy points, point() outside a run."""

from __future__ import annotations

import pytest

import racecheck
from faults.targets import points
from racecheck import history as h
from racecheck.errors import ConfigError
from racecheck.faults import Fault, error


@pytest.mark.parametrize(("make", "words"), [
    (lambda: Fault("explode"), "unknown fault action"),
    (lambda: racecheck.crash(at="x", nth=0), "nth must be >= 1"),
    (lambda: racecheck.crash(at="x", p=1.5), "probability must be within 0..1"),
    (lambda: racecheck.crash(at=""), "pattern is empty"),
    (lambda: racecheck.crash(at="sql:[UPDATE"), r"unclosed '\['"),
    (lambda: racecheck.backend_down(at="x", how="unplug"), "how must be 'kill' or 'stop'"),
    (lambda: racecheck.scrub_env(["A"], when="later"), "when must be one of"),
    (lambda: racecheck.db_error(error="SerialisationFailure"), "no exception class 'SerialisationFailure'"),
    (lambda: racecheck.redis_error(error="ConnectionErr"), "no exception class 'ConnectionErr'"),
])
def test_bad_fault_specs_are_refused_with_a_named_fix(make, words):
    """A spec that can never work is refused when built, with a message naming the field."""
    with pytest.raises(ConfigError, match=words):
        make()


@pytest.mark.parametrize(("fault", "label", "phase", "expected"), [
    (racecheck.crash(at="spawn"), "spawn:before", "before", True),
    (racecheck.crash(at="spawn"), "spawn:after", "before", False),
    (racecheck.crash(at="spawn:after"), "spawn:after", "before", True),
    (racecheck.crash(at="spawn", after=True), "spawn:after", "before", True),
    (racecheck.crash(at="spawn", after=True), "spawn:before", "before", False),
    (racecheck.crash(at="sql:update*queued*"), "sql:UPDATE jobs SET status='queued'", "before", True),
    (racecheck.crash(at="sql:update*queued*"), "sql:UPDATE jobs SET status='done'", "before", False),
    (racecheck.db_error(at="sql:INSERT*", after_commit=True), "sql:INSERT INTO t", "after", True),
    (racecheck.db_error(at="sql:INSERT*", after_commit=True), "sql:INSERT INTO t", "before", False),
])
def test_fault_matching(fault, label, phase, expected):
    """Globs match labels case-insensitively; a bare name means its :before point (:after with after=True);
    statement labels have an after phase (after the commit) that only after=True faults match."""
    assert fault.matches(label, phase) is expected


def _fired_steps(fault) -> list[tuple[int | None, list[str | None]]]:
    res = racecheck.run(points.three_steps, n=2, trials=1, faults=[fault], invariants=[])
    hist = res.trials[0].history
    return [(w, [e.key for e in hist.filter(h.EFFECT, worker=w)]) for w in (0, 1)]


def test_nth_occurrence_and_worker_selection():
    """crash(nth=2, worker=1) kills only w1, at its second `step`: w1 recorded one step, w0 all three."""
    assert _fired_steps(racecheck.crash(at="step", nth=2, worker=1)) == [(0, ["0", "1", "2"]), (1, ["0"])]


def test_every_occurrence():
    """every=True fires at each occurrence: a clock shift applied three times per worker."""
    res = racecheck.run(points.three_steps, n=2, trials=1, invariants=[],
                        faults=[racecheck.clock(at="step", shift=1.0, every=True)])
    assert len(res.trials[0].history.filter(h.FAULT)) == 6


def test_recovery_step_is_faulted_only_when_named():
    """A fault for all workers skips the recovery step; naming worker -1 targets it."""
    for workers, expected in ((None, 0), (-1, 1)):
        res = racecheck.run(points.three_steps, n=1, trials=1, invariants=[],
                            recover=lambda: racecheck.point("step"),
                            faults=[error(at="step", error="ValueError", worker=workers, nth=1)])
        recovery_faults = [e for e in res.trials[0].history.filter(h.FAULT) if e.worker == -1]
        assert len(recovery_faults) == expected
        assert res.verdict == "pass", res.reasons  # the fault fired (in w0, or in the recovery step)


def test_spied_function_points_before_and_after():
    """A crash at `spawn` (its :before point) prevents the effect; with after=True the effect happened first."""
    spy = racecheck.spy("faults.targets.points:spawn", key="job")
    before = racecheck.run(points.spawn_once, n=1, trials=1, spies=[spy], faults=[racecheck.crash(at="spawn")],
                           invariants=[racecheck.at_most_once("spawn")])
    after = racecheck.run(points.spawn_once, n=1, trials=1, spies=[spy],
                          faults=[racecheck.crash(at="spawn", after=True)],
                          invariants=[racecheck.exactly_once("spawn", keys=["j1"])])
    assert before.trials[0].history.effects("spawn") == []
    after.assert_ok()
    assert [r.status for r in after.trials[0].history.effects("spawn")] == ["done"]
    assert after.trials[0].history.crashed_workers() == {0}


def test_point_outside_a_run_is_a_no_op():
    """racecheck.point() outside a run does nothing and returns None (overhead: benchmarks/bench_points.py)."""
    assert racecheck.point("anything", extra=1) is None
    points.three_steps()  # hooks are inert outside a run
