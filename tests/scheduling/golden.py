"""Golden schedules: a fixed set of (mode, target, strategy, seed, n) and the schedules they give.

``golden_schedules.json`` was recorded from the 0.2.0 controllers (the thread ``Controller``
and the asyncio gate each with a choice rule of its own) before they were made one
implementation; ``test_golden_schedules.py`` asserts the same schedules today. One deliberate
change since: the asyncio gate hands strategies the labels (search, 0.3.0), which re-recorded
the nine ``asyncio/labels/*`` cases; the 70 cases were checked equal between the two old
controllers and the one rule under the same strategies before that. Regenerate
only on purpose (a deliberate change of the choice rule):
``PYTHONPATH=$PWD python tests/scheduling/golden.py --write``.

Every target is pure in-memory work between points, so nothing blocks and the schedule
depends only on the choice rule (fixed quantum for threads). The targets cover: plain
points, starvation (fairness bursts: pct keeps one worker on top), critical sections
(holders wait while others can move), sleep and SQL-like labels (strategies read the
labels), larger N (the incremental structures), and every controlled strategy that
needs no server (random, pct, dfs).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import racecheck

FIXTURE = Path(__file__).with_name("golden_schedules.json")
STATE: dict[str, int] = {}


def reset() -> None:
    STATE.clear()


# -- thread targets ---------------------------------------------------------------------------

def t_check_then_act(i: int) -> None:
    racecheck.point("check")
    if "k" not in STATE:
        racecheck.point("spawn")
        STATE["k"] = i


def t_many_points(i: int) -> None:
    for k in range(30):
        racecheck.point(f"p{k}")


def t_sections(i: int) -> None:
    racecheck.point("before")
    with racecheck.section("s", key="k"):
        racecheck.point("inside")
    racecheck.point("after")


def t_labels(i: int) -> None:
    racecheck.point("sql:SELECT id FROM runs WHERE id = 1")
    racecheck.point("sleep:0.01")
    racecheck.point("sql:INSERT INTO runs (id) VALUES (1)")
    racecheck.point("redis:GET lease")
    racecheck.point("redis:SET lease x")


# -- asyncio targets --------------------------------------------------------------------------

async def a_check_then_act(i: int) -> None:
    await racecheck.apoint("check")
    if "k" not in STATE:
        await racecheck.apoint("spawn")
        STATE["k"] = i


async def a_many_points(i: int) -> None:
    for k in range(30):
        await racecheck.apoint(f"p{k}")


async def a_sections(i: int) -> None:
    await racecheck.apoint("before")
    with racecheck.section("s", key="k"):
        await racecheck.apoint("inside")
    await racecheck.apoint("after")


async def a_labels(i: int) -> None:
    await racecheck.apoint("sql:SELECT id FROM runs WHERE id = 1")
    await racecheck.apoint("sleep:0.01")
    await racecheck.apoint("sql:INSERT INTO runs (id) VALUES (1)")
    await racecheck.apoint("redis:GET lease")
    await racecheck.apoint("redis:SET lease x")


TARGETS = {
    "threads": {"check_then_act": t_check_then_act, "many_points": t_many_points,
                "sections": t_sections, "labels": t_labels},
    "asyncio": {"check_then_act": a_check_then_act, "many_points": a_many_points,
                "sections": a_sections, "labels": a_labels},
}


def cases() -> list[dict[str, Any]]:
    out = []
    for mode in ("threads", "asyncio"):
        for target in ("check_then_act", "many_points", "sections", "labels"):
            for strategy in ("random", "pct", "dfs"):
                for n, seeds in ((3, (1, 7)), (8, (2,))):
                    if target == "many_points" and n == 8 and strategy == "dfs":
                        continue  # dfs walks one branch at a time: 8 x 30 points adds nothing new
                    for seed in seeds:
                        out.append({"mode": mode, "target": target, "strategy": strategy, "seed": seed,
                                    "n": n, "trials": 4})
    return out


def key(case: dict[str, Any]) -> str:
    return f"{case['mode']}/{case['target']}/{case['strategy']}/seed={case['seed']}/n={case['n']}"


def schedules(case: dict[str, Any]) -> list[str | None]:
    res = racecheck.run(TARGETS[case["mode"]][case["target"]], n=case["n"], trials=case["trials"],
                        strategy=case["strategy"], seed=case["seed"], mode=case["mode"], setup=reset,
                        worker_args=lambda i: (i,), quantum=1.0, stop_on_failure=False, invariants=[],
                        timeout=60)
    errors = [e for t in res.trials for e in t.errors]
    if errors:
        raise RuntimeError(f"{key(case)}: {errors[0]}")
    return [t.schedule for t in res.trials]


def main(argv: list[str]) -> None:
    if "--write" not in argv:
        raise SystemExit("pass --write to re-record tests/scheduling/golden_schedules.json")
    data = {key(c): schedules(c) for c in cases()}
    FIXTURE.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")
    print(f"wrote {len(data)} cases to {FIXTURE}")


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    main(sys.argv[1:])
