"""freeze (SIGSTOP of a worker process) and explanations of violations."""

from __future__ import annotations

import json
import uuid

import pytest

import racecheck
from racecheck.errors import ConfigError
from search import lease, targets


@pytest.fixture
def redis_lease(race_redis, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: ANN001
    monkeypatch.setenv(lease.URL_ENV, race_redis.url)
    monkeypatch.setenv(lease.KEY_ENV, f"rc-search-lease-{uuid.uuid4().hex}")


INV = [racecheck.mutual_exclusion("job"), racecheck.no_exceptions()]


def test_freeze_stops_the_renewal_thread_and_mutual_exclusion_is_lost(redis_lease: None) -> None:
    res = racecheck.run("search.lease:locked_job", n=2, trials=1, mode="processes",
                        faults=[racecheck.freeze("work", 1.0)], invariants=INV, timeout=20)
    assert not res.ok
    assert [v.invariant for v in res.violations] == ["mutual_exclusion"]
    assert any(e.kind == "fault" and e.name == "freeze" for e in res.first_failure.history)


def test_pause_of_one_thread_keeps_the_lease_renewed(redis_lease: None) -> None:
    """The twin: the same 1 s stop as a pause (one thread): the renewal thread keeps the lease."""
    res = racecheck.run("search.lease:locked_job", n=2, trials=1, mode="processes",
                        faults=[racecheck.pause("work", 1.0)], invariants=INV, timeout=20)
    res.assert_ok()


@pytest.mark.parametrize("mode", ["threads", "asyncio"])
def test_freeze_outside_processes_is_a_config_error(mode: str) -> None:
    with pytest.raises(ConfigError, match="needs mode='processes'"):
        racecheck.run(targets.incr, n=2, trials=1, mode=mode, faults=[racecheck.freeze("work", 1.0)])


@pytest.fixture
def pg(race_postgres, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: ANN001
    monkeypatch.setenv(targets.PG_ENV, race_postgres.url)
    targets.pg_reset()


PG = dict(setup=targets.pg_reset, invariants=[racecheck.at_most_once("spawn")], timeout=20)


@pytest.mark.parametrize("strategy", ["random", "pct", "dfs"])
def test_double_spawn_is_explained_by_the_select_and_the_insert(pg: None, strategy: str) -> None:
    res = racecheck.run(targets.pg_sleepy_dispatch, n=2, trials=5, strategy=strategy, seed=1, **PG)
    assert not res.ok
    v = res.violations[0]
    assert "SELECT on review_run" in v.explanation and "INSERT on review_run" in v.explanation
    assert "w0" in v.explanation and "w1" in v.explanation
    assert "why: " + v.explanation in res.report()
    assert json.loads(json.dumps(v.to_dict()))["explanation"] == v.explanation


def test_correct_dispatch_has_nothing_to_explain(pg: None) -> None:
    res = racecheck.run(targets.pg_sleepy_dispatch_fixed, n=2, trials=30, strategy="dfs", **PG)
    res.assert_ok()
    assert res.exhausted and "distinct interleavings" in res.summary()
    assert not any(t.violations for t in res.trials)


def test_in_memory_lost_update_is_explained_by_instrumented_lines() -> None:
    res = racecheck.run(targets.add_once, n=2, trials=5, strategy="random", seed=1, setup=targets.reset_memory,
                        worker_args=lambda i: (i,), instrument=["search.memtargets"],
                        invariants=[racecheck.at_most_once("spawn")])
    assert not res.ok
    assert "seen" in res.violations[0].explanation


def test_html_timeline_shades_the_explained_window(pg: None) -> None:
    from racecheck.report.html import render_html

    res = racecheck.run(targets.pg_sleepy_dispatch, n=2, trials=5, strategy="dfs", seed=1, **PG)
    page = render_html(res)
    assert 'class="overlap-window why-window"' in page and "why: " in page
    ok = racecheck.run(targets.pg_sleepy_dispatch_fixed, n=2, trials=3, strategy="dfs", **PG)
    assert "why-window" not in render_html(ok)
