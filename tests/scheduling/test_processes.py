"""Process workers are controlled too: a cross-process check-then-act gets a schedule that replays."""

from __future__ import annotations

import pytest

import racecheck
from racecheck.scheduling import Schedule
from scheduling import targets


@pytest.fixture
def state_file(tmp_path, monkeypatch: pytest.MonkeyPatch):  # noqa: ANN001, ANN201
    path = tmp_path / "state.txt"
    monkeypatch.setenv(targets.FILE_ENV, str(path))

    def reset() -> None:
        path.write_text("")

    reset()
    return reset


def test_process_check_then_act_under_pct_gets_a_schedule_that_replays(state_file) -> None:  # noqa: ANN001
    """Under strategy="pct" in process mode a file-backed check-then-act fails with a schedule that replays."""
    # Nothing blocks here: a fixed quantum keeps a slow pipe round trip under CPU load from
    # being taken for a blocked worker (which would change the schedule).
    opts = dict(mode="processes", setup=state_file, invariants=[racecheck.exactly_once("spawn")], timeout=20,
                quantum=1.0)
    res = racecheck.run("scheduling.targets:file_check_then_act", n=2, trials=10, strategy="pct", seed=2, **opts)
    failure = res.first_failure
    assert failure is not None, "pct should interleave the two processes between read and write"
    sched = Schedule.decode(failure.schedule)
    assert sched.n == 2 and sched.context_switches >= 1
    assert len({e.pid for e in failure.history.filter("start")}) == 2
    rep = racecheck.replay("scheduling.targets:file_check_then_act", failure.schedule, times=3, **opts)
    assert rep.reproduced == 3


def test_process_run_to_completion_schedule_passes(state_file) -> None:  # noqa: ANN001
    """In process mode the schedule that runs one worker to completion first does not spawn twice."""
    opts = dict(mode="processes", setup=state_file, invariants=[racecheck.exactly_once("spawn")], timeout=20)
    res = racecheck.run("scheduling.targets:file_check_then_act", n=2, trials=1, strategy="dfs",
                        max_preemptions=0, seed=1, **opts)
    res.assert_ok()
    assert res.exhausted
