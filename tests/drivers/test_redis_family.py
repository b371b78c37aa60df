"""valkey-py (sync, under pct) and redis.asyncio / valkey.asyncio (asyncio mode, under stress).

One instrumentation serves redis-py and valkey-py; commands, pipelines (MULTI/EXEC and
not) and Lua scripts are points named ``redis:<COMMAND args>``.
"""

from __future__ import annotations

import uuid

import pytest

import racecheck
from drivers.targets import kv
from racecheck import history as h

SEEDS = range(20)
SYNC = {"check-then-set": kv.signup, "lost update": kv.increment, "claim by LINDEX then LREM": kv.claim}
SYNC_FIXED = {"SET NX": kv.signup_fixed, "Lua INCR": kv.increment_fixed, "WATCH MULTI EXEC": kv.claim_fixed}
ASYNC = {"check-then-set": kv.asignup, "lost update": kv.aincrement, "claim by LINDEX then LREM": kv.aclaim}
ASYNC_FIXED = {"SET NX": kv.asignup_fixed, "Lua INCR": kv.aincrement_fixed,
               "WATCH MULTI EXEC": kv.aclaim_fixed}
INVARIANT = {"check-then-set": "created", "SET NX": "created",
             "claim by LINDEX then LREM": "claimed", "WATCH MULTI EXEC": "claimed"}


@pytest.fixture
def kvdb(race_redis_real):
    prefix = race_redis_real.key(f"drv-{uuid.uuid4().hex[:8]}:")
    yield race_redis_real.url, prefix
    kv.reset(race_redis_real.url, prefix)()


def _invariants(name: str, url: str, prefix: str, n: int) -> list:
    if name in INVARIANT:
        return [racecheck.at_most_once(INVARIANT[name])]

    def no_lost_update(_history) -> str | None:
        c = kv.client("redis", url)
        v = int(c.get(prefix + "counter"))
        c.close()
        return None if v == n else f"counter is {v} after {n} increments"

    return [racecheck.custom(no_lost_update)]


def _run(target, kvdb, lib: str, name: str, trials: int, seed: int, n: int = 2, **options):
    url, prefix = kvdb
    return racecheck.run(target, n=n, trials=trials, seed=seed, args=(url, prefix, lib),
                         setup=kv.reset(url, prefix), invariants=_invariants(name, url, prefix, n),
                         timeout=20, **options)


@pytest.mark.parametrize("name", list(SYNC))
def test_sync_valkey_races_are_caught_under_pct(kvdb, name):
    needed = []
    for seed in SEEDS:
        res = _run(SYNC[name], kvdb, "valkey", name, 30, seed, strategy="pct")
        needed.append(None if res.ok else len(res.trials))
    print(f"valkey {name}: trials needed per seed {needed}")
    assert None not in needed, needed
    assert sum(t <= 10 for t in needed) == len(SEEDS), needed


@pytest.mark.parametrize("name", list(SYNC_FIXED))
def test_sync_valkey_fixed_forms_pass_200_pct_trials(kvdb, name):
    res = _run(SYNC_FIXED[name], kvdb, "valkey", name, 200, 7, strategy="pct")
    res.assert_ok()
    assert res.trials[-1].history.filter(h.REDIS)


@pytest.mark.parametrize("lib", ["redis", "valkey"])
@pytest.mark.parametrize("name", list(ASYNC))
def test_asyncio_races_are_caught_under_stress(kvdb, lib, name):
    needed = []
    for seed in SEEDS:
        res = _run(ASYNC[name], kvdb, lib, name, 10, seed, mode="asyncio", strategy="stress")
        needed.append(None if res.ok else len(res.trials))
    print(f"{lib}.asyncio {name}: trials needed per seed {needed}")
    assert None not in needed, needed


@pytest.mark.parametrize("lib", ["redis", "valkey"])
@pytest.mark.parametrize("name", list(ASYNC_FIXED))
def test_asyncio_fixed_forms_pass_200_trials(kvdb, lib, name):
    res = _run(ASYNC_FIXED[name], kvdb, lib, name, 200, 7, mode="asyncio", strategy="stress")
    res.assert_ok()
    assert res.trials[-1].history.filter(h.REDIS)


def _commands(res: racecheck.RunResult) -> list[str]:
    return [str(e.payload["command"]) for e in res.trials[0].history.filter(h.REDIS) if e.worker is not None]


@pytest.mark.parametrize(("lib", "target", "mode"), [("valkey", kv.write, "threads"),
                                                     ("valkey", kv.awrite, "asyncio"),
                                                     ("redis", kv.awrite, "asyncio")])
def test_pipelines_and_scripts_are_points(kvdb, lib, target, mode):
    url, prefix = kvdb
    res = racecheck.run(target, n=1, trials=1, mode=mode, args=(url, prefix, lib))
    res.assert_ok()
    cmds = _commands(res)
    assert f"SET {prefix}t written" in cmds
    assert any(c.startswith(f"PIPELINE GET {prefix}t") for c in cmds), cmds
    assert "EVAL return 1 0" in cmds


def test_lua_script_and_multi_exec_are_points(kvdb):
    url, prefix = kvdb
    res = racecheck.run(kv.increment_fixed, n=1, trials=1, args=(url, prefix, "valkey"),
                        setup=kv.reset(url, prefix))
    res.assert_ok()
    assert any(c.startswith("EVALSHA") for c in _commands(res))
    res = racecheck.run(kv.claim_fixed, n=1, trials=1, args=(url, prefix, "valkey"),
                        setup=kv.reset(url, prefix))
    res.assert_ok()
    assert f"PIPELINE LREM {prefix}jobs 1 1" in _commands(res)


@pytest.mark.parametrize(("target", "mode"), [(kv.write, "threads"), (kv.awrite, "asyncio")])
def test_redis_error_raises_valkeys_class_before_the_command(kvdb, target, mode):
    url, prefix = kvdb
    res = racecheck.run(target, n=1, trials=1, mode=mode, args=(url, prefix, "valkey"),
                        faults=[racecheck.redis_error(at="redis:SET*", error="ConnectionError")])
    res.assert_violation("no_exceptions")
    assert res.first_failure.history.filter(h.ERROR)[0].payload["type"] == "valkey.exceptions.ConnectionError"
    assert kv.client("redis", url).get(prefix + "t") is None


@pytest.mark.parametrize(("target", "mode"), [(kv.write, "threads"), (kv.awrite, "asyncio")])
def test_redis_error_after_the_command_ran(kvdb, target, mode):
    url, prefix = kvdb
    res = racecheck.run(target, n=1, trials=1, mode=mode, args=(url, prefix, "valkey"),
                        faults=[racecheck.redis_error(at="redis:SET*", error="TimeoutError", after=True)])
    res.assert_violation("no_exceptions")
    assert res.first_failure.history.filter(h.ERROR)[0].payload["type"] == "valkey.exceptions.TimeoutError"
    assert kv.client("redis", url).get(prefix + "t") == "written"
