"""On real Postgres: the check-then-act dispatcher's failing schedule replays nearly every time."""

from __future__ import annotations

import pytest

import racecheck
from scheduling import targets


@pytest.fixture
def pg(race_postgres, monkeypatch: pytest.MonkeyPatch) -> str:  # noqa: ANN001
    """A fresh database from racecheck's backend fixture, its URL exported for the targets."""
    monkeypatch.setenv(targets.PG_ENV, race_postgres.url)
    targets.pg_reset()
    return str(race_postgres.url)


def test_postgres_dispatcher_schedule_replays_95_of_100(pg: str) -> None:
    """SELECT-then-INSERT without a constraint: its failing pct schedule reproduces at least 95 of 100 replays."""
    opts = dict(setup=targets.pg_reset, invariants=[racecheck.exactly_once("spawn")], timeout=10)
    res = racecheck.run(targets.pg_dispatch, n=2, trials=30, strategy="pct", seed=1, **opts)
    failure = res.first_failure
    assert failure is not None
    assert any(e.name.startswith("sql:SELECT") for e in failure.history.filter("sql"))
    rep = racecheck.replay(targets.pg_dispatch, failure.schedule, times=100, **opts)
    print(f"postgres check-then-act: {rep} ({failure.schedule})")
    assert rep.reproduced >= 95


def test_postgres_claiming_dispatcher_passes(pg: str) -> None:
    """INSERT ... ON CONFLICT DO NOTHING on a unique key spawns exactly once under pct with 3 workers."""
    res = racecheck.run(targets.pg_dispatch_fixed, n=3, trials=15, strategy="pct", seed=1, setup=targets.pg_reset,
                        invariants=[racecheck.exactly_once("spawn")], timeout=10)
    res.assert_ok()
