"""Same seed, same trace: controlled strategies are deterministic with in-memory and Redis state."""

from __future__ import annotations

import pytest

import racecheck
from scheduling import targets


def _trace(res: racecheck.RunResult) -> list[list[tuple[int | None, str, str]]]:
    return [[(e.worker, e.kind, e.name) for e in t.history] for t in res.trials]


def _schedules(res: racecheck.RunResult) -> list[str | None]:
    return [t.schedule for t in res.trials]


@pytest.mark.parametrize("strategy", ["random", "pct"])
def test_same_seed_same_trace_in_memory(strategy: str) -> None:
    """Two runs with one seed produce the same (worker, kind, name) sequence in every trial."""
    kw = dict(n=3, trials=6, strategy=strategy, seed=42, setup=targets.reset, stop_on_failure=False,
              invariants=[racecheck.exactly_once("spawn")], quantum=1.0)
    a = racecheck.run(targets.check_then_act, **kw)
    b = racecheck.run(targets.check_then_act, **kw)
    assert _trace(a) == _trace(b)
    assert _schedules(a) == _schedules(b)
    assert [t.ok for t in a.trials] == [t.ok for t in b.trials]


@pytest.mark.parametrize("strategy", ["random", "pct"])
def test_different_seeds_explore_different_schedules(strategy: str) -> None:
    """Runs with different seeds do not all pick the same schedules."""
    kw = dict(n=3, trials=6, strategy=strategy, setup=targets.reset, stop_on_failure=False)
    a = racecheck.run(targets.check_then_act, seed=1, **kw)
    b = racecheck.run(targets.check_then_act, seed=2, **kw)
    assert [s.split(":", 4)[4] for s in _schedules(a)] != [s.split(":", 4)[4] for s in _schedules(b)]


@pytest.fixture
def fake_redis_server():  # noqa: ANN201
    fakeredis = pytest.importorskip("fakeredis")
    server = fakeredis.FakeServer()
    targets.REDIS_SERVER = server
    yield server
    targets.REDIS_SERVER = None


@pytest.mark.parametrize("strategy", ["random", "pct"])
def test_same_seed_same_trace_with_fakeredis(strategy: str, fake_redis_server) -> None:  # noqa: ANN001
    """With a shared fakeredis server, GET/SET points make the same trace for the same seed."""
    import fakeredis

    def flush() -> None:
        fakeredis.FakeRedis(server=fake_redis_server).flushall()

    # A fixed quantum: nothing here blocks, and under CPU load an adaptive one may mark a slow
    # step "blocked" and so change the schedule.
    kw = dict(n=2, trials=20, strategy=strategy, seed=9, setup=flush, stop_on_failure=False,
              invariants=[racecheck.exactly_once("spawn")], quantum=1.0)
    a = racecheck.run(targets.redis_check_then_act, **kw)
    b = racecheck.run(targets.redis_check_then_act, **kw)
    assert _trace(a) == _trace(b)
    assert any(e.kind == "redis" and e.name.startswith("redis:GET") for e in a.trials[0].history)
    assert not a.ok, "GET-then-SET without NX should spawn twice in some trial"
