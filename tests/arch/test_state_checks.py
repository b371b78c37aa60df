"""One vocabulary of state checks: each check both ways, every source form, bounds validated."""

from __future__ import annotations

from typing import Any

import pytest

from racecheck.errors import ConfigError
from racecheck.history import History
from racecheck.result import TrialRecord
from racecheck.state_checks import (
    Bounds,
    NoRows,
    RedisKeys,
    RowCount,
    RowsQuery,
    RowsUnique,
    SqlValue,
)


class FakeDb:
    def __init__(self, rows: list[tuple[Any, ...]]) -> None:
        self.rows = rows

    def execute(self, sql: str) -> list[tuple[Any, ...]]:
        return self.rows


class FakeRedis:
    def __init__(self, keys: list[str]) -> None:
        self.keys, self.closed = keys, 0

    def client(self) -> FakeRedis:
        return self

    def scan_iter(self, match: str, count: int) -> list[bytes]:
        import fnmatch

        return [k.encode() for k in self.keys if fnmatch.fnmatchcase(k, match)]

    def close(self) -> None:
        self.closed += 1


TRIAL = TrialRecord(0, History([]), 0, 0)


def test_no_rows_both_ways() -> None:
    assert NoRows(FakeDb([]), "select id from t").check(TRIAL) == []
    [v] = NoRows(FakeDb([("a",), ("b",)]), "select id from t", name="stuck").check(TRIAL)
    assert v.invariant == "stuck" and "2 row(s) violate" in v.message and v.keys == ("a", "b")


def test_row_count_counts_rows_and_value_reads_first_column() -> None:
    """The two checks the old code both called SqlCount now have different names for different meanings."""
    db = FakeDb([(7,)])  # one row whose first column is 7
    assert RowCount(db, "q", equals=1).check(TRIAL) == []
    assert RowCount(db, "q", equals=7).check(TRIAL)[0].message == "'q' returned 1 row(s); expected exactly 7"
    assert SqlValue(db, "q", equals=7).check(TRIAL) == []
    assert "returned 7, expected at most 3" in SqlValue(db, "q", at_most=3).check(TRIAL)[0].message


def test_rows_unique_both_ways() -> None:
    assert RowsUnique(FakeDb([("a",), ("b",)]), "q").check(TRIAL) == []
    [v] = RowsUnique(FakeDb([("a",), ("a",), ("b",)]), "q").check(TRIAL)
    assert "x2" in v.message


def test_redis_keys_both_ways_and_closes_its_client() -> None:
    handle = FakeRedis(["claim:1", "claim:2", "other"])
    assert RedisKeys(handle, "claim:*", equals=2).check(TRIAL) == []
    [v] = RedisKeys(handle, "claim:*", at_most=1).check(TRIAL)
    assert "claim:1, claim:2" in v.message and v.keys == ("claim:1", "claim:2")
    assert handle.closed == 0  # the handle's own client is the handle here: not closed under it


def test_sources_mapping_filled_later_and_callable() -> None:
    handles: dict[str, Any] = {}
    check = NoRows((handles, "postgres"), "select 1")  # built before any server exists
    handles["postgres"] = FakeDb([("x",)])
    assert check.check(TRIAL)
    assert RowsQuery((handles, "postgres"), "q")() == [("x",)]
    with pytest.raises(ConfigError, match="'redis' backend"):
        RedisKeys(({}, "redis"), "k*", equals=0).check(TRIAL)


@pytest.mark.parametrize("kw", [{}, {"equals": 1, "at_most": 2}, {"at_least": 3, "at_most": 2}])
def test_bad_bounds_are_config_errors(kw: dict[str, int]) -> None:
    with pytest.raises(ConfigError):
        Bounds.of("check", kw.get("equals"), kw.get("at_least"), kw.get("at_most"))


def test_empty_query_and_pattern_refused() -> None:
    with pytest.raises(ConfigError, match="empty query"):
        NoRows("postgresql://x/y", "  ")
    with pytest.raises(ConfigError, match="empty key pattern"):
        RedisKeys("redis://x", "", equals=0)


def test_one_home_for_state_check_classes() -> None:
    """The scenario runner and racecheck.external share the classes: no second SqlCount anywhere."""
    import racecheck.external as ext
    import racecheck.scenario.build as build

    assert build.checks.RowCount is RowCount
    assert not hasattr(ext, "SqlCount") and not hasattr(ext, "SqlCheck")
    assert ext.sql_count(FakeDb([(2,)]), "q", max=1).check(TRIAL)  # the old keywords still work
