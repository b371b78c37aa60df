"""psycopg 3 (sync) on the same races as every other driver: caught under pct, fixed forms pass 200 trials."""

from __future__ import annotations

import pytest

from drivers import scenarios
from drivers.targets import pg3

BUGGY = scenarios.buggy(pg3)
FIXED = scenarios.fixed(pg3)


@pytest.mark.parametrize("scenario", list(BUGGY))
def test_buggy_forms_are_caught_under_pct(race_postgres, scenario):
    target, invariants = BUGGY[scenario]
    needed = scenarios.caught_by(target, race_postgres.url, invariants, strategy="pct")
    print(f"psycopg {scenario}: trials needed per seed {needed}")
    assert None not in needed, f"{scenario}: not caught in 30 trials for some seeds: {needed}"
    assert scenarios.within(needed, 10) >= scenarios.WITHIN_10, f"{scenario}: {needed}"


@pytest.mark.parametrize("scenario", list(FIXED))
def test_fixed_forms_pass_200_pct_trials(race_postgres, scenario):
    target, invariants = FIXED[scenario]
    scenarios.passes(target, race_postgres.url, invariants, strategy="pct")
