"""Controlled asyncio: strategies see where each task waits, so pct's change points land before writes.

Every one of 20 seeds finds the redis.asyncio races within 10 trials (pct, hypothesis); the
atomic twins pass. Without the labels the asyncio gate hands over (before 0.3.0) pct drew its
change points among all steps and found the GET-then-SET lock in 8-13 of 20 seeds.
"""

from __future__ import annotations

import uuid

import pytest
from async_control import targets
from drivers.targets import kv

import racecheck
from racecheck.scheduling import strategies
from racecheck.scheduling.strategies import Base

SEEDS = range(20)
MUTEX = [racecheck.mutual_exclusion("locked")]


@pytest.fixture
def lock_key(race_redis_real):  # noqa: ANN001, ANN201
    key = race_redis_real.key(f"search-async:{uuid.uuid4().hex}")
    client = race_redis_real.client()
    yield race_redis_real.url, key, (lambda: client.delete(key))
    client.delete(key)


@pytest.fixture
def kvdb(race_redis_real):  # noqa: ANN001, ANN201
    prefix = race_redis_real.key(f"search-async-{uuid.uuid4().hex[:8]}:")
    yield race_redis_real.url, prefix
    kv.reset(race_redis_real.url, prefix)()


def _needed(target, strategy: str, **options) -> list[int | None]:  # noqa: ANN001
    out: list[int | None] = []
    for seed in SEEDS:
        res = racecheck.run(target, n=2, trials=10, mode="asyncio", strategy=strategy, seed=seed, timeout=10,
                            **options)
        out.append(None if res.ok else len(res.trials))
    return out


@pytest.mark.parametrize("strategy", ["pct", "hypothesis"])
def test_get_then_set_lock_is_caught_within_10_trials_for_every_seed(lock_key, strategy) -> None:  # noqa: ANN001
    url, key, clear = lock_key
    needed = _needed(targets.redis_get_then_set, strategy, args=(url, key), setup=clear, invariants=MUTEX)
    print(f"{strategy}: trials needed per seed {needed}")
    assert None not in needed, needed


def test_set_nx_twin_passes_every_seed_under_pct(lock_key) -> None:  # noqa: ANN001
    url, key, clear = lock_key
    for seed in range(5):
        res = racecheck.run(targets.redis_set_nx, n=2, trials=20, mode="asyncio", strategy="pct", seed=seed,
                            args=(url, key), setup=clear, invariants=MUTEX, timeout=10)
        res.assert_ok()


@pytest.mark.parametrize("lib", ["redis", "valkey"])
@pytest.mark.parametrize(("name", "target"), [("check-then-set", kv.asignup), ("claim", kv.aclaim)])
def test_driver_races_in_asyncio_are_caught_under_pct(kvdb, lib, name, target) -> None:  # noqa: ANN001
    url, prefix = kvdb
    inv = "created" if name == "check-then-set" else "claimed"
    needed = _needed(target, "pct", args=(url, prefix, lib), setup=kv.reset(url, prefix),
                     invariants=[racecheck.at_most_once(inv)])
    print(f"{lib}.asyncio {name}: trials needed per seed {needed}")
    assert None not in needed, needed


@pytest.mark.parametrize(("name", "target"), [("SET NX", kv.asignup_fixed), ("WATCH MULTI EXEC", kv.aclaim_fixed)])
def test_driver_twins_in_asyncio_pass_under_pct(kvdb, name, target) -> None:  # noqa: ANN001
    url, prefix = kvdb
    inv = "created" if name == "SET NX" else "claimed"
    res = racecheck.run(target, n=2, trials=50, mode="asyncio", strategy="pct", seed=3, timeout=10,
                        args=(url, prefix, "redis"), setup=kv.reset(url, prefix),
                        invariants=[racecheck.at_most_once(inv)])
    res.assert_ok()


class _Spy(Base):
    """Records the label of every waiting task at every choice; runs the lowest worker."""

    name = "test-spy-labels"
    seen: list[str] = []  # noqa: RUF012

    @classmethod
    def from_options(cls, *, seed: int, depth: int, max_preemptions: int, schedule: str | None) -> _Spy:
        return cls()

    def choose(self, waiting: list[int], step: int, last: int | None, force: bool) -> int | None:
        self.seen.extend(self.labels.get(w, "") for w in waiting)
        return waiting[0]


def test_the_asyncio_gate_shows_strategies_where_each_task_waits(kvdb) -> None:  # noqa: ANN001
    """The strategy's labels map is the gate's: it names the Redis command each task is about to send."""
    url, prefix = kvdb
    _Spy.seen = []
    strategies.register(_Spy)
    try:
        res = racecheck.run(kv.asignup, n=2, trials=1, mode="asyncio", strategy=_Spy.name, timeout=10,
                            args=(url, prefix, "redis"), setup=kv.reset(url, prefix))
    finally:
        strategies.unregister(_Spy.name)
    assert res.trials_run == 1
    assert f"redis:GET {prefix}user" in _Spy.seen, _Spy.seen
