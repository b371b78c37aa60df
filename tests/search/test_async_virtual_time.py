"""Virtual time in asyncio: ``await asyncio.sleep(s)`` is a point under controlled strategies."""

from __future__ import annotations

import asyncio
import time

import pytest

import racecheck
from search import targets

OPTS = dict(worker_args=lambda i: (i,), setup=targets.reset_async, invariants=[racecheck.at_most_once("spawn")],
            mode="asyncio", timeout=10)


@pytest.mark.parametrize("strategy", ["random", "pct", "dfs"])
def test_sleep_separated_check_then_set_in_asyncio_found_within_5_trials(strategy: str) -> None:
    needed = []
    for seed in range(20):
        res = racecheck.run(targets.async_sleepy_claim, n=2, trials=5, strategy=strategy, seed=seed, **OPTS)
        needed.append(None if res.ok else len(res.trials))
        if not res.ok:
            points = [e for e in res.first_failure.history.filter("point") if e.name.startswith("sleep:")]
            assert points and all(e.payload.get("virtual") for e in points)
    assert None not in needed, needed


def test_free_run_never_races_it() -> None:
    """The control: in real time worker 0 has set long before worker 1 checks (timers fire in order)."""
    res = racecheck.run(targets.async_sleepy_claim, n=2, trials=10, strategy="stress", seed=1, **OPTS)
    res.assert_ok()
    assert not any(e.name.startswith("sleep:") for t in res.trials for e in t.history.filter("point"))


@pytest.mark.parametrize("strategy", ["random", "pct", "dfs"])
def test_locked_twin_passes(strategy: str) -> None:
    res = racecheck.run(targets.async_sleepy_claim_locked, n=2, trials=100, strategy=strategy, seed=3,
                        stop_on_failure=False, **OPTS)
    res.assert_ok()
    assert res.trials_run == 100 or res.exhausted


def test_async_virtual_sleep_takes_no_wall_time_but_the_task_sees_it_pass() -> None:
    """A 30 s asyncio.sleep inside a 10 s trial timeout: only virtual time lets it finish."""
    seen: list[tuple[float, float, str]] = []

    async def trigger(i: int) -> None:
        m0, t0 = time.monotonic(), time.time()
        got = await asyncio.sleep(30.0, result="slept")
        await asyncio.sleep(0)  # a plain yield: not a point, no time
        seen.append((time.monotonic() - m0, time.time() - t0, got))

    t = time.perf_counter()
    res = racecheck.run(trigger, n=2, trials=1, strategy="random", seed=1, mode="asyncio", timeout=10,
                        worker_args=lambda i: (i,))
    wall = time.perf_counter() - t
    res.assert_ok()
    assert len(seen) == 2 and all(m >= 30 and tt >= 30 and got == "slept" for m, tt, got in seen), seen
    assert wall < 10, wall
    sleeps = [e for e in res.trials[0].history.filter("point") if e.name.startswith("sleep:")]
    assert [e.name for e in sleeps] == ["sleep:30", "sleep:30"]
    assert asyncio.sleep is not None and asyncio.sleep.__module__ == "asyncio.tasks", "undone after the run"


def test_virtual_time_off_keeps_asyncio_sleep_real_and_the_race_hidden() -> None:
    """``virtual_time=False``: the sleeps are program waits again, real time orders the tasks."""
    res = racecheck.run(targets.async_sleepy_claim, n=2, trials=5, strategy="pct", seed=1, virtual_time=False,
                        **OPTS)
    assert res.ok, res.summary()
    assert not any(e.name.startswith("sleep:") for t in res.trials for e in t.history.filter("point"))
