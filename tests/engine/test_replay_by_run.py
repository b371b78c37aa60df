"""``run(strategy="replay", schedule=...)`` (what the pytest marker uses) replays the recorded trial with
the recorded seed, so seeded faults (``p=``) decide as they did; the report names the trial it replayed."""

from __future__ import annotations

import racecheck
from racecheck import faults
from racecheck.scheduling import Schedule

STATE: dict[str, int] = {}


def reset() -> None:
    STATE.clear()


def flaky_worker() -> None:
    racecheck.point("work")  # a seeded fault may raise here
    racecheck.point("done")


def _failing_schedule() -> tuple[str, dict]:
    opts = dict(n=3, trials=40, faults=[faults.error("work", p=0.3, optional=True)],
                invariants=[racecheck.no_exceptions()], setup=reset)
    for seed in range(1, 200):
        res = racecheck.run(flaky_worker, seed=seed, strategy="random", **opts)
        if not res.ok and res.first_failure.index > 0:  # a later trial: its own seeded draws
            return res.first_failure.schedule, opts
    raise AssertionError("no seed in 1..199 failed after the first trial")


def test_replay_by_run_uses_the_schedules_seed_and_trial() -> None:
    schedule, opts = _failing_schedule()
    sched = Schedule.decode(schedule)
    opts = {**opts, "trials": 1}
    for _ in range(5):  # no seed given: the schedule's own, every time
        res = racecheck.run(flaky_worker, strategy="replay", schedule=schedule, **opts)
        assert res.seed == sched.seed
        assert not res.ok, "the seeded fault decides as in the recorded trial, so the failure reproduces"
        assert res.first_failure.index == sched.trial
        head = res.report().splitlines()[0]
        assert f"trial {sched.trial + 1} (replayed on its own)" in head and "/1 " not in head


def test_an_explicit_seed_still_wins_and_a_correct_target_passes_its_replay() -> None:
    schedule, opts = _failing_schedule()
    res = racecheck.run(flaky_worker, strategy="replay", schedule=schedule, seed=12345,
                        **{**opts, "trials": 1, "faults": []})
    assert res.seed == 12345
    assert res.ok, res.report()  # no fault: nothing raises under the same interleaving
