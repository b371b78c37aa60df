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
    scenarios.check_found(f"psycopg {scenario}",
                          scenarios.caught_by(target, race_postgres.url, invariants, strategy="pct"))


@pytest.mark.parametrize("scenario", list(FIXED))
def test_fixed_forms_pass_200_pct_trials(race_postgres, scenario):
    target, invariants = FIXED[scenario]
    scenarios.passes(target, race_postgres.url, invariants, strategy="pct")
