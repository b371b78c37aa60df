"""Incident 000: check-then-act trigger, the keyed mutex + unique index fix, and migration 0013."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest
from incidents import s000_trigger as m

import racecheck

SPAWN = "incidents.s000_trigger:spawn_reviewer"


def _unique_runs(history: Any) -> str | None:
    dups = m.duplicate_runs()
    return f"duplicate review runs recorded: {dups}" if dups else None


UNIQUE_RUNS = racecheck.custom(_unique_runs, "unique_runs")


def test_buggy_trigger_spawns_twice(race: Any, pg: Any) -> None:
    """Two near-simultaneous triggers of the unserialised trigger both spawn a reviewer and record a run."""
    race.spy(SPAWN, key="session_id,sha")
    result = race.run(m.trigger_buggy, n=4, trials=10, strategy="pct", seed=1, setup=m.setup,
                      invariants=[racecheck.exactly_once("spawn_reviewer"), UNIQUE_RUNS])
    result.assert_violation("exactly_once")
    assert result.trials_to_detection is not None and result.trials_to_detection <= 3


def test_fixed_trigger_spawns_once(race: Any, pg: Any) -> None:
    """With the keyed mutex and the unique index, N triggers spawn once and record one run."""
    race.spy(SPAWN, key="session_id,sha")
    result = race.run(m.trigger_fixed, n=4, trials=15, seed=1, setup=m.setup_fixed,
                      invariants=[racecheck.exactly_once("spawn_reviewer"), UNIQUE_RUNS, racecheck.no_exceptions()])
    result.assert_ok()


def _two_daemons(i: int) -> tuple[Any, ...]:
    return ("w1", "abc", None, i % 2)  # workers 0, 2 in daemon 0; 1, 3 in daemon 1


def test_without_fallback_a_second_daemon_raises(race: Any, pg: Any) -> None:
    """Across two daemons the in-process mutex does not serialise: the loser hits the index and raises."""
    result = race.run(m.trigger_no_fallback, n=4, trials=10, strategy="pct", seed=1, worker_args=_two_daemons,
                      setup=m.setup_fixed, invariants=[racecheck.no_exceptions()])
    result.assert_violation("no_exceptions")
    assert "UniqueViolation" in str(result.violations[0])


def test_fallback_returns_existing_run_across_daemons(race: Any, pg: Any) -> None:
    """With the unique-violation fallback, two daemons record one run and neither raises."""
    result = race.run(m.trigger_fixed, n=4, trials=15, seed=1, worker_args=_two_daemons,
                      setup=m.setup_fixed, invariants=[racecheck.no_exceptions(), UNIQUE_RUNS])
    result.assert_ok()


def test_fallback_across_processes(race: Any, pg: Any) -> None:
    """Two real daemon processes: one run recorded, no raw error, although both may spawn (the index guards records only)."""
    result = race.run("incidents.s000_trigger:trigger_fixed", mode="processes", n=2, trials=2, seed=1,
                      setup=m.setup_fixed, invariants=[racecheck.no_exceptions(), UNIQUE_RUNS])
    result.assert_ok()


def test_index_excludes_empty_sha(pg: Any) -> None:
    """The partial index blocks a second (session, sha) row but not rows whose head sha is still empty."""
    m.setup_fixed()
    with psycopg.connect(pg.url, autocommit=True) as conn:
        for _ in range(2):
            conn.execute("INSERT INTO review_run (session_id, target_sha) VALUES ('w1', '')")
        conn.execute("INSERT INTO review_run (session_id, target_sha) VALUES ('w1', 'abc')")
        with pytest.raises(psycopg.errors.UniqueViolation):
            conn.execute("INSERT INTO review_run (session_id, target_sha) VALUES ('w1', 'abc')")


def test_buggy_migration_wedges_on_duplicates(race: Any, pg: Any) -> None:
    """CREATE UNIQUE INDEX on a table that already holds duplicates fails: startup is wedged."""
    result = race.run(m.migrate_buggy, n=2, trials=2, seed=1, setup=m.seed_duplicates,
                      invariants=[racecheck.no_exceptions()])
    result.assert_violation("no_exceptions")
    assert "UniqueViolation" in str(result.violations[0])


def test_fixed_migration_collapses_then_indexes(race: Any, pg: Any) -> None:
    """Two daemons starting at once on a table with duplicates both migrate cleanly, leaving one run per key."""
    result = race.run(m.migrate_fixed, n=2, trials=3, seed=1, setup=m.seed_duplicates,
                      invariants=[racecheck.no_exceptions(), UNIQUE_RUNS])
    result.assert_ok()


def test_fixed_migration_keeps_completed_then_newest(pg: Any) -> None:
    """The survivor of a duplicate group is the completed run, else the newest; empty-sha rows stay."""
    m.seed_duplicates()
    m.migrate_fixed()
    rows = pg_rows(pg.url, "SELECT session_id, target_sha, status, created_at FROM review_run ORDER BY id")
    by_key = {(r[0], r[1]): r for r in rows if r[1]}
    assert by_key[("w1", "abc")][2] == "completed"
    newest_w2 = pg_rows(pg.url, "SELECT now() - interval '90 seconds'")[0][0]
    assert by_key[("w2", "def")][3] > newest_w2  # the row created 1 min ago, not the one from 2 min ago
    assert sum(1 for r in rows if r[1] == "") == 2


def pg_rows(url: str, sql: str) -> list[tuple[Any, ...]]:
    with psycopg.connect(url, autocommit=True) as conn:
        return conn.execute(sql).fetchall()
