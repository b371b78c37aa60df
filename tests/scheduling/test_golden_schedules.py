"""The choice rule is one implementation for threads and asyncio, and it still makes the 0.2.0 schedules.

``golden_schedules.json`` holds the schedules that the two separate choice rules of 0.2.0
(the thread ``Controller`` and the asyncio gate) gave for a fixed set of targets, strategies,
seeds and N, recorded before they were merged (see ``golden.py``). Same seed, same schedule.
"""

from __future__ import annotations

import json

import pytest

from . import golden

RECORDED = json.loads(golden.FIXTURE.read_text())


def test_fixture_covers_every_case() -> None:
    """The fixture and the case list agree, so no case is silently skipped."""
    assert sorted(RECORDED) == sorted(golden.key(c) for c in golden.cases())
    assert all(s and all(x and x.startswith("rc1:") for x in s) for s in RECORDED.values())


@pytest.mark.parametrize("case", golden.cases(), ids=golden.key)
def test_same_schedules_as_recorded(case: dict) -> None:  # type: ignore[type-arg]
    assert golden.schedules(case) == RECORDED[golden.key(case)]
