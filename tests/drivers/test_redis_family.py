"""valkey-py (sync, under pct) and redis.asyncio / valkey.asyncio under stress (test_async_controlled: pct, random).

One instrumentation serves redis-py and valkey-py; commands, pipelines (MULTI/EXEC and
not) and Lua scripts are points named ``redis:<COMMAND args>``.
"""

from __future__ import annotations

import pytest

import racecheck
from drivers import scenarios
from drivers.targets import kv
from racecheck import history as h

SEEDS = scenarios.SEEDS
SYNC = {name: sync for name, (sync, _a, _e) in scenarios.KV_BUGGY.items()}
SYNC_FIXED = {name: sync for name, (sync, _a, _e) in scenarios.KV_FIXED.items()}
ASYNC = {name: atarget for name, (_s, atarget, _e) in scenarios.KV_BUGGY.items()}
ASYNC_FIXED = {name: atarget for name, (_s, atarget, _e) in scenarios.KV_FIXED.items()}
EFFECT = {name: effect for name, (_s, _a, effect) in {**scenarios.KV_BUGGY, **scenarios.KV_FIXED}.items()}


def _run(target, kvdb, lib: str, name: str, trials: int, seed: int, n: int = 2, **options):
    url, prefix = kvdb
    return racecheck.run(target, n=n, trials=trials, seed=seed, args=(url, prefix, lib),
                         setup=kv.reset(url, prefix),
                         invariants=scenarios.kv_invariants(EFFECT[name], url, prefix, n),
                         timeout=20, **options)


@pytest.mark.parametrize("name", list(SYNC))
def test_sync_valkey_races_are_caught_under_pct(kvdb, name):
    url, prefix = kvdb
    scenarios.check_found(f"valkey {name}", scenarios.needed(
        SYNC[name], (url, prefix, "valkey"), kv.reset(url, prefix),
        scenarios.kv_invariants(EFFECT[name], url, prefix, 2), strategy="pct"))


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


LIB_MODES = [("redis", kv.write, "threads"), ("redis", kv.awrite, "asyncio"),
             ("valkey", kv.write, "threads"), ("valkey", kv.awrite, "asyncio")]


@pytest.mark.parametrize(("lib", "target", "mode"), LIB_MODES)
def test_redis_error_raises_the_clients_class_before_the_command(kvdb, lib, target, mode):
    url, prefix = kvdb
    res = racecheck.run(target, n=1, trials=1, mode=mode, args=(url, prefix, lib),
                        faults=[racecheck.redis_error(at="redis:SET*", error="ConnectionError")])
    res.assert_violation("no_exceptions")
    assert res.first_failure.history.filter(h.ERROR)[0].payload["type"] == f"{lib}.exceptions.ConnectionError"
    assert kv.client("redis", url).get(prefix + "t") is None


@pytest.mark.parametrize(("lib", "target", "mode"), LIB_MODES)
def test_redis_error_after_the_command_ran(kvdb, lib, target, mode):
    url, prefix = kvdb
    res = racecheck.run(target, n=1, trials=1, mode=mode, args=(url, prefix, lib),
                        faults=[racecheck.redis_error(at="redis:SET*", error="TimeoutError", after=True)])
    res.assert_violation("no_exceptions")
    assert res.first_failure.history.filter(h.ERROR)[0].payload["type"] == f"{lib}.exceptions.TimeoutError"
    assert kv.client("redis", url).get(prefix + "t") == "written"


def _counted_once(url: str, prefix: str):
    def check(_history) -> str | None:
        c = kv.client("redis", url)
        try:
            v = c.get(prefix + "counter")
        finally:
            c.close()
        return None if v == "1" else f"the visit was counted {v} times"

    return racecheck.custom(check, name="counted_once")


@pytest.mark.parametrize("mode", ["threads", "asyncio"])
@pytest.mark.parametrize("lib", ["redis", "valkey"])
@pytest.mark.parametrize(("idempotent", "at"), [(False, "redis:INCR*"), (True, "redis:SET*")])
def test_a_retry_after_a_lost_reply_counts_twice_unless_idempotent(kvdb, lib, mode, idempotent, at):
    """redis_error(after=True): the command ran, the reply was lost; INCR retried counts twice, SET does not."""
    url, prefix = kvdb
    target = {"threads": kv.count_visit, "asyncio": kv.acount_visit}[mode]
    res = racecheck.run(target, n=1, trials=1, mode=mode, args=(url, prefix, lib, idempotent),
                        setup=kv.reset(url, prefix), invariants=[_counted_once(url, prefix)],
                        faults=[racecheck.redis_error(at=at, error="ConnectionError", after=True)])
    if idempotent:
        res.assert_ok()
    else:
        res.assert_violation("counted_once")
        assert "counted 2 times" in str(res.violations[0])
    assert [e.payload["phase"] for e in res.trials[0].history.filter(h.FAULT)] == ["after"]


def _no_client_named(url: str, name: str):
    def check(_history) -> str | None:
        admin = kv.client("redis", url)
        try:
            names = [c.get("name") for c in admin.client_list()]
        finally:
            admin.close()
        return f"client {name!r} still connected after its worker crashed" if name in names else None

    return racecheck.custom(check, name="crashed_client_disconnected")


@pytest.mark.parametrize("mode", ["threads", "asyncio"])
@pytest.mark.parametrize("lib", ["redis", "valkey"])
def test_a_crash_disconnects_the_clients_only_that_worker_used(kvdb, lib, mode):
    """The crashed worker is parked holding its client; racecheck closes the client's connections."""
    url, prefix = kvdb
    name = f"rc-crash-{prefix.replace(':', '-')}{lib}-{mode}"
    target = kv.hold if mode == "threads" else kv.ahold
    res = racecheck.run(target, n=1, trials=1, mode=mode, args=(url, prefix, lib, name), timeout=20,
                        faults=[racecheck.crash(at="redis:GET*")], invariants=[_no_client_named(url, name)])
    res.assert_ok()
    assert res.trials[0].history.crashed_workers() == {0}
