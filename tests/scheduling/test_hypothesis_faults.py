"""Hypothesis draws fault choices as well as schedules, and the schedule string carries them."""

from __future__ import annotations

import racecheck
from racecheck.scheduling import Schedule

CLAIMS: dict[str, int] = {}


def spawn(key: str) -> None:
    """The side effect."""


def _claim(key: str) -> bool:
    racecheck.point("claim")
    if key in CLAIMS:
        return False
    CLAIMS[key] = 1
    return True


def dispatch_fail_open(key: str = "k") -> None:
    """Buggy: a failed claim is treated as 'claimed', so the work runs without the dedup."""
    try:
        claimed = _claim(key)
    except ConnectionError:
        claimed = True
    if claimed:
        spawn(key)


def dispatch_fail_closed(key: str = "k") -> None:
    """Correct: a failed claim raises, and nothing is spawned."""
    if _claim(key):
        spawn(key)


def _run(target: object, trials: int = 60) -> racecheck.RunResult:
    return racecheck.run(
        target, n=2, trials=trials, strategy="hypothesis", seed=3, setup=CLAIMS.clear,
        spies=[racecheck.spy(f"{__name__}:spawn", key="key")],
        faults=[racecheck.faults.error("claim", "ConnectionError", p=0.5)],
        invariants=[racecheck.fail_closed("spawn")],
    )


def test_hypothesis_finds_a_bug_that_needs_a_fault_and_records_the_fault_choice() -> None:
    """A fail-open claim is caught, and its schedule string records which faults fired."""
    result = _run(dispatch_fail_open)
    result.assert_violation("fail_closed")
    failing = result.first_failure
    assert failing is not None and failing.schedule is not None
    schedule = Schedule.decode(failing.schedule)
    assert 1 in schedule.faults
    assert "shrunk schedule" in result.report()


def test_a_schedule_with_fault_choices_replays_the_same_faults() -> None:
    """Replaying the recorded schedule fires the same faults and reproduces every time."""
    result = _run(dispatch_fail_open)
    failing = result.first_failure
    assert failing is not None and failing.schedule is not None
    replayed = racecheck.replay(
        dispatch_fail_open, failing.schedule, times=10, setup=CLAIMS.clear,
        spies=[racecheck.spy(f"{__name__}:spawn", key="key")],
        faults=[racecheck.faults.error("claim", "ConnectionError", p=0.5)],
        invariants=[racecheck.fail_closed("spawn")],
    )
    assert replayed.reproduced == 10


def test_hypothesis_passes_a_claim_that_fails_closed() -> None:
    """With the same drawn faults, a claim that fails closed has no violation."""
    result = _run(dispatch_fail_closed, trials=40)
    assert result.ok, result.report()


def test_schedule_string_round_trips_fault_choices() -> None:
    """Fault decisions survive encode/decode, and a schedule without them has no f-field."""
    s = Schedule(2, 7, 3, (0, 0, 1, 0), (1, 0, 1))
    assert Schedule.decode(s.encode()) == s
    assert ":f" not in Schedule(2, 7, 3, (0, 1)).encode()
