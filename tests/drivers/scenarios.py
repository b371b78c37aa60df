"""The races every driver is tested on, and how to count how fast a strategy finds them.

A SQL target module (``targets/pg2.py``, ``targets/apg.py``, ...) writes each scenario with
its own driver: ``signup``/``signup_fixed`` (check-then-insert), ``increment``/
``increment_fixed`` (lost update), ``claim``/``claim_fixed`` (claim without and with FOR
UPDATE SKIP LOCKED); targets take ``(url,)``. The Redis targets (``targets/kv.py``) take
``(url, prefix, lib)`` and come in a sync and an asyncio form. ``benchmarks/bench_drivers.py``
uses the same scenarios for its detection table.
"""

from __future__ import annotations

from collections.abc import Callable
from types import ModuleType
from typing import Any

import racecheck
from drivers.targets import kv, schema
from racecheck import history as h

SEEDS = range(20)
BUDGET = 30  # trials per seed when counting how many a strategy needs
# Seeds (of 20) that must find a buggy form within 10 trials. pct changes priorities before
# conflicting writes only and the asyncio gate hands it the labels (scheduling/strategies/pct.py):
# the detection table of benchmarks/RESULTS.md measures 20/20 for every driver, case and strategy
# (worst seed: 2 trials). The gate leaves one seed of margin because a statement waiting on a row
# or unique-key lock is judged blocked by the wall clock, which a loaded CI machine can stretch.
WITHIN_10 = len(SEEDS) - 1
Invariants = Callable[[str, int], list[Any]]
Cases = dict[str, tuple[Callable[..., Any], Invariants]]


def buggy(mod: ModuleType) -> Cases:
    return {
        "check-then-insert": (mod.signup, lambda url, n: [racecheck.custom(schema.one_account(url))]),
        "lost update": (mod.increment, lambda url, n: [racecheck.custom(schema.counter_is(url, n))]),
        "claim without FOR UPDATE": (mod.claim, lambda url, n: [racecheck.at_most_once("claimed")]),
    }


def fixed(mod: ModuleType) -> Cases:
    return {
        "insert on conflict": (mod.signup_fixed,
                               lambda url, n: [racecheck.custom(schema.one_account(url, "accounts_u"))]),
        "server-side increment": (mod.increment_fixed,
                                  lambda url, n: [racecheck.custom(schema.counter_is(url, n))]),
        "claim FOR UPDATE SKIP LOCKED": (mod.claim_fixed, lambda url, n: [racecheck.at_most_once("claimed")]),
    }


# -- Redis family: name -> (sync target, asyncio target, the effect at_most_once counts or None) --
KV_BUGGY: dict[str, tuple[Callable[..., Any], Callable[..., Any], str | None]] = {
    "check-then-set": (kv.signup, kv.asignup, "created"),
    "lost update": (kv.increment, kv.aincrement, None),
    "claim by LINDEX then LREM": (kv.claim, kv.aclaim, "claimed"),
}
KV_FIXED: dict[str, tuple[Callable[..., Any], Callable[..., Any], str | None]] = {
    "SET NX": (kv.signup_fixed, kv.asignup_fixed, "created"),
    "Lua INCR": (kv.increment_fixed, kv.aincrement_fixed, None),
    "WATCH MULTI EXEC": (kv.claim_fixed, kv.aclaim_fixed, "claimed"),
}


def kv_invariants(effect: str | None, url: str, prefix: str, n: int) -> list[Any]:
    if effect is not None:
        return [racecheck.at_most_once(effect)]

    def no_lost_update(_history: Any) -> str | None:
        c = kv.client("redis", url)
        try:
            v = int(c.get(prefix + "counter"))
        finally:
            c.close()
        return None if v == n else f"counter is {v} after {n} increments"

    return [racecheck.custom(no_lost_update)]


# -- running ------------------------------------------------------------------------------------
def needed(target: Callable[..., Any], args: tuple[Any, ...], setup: Callable[[], None],
           invariants: list[Any], n: int = 2, seeds: range = SEEDS, budget: int = BUDGET,
           **options: Any) -> list[int | None]:
    """Per seed, the trial that first failed (None: never within ``budget``)."""
    out: list[int | None] = []
    for seed in seeds:
        res = racecheck.run(target, n=n, trials=budget, seed=seed, args=args, setup=setup,
                            invariants=invariants, timeout=20, **options)
        out.append(None if res.ok else len(res.trials))
    return out


def caught_by(target: Callable[..., Any], url: str, invariants: Invariants, n: int = 2,
              **options: Any) -> list[int | None]:
    """Per seed, the trial that first failed on a SQL target (None: never in 30)."""
    return needed(target, (url,), schema.reset(url), invariants(url, n), n=n, **options)


def within(found: list[int | None], trials: int) -> int:
    return sum(t is not None and t <= trials for t in found)


def check_found(label: str, found: list[int | None]) -> None:
    """Every seed found the race within BUDGET trials, WITHIN_10 of them within 10."""
    print(f"{label}: trials needed per seed {found}")
    assert None not in found, f"{label}: not caught within {BUDGET} trials for some seeds: {found}"
    assert within(found, 10) >= WITHIN_10, f"{label}: only {within(found, 10)} seeds within 10 trials: {found}"


def passes(target: Callable[..., Any], url: str, invariants: Invariants, n: int = 2, trials: int = 200,
           **options: Any) -> racecheck.RunResult:
    res = racecheck.run(target, n=n, trials=trials, seed=7, args=(url,), setup=schema.reset(url),
                        invariants=invariants(url, n), timeout=20, **options)
    res.assert_ok()
    assert len(res.trials) == trials
    assert res.trials[-1].history.filter(h.SQL), "no statement was seen: the pass would be a lie"
    return res


def texts(trial: racecheck.TrialRecord) -> list[str]:
    return [str(e.payload["statement"]) for e in trial.history.filter(h.SQL) if e.worker is not None]
