"""The races every SQL driver is tested on, and how to count how fast a strategy finds them.

A target module (``targets/pg2.py``, ``targets/apg.py``, ...) writes each scenario with its
own driver: ``signup``/``signup_fixed`` (check-then-insert), ``increment``/``increment_fixed``
(lost update), ``claim``/``claim_fixed`` (claim without and with FOR UPDATE SKIP LOCKED).
"""

from __future__ import annotations

from collections.abc import Callable
from types import ModuleType
from typing import Any

import racecheck
from drivers.targets import schema
from racecheck import history as h

SEEDS = range(20)
# pct changes priorities before conflicting writes only (scheduling/strategies/pct.py): every one
# of the 20 seeds finds each two-statement race within 10 trials (benchmarks/RESULTS.md, search).
WITHIN_10 = len(SEEDS)
Invariants = Callable[[str, int], list[Any]]


def buggy(mod: ModuleType) -> dict[str, tuple[Callable[..., Any], Invariants]]:
    return {
        "check-then-insert": (mod.signup, lambda url, n: [racecheck.custom(schema.one_account(url))]),
        "lost update": (mod.increment, lambda url, n: [racecheck.custom(schema.counter_is(url, n))]),
        "claim without FOR UPDATE": (mod.claim, lambda url, n: [racecheck.at_most_once("claimed")]),
    }


def fixed(mod: ModuleType) -> dict[str, tuple[Callable[..., Any], Invariants]]:
    return {
        "insert on conflict": (mod.signup_fixed,
                               lambda url, n: [racecheck.custom(schema.one_account(url, "accounts_u"))]),
        "server-side increment": (mod.increment_fixed,
                                  lambda url, n: [racecheck.custom(schema.counter_is(url, n))]),
        "claim FOR UPDATE SKIP LOCKED": (mod.claim_fixed, lambda url, n: [racecheck.at_most_once("claimed")]),
    }


def caught_by(target: Callable[..., Any], url: str, invariants: Invariants, n: int = 2,
              **options: Any) -> list[int | None]:
    """Per seed, the trial that first failed (None: never in 30)."""
    out: list[int | None] = []
    for seed in SEEDS:
        res = racecheck.run(target, n=n, trials=30, seed=seed, args=(url,),
                            setup=schema.reset(url), invariants=invariants(url, n), timeout=20, **options)
        out.append(None if res.ok else len(res.trials))
    return out


def passes(target: Callable[..., Any], url: str, invariants: Invariants, n: int = 2, trials: int = 200,
           **options: Any) -> racecheck.RunResult:
    res = racecheck.run(target, n=n, trials=trials, seed=7, args=(url,), setup=schema.reset(url),
                        invariants=invariants(url, n), timeout=20, **options)
    res.assert_ok()
    assert res.trials[-1].history.filter(h.SQL), "no statement was seen: the pass would be a lie"
    return res


def texts(trial: racecheck.TrialRecord) -> list[str]:
    return [str(e.payload["statement"]) for e in trial.history.filter(h.SQL) if e.worker is not None]
