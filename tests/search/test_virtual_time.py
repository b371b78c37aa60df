"""Virtual time: a sleep is a point under controlled strategies; real time elsewhere."""

from __future__ import annotations

import datetime
import time

import pytest

import racecheck
from racecheck.scheduling import virtual_time
from search import targets

OPTS = dict(worker_args=lambda i: (i,), setup=targets.reset_memory, invariants=[racecheck.at_most_once("spawn")])


@pytest.mark.parametrize("strategy", ["random", "pct", "dfs", "hypothesis"])
def test_sleep_separated_check_then_set_found_within_5_trials(strategy: str) -> None:
    for seed in range(20):
        res = racecheck.run(targets.sleepy_claim, n=2, trials=5, strategy=strategy, seed=seed, **OPTS)
        assert not res.ok, f"seed {seed}: {res.summary()}"
        assert any(e.name.startswith("sleep:") for e in res.first_failure.history.filter("point"))


@pytest.mark.parametrize("strategy", ["random", "pct", "dfs"])
def test_sleep_separated_fixed_twin_passes(strategy: str) -> None:
    res = racecheck.run(targets.sleepy_claim_fixed, n=2, trials=100, strategy=strategy, seed=3,
                        stop_on_failure=False, **OPTS)
    res.assert_ok()


def test_virtual_sleep_takes_no_wall_time_but_the_worker_sees_it_pass() -> None:
    seen: list[tuple[float, float, float]] = []

    def trigger(i: int) -> None:
        m0, t0, d0 = time.monotonic(), time.time(), datetime.datetime.now()
        time.sleep(5.0)
        seen.append((time.monotonic() - m0, time.time() - t0, (datetime.datetime.now() - d0).total_seconds()))

    t = time.perf_counter()
    racecheck.run(trigger, n=2, trials=2, strategy="random", seed=1, worker_args=lambda i: (i,)).assert_ok()
    assert time.perf_counter() - t < 4.0  # four 5 s sleeps, none real
    assert len(seen) == 4 and all(min(x) >= 5.0 for x in seen)
    assert time.sleep is not virtual_time.virtual_sleep and datetime.datetime.__name__ == "datetime"


def test_stress_keeps_real_sleep() -> None:
    def trigger(i: int) -> None:
        time.sleep(0.3)

    t = time.perf_counter()
    racecheck.run(trigger, n=2, trials=1, strategy="stress", worker_args=lambda i: (i,)).assert_ok()
    assert time.perf_counter() - t >= 0.3


def test_virtual_time_off_keeps_real_sleep() -> None:
    def trigger(i: int) -> None:
        time.sleep(0.3)

    t = time.perf_counter()
    racecheck.run(trigger, n=1, trials=1, strategy="random", seed=1, virtual_time=False,
                  worker_args=lambda i: (i,)).assert_ok()
    assert time.perf_counter() - t >= 0.3


def test_clock_fault_adds_to_virtual_time() -> None:
    shifts: list[float] = []

    def trigger(i: int) -> None:
        t0 = time.time()
        time.sleep(10.0)
        racecheck.point("tick")
        shifts.append(time.time() - t0)

    racecheck.run(trigger, n=1, trials=1, strategy="random", seed=1, worker_args=lambda i: (i,),
                  faults=[racecheck.clock("tick", 100.0)]).assert_ok()
    assert 109.9 < shifts[0] < 111.0  # 10 s virtual sleep + 100 s clock shift


def test_a_virtual_sleep_does_not_expire_a_redis_ttl(race_redis) -> None:  # noqa: ANN001
    """Redis expires by its own real clock: sleeping past a TTL virtually leaves the key alive."""
    import uuid

    import redis

    key = f"rc-search-ttl-{uuid.uuid4().hex}"
    got: list[object] = []

    def trigger(i: int) -> None:
        r = redis.Redis.from_url(race_redis.url)
        r.set(key, "v", px=500)
        time.sleep(2.0)  # virtual: no real time passes
        got.append(r.get(key))
        r.delete(key)

    racecheck.run(trigger, n=1, trials=1, strategy="random", seed=1, worker_args=lambda i: (i,)).assert_ok()
    assert got == [b"v"]
