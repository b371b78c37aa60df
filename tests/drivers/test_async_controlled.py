"""asyncpg, redis.asyncio and valkey.asyncio under controlled asyncio scheduling (pct and random).

Each buggy form (check-then-insert/-set, lost update, a claim without a lock) must be
caught within 30 trials for each of 20 fixed seeds, and within 10 for at least
``WITHIN_10`` of them; each fixed form (ON CONFLICT, a server-side increment, FOR UPDATE
SKIP LOCKED; SET NX, a Lua INCR, WATCH/MULTI/EXEC) must pass 200 trials (asyncpg under
random: 50). The measured
figures per driver, case and strategy are in benchmarks/RESULTS.md ("Drivers: detection").
"""

from __future__ import annotations

import pytest

import racecheck
from drivers import scenarios
from drivers.targets import apg, kv, schema
from racecheck import history as h

STRATEGIES = ["pct", "random"]
# scenarios.WITHIN_10 seeds (of 20) must find the bug within 10 trials (see there for the margin).
SQL_BUGGY = scenarios.buggy(apg)
SQL_FIXED = scenarios.fixed(apg)
LIBS = ["redis", "valkey"]


@pytest.mark.parametrize("strategy", STRATEGIES)
@pytest.mark.parametrize("scenario", list(SQL_BUGGY))
def test_asyncpg_buggy_forms_are_caught(race_postgres, scenario, strategy):
    target, invariants = SQL_BUGGY[scenario]
    needed = scenarios.caught_by(target, race_postgres.url, invariants, mode="asyncio", strategy=strategy)
    scenarios.check_found(f"asyncpg {scenario} ({strategy})", needed)


@pytest.mark.parametrize("strategy", STRATEGIES)
@pytest.mark.parametrize("scenario", list(SQL_FIXED))
def test_asyncpg_fixed_forms_pass(race_postgres, scenario, strategy):
    """200 pct trials; 50 random ones (an asyncpg trial costs about 0.2 s here: two connections and the reset)."""
    target, invariants = SQL_FIXED[scenario]
    res = scenarios.passes(target, race_postgres.url, invariants, trials=200 if strategy == "pct" else 50,
                           mode="asyncio", strategy=strategy)
    assert res.strategy == strategy


def test_asyncpg_claim_interleaves_between_the_select_and_the_update(race_postgres):
    """The failing schedule of the broken claim really switches tasks between its two statements."""
    target, invariants = SQL_BUGGY["claim without FOR UPDATE"]
    url = race_postgres.url
    res = racecheck.run(target, n=2, trials=30, seed=0, args=(url,), setup=schema.reset(url),
                        invariants=invariants(url, 2), mode="asyncio", strategy="pct", timeout=20)
    res.assert_violation("at_most_once")
    order = [(e.worker, e.name) for e in res.first_failure.history.filter(h.SQL) if e.worker is not None]
    selects = [i for i, (_w, name) in enumerate(order) if name.startswith("sql:SELECT id FROM jobs")]
    updates = [i for i, (_w, name) in enumerate(order) if name.startswith("sql:UPDATE jobs")]
    assert len(selects) == 2 and len(updates) == 2, order
    assert max(selects) < min(updates), f"both SELECTs must come before either UPDATE: {order}"


def _kv(target, kvdb, lib: str, effect: str | None, **options):
    url, prefix = kvdb
    return scenarios.needed(target, (url, prefix, lib), kv.reset(url, prefix),
                            scenarios.kv_invariants(effect, url, prefix, 2), mode="asyncio", **options)


@pytest.mark.parametrize("strategy", STRATEGIES)
@pytest.mark.parametrize("name", list(scenarios.KV_BUGGY))
@pytest.mark.parametrize("lib", LIBS)
def test_redis_family_asyncio_buggy_forms_are_caught(kvdb, lib, name, strategy):
    _sync, target, effect = scenarios.KV_BUGGY[name]
    scenarios.check_found(f"{lib}.asyncio {name} ({strategy})", _kv(target, kvdb, lib, effect, strategy=strategy))


@pytest.mark.parametrize("strategy", STRATEGIES)
@pytest.mark.parametrize("name", list(scenarios.KV_FIXED))
@pytest.mark.parametrize("lib", LIBS)
def test_redis_family_asyncio_fixed_forms_pass_200_trials(kvdb, lib, name, strategy):
    _sync, target, effect = scenarios.KV_FIXED[name]
    url, prefix = kvdb
    res = racecheck.run(target, n=2, trials=200, seed=7, args=(url, prefix, lib), setup=kv.reset(url, prefix),
                        invariants=scenarios.kv_invariants(effect, url, prefix, 2), mode="asyncio",
                        strategy=strategy, timeout=20)
    res.assert_ok()
    assert len(res.trials) == 200 and res.trials[-1].history.filter(h.REDIS)
