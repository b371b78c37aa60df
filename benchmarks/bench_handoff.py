"""Handoffs: the controller's cost per point and per trial, against an older controller, in one run.

Measures, for the controller in this tree and (optionally) the one at a git revision:

- *cost per point*: two workers under ``random`` each cross ``POINTS`` points; the wall
  time from the first worker's start to the last one's end, divided by all points;
- *trial time* at N = 2, 128, 256: ``random`` (controlled) against ``stress`` on the
  scale target (1 ms of sleeping work around one point), as a ratio.

The two controllers are run in turn, round after round (A B A B ...), and medians are
quoted, so a comparison holds while the machine's speed drifts.

Run alone: ``python benchmarks/bench_handoff.py [--quick] [--baseline-rev REV]``.
"""

from __future__ import annotations

import subprocess
import sys
import time
import types
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import racecheck  # noqa: E402
import racecheck.runner  # noqa: E402
from benchmarks.targets import dedup, scale  # noqa: E402
from benchmarks.targets.stats import median  # noqa: E402
from racecheck.scheduling import Controller  # noqa: E402

POINTS = 2000
WORK_S = 0.001


def controller_at(rev: str) -> type:
    """The Controller class as it was at git revision ``rev``, loaded as a throwaway module."""
    src = subprocess.run(["git", "-C", str(ROOT), "show", f"{rev}:racecheck/scheduling/controller.py"],
                         check=True, capture_output=True, text=True).stdout
    src = src.replace("from .strategies import", "from racecheck.scheduling.strategies import")
    mod = types.ModuleType(f"controller_at_{rev}")
    exec(compile(src, f"<controller at {rev}>", "exec"), mod.__dict__)  # noqa: S102 - our own history
    return mod.Controller  # type: ignore[no-any-return]


def per_point_us(n: int = 2, points: int = POINTS) -> float:
    starts: list[int] = []
    ends: list[int] = []

    def target(worker: int) -> None:
        starts.append(time.perf_counter_ns())
        dedup.points(worker, points)
        ends.append(time.perf_counter_ns())

    racecheck.run(target, n=n, trials=1, seed=1, strategy="random", worker_args=lambda i: (i,), timeout=120)
    return (max(ends) - min(starts)) / (points * n) / 1000


def trial_s(n: int, strategy: str, trials: int) -> float:
    t0 = time.perf_counter()
    r = racecheck.run(scale.work, n=n, trials=trials, strategy=strategy, seed=5, noise=0.0,
                      worker_args=lambda i: (i, WORK_S), timeout=60)
    if r.failing:
        raise RuntimeError(f"{strategy} at N={n}: {len(r.failing)} failing trial(s)")
    return (time.perf_counter() - t0) / trials


def run(quick: bool = False, baseline_rev: str | None = None, log: Any = print) -> dict[str, Any]:
    rounds = 3 if quick else 5
    ns = (2, 128) if quick else (2, 128, 256)
    trials = 3 if quick else 5
    impls: dict[str, type] = {"this tree": Controller}
    if baseline_rev:
        impls = {f"at {baseline_rev}": controller_at(baseline_rev), "this tree": Controller}
    raw: dict[str, dict[str, list[float]]] = {name: {} for name in impls}
    stress: dict[int, list[float]] = {n: [] for n in ns}
    for rnd in range(rounds):
        for n in ns:
            stress[n].append(trial_s(n, "stress", trials))
        for name, cls in impls.items():
            racecheck.runner.Controller = cls  # type: ignore[misc]
            try:
                raw[name].setdefault("point_us", []).append(per_point_us())
                for n in ns:
                    raw[name].setdefault(f"random_{n}", []).append(trial_s(n, "random", trials))
            finally:
                racecheck.runner.Controller = Controller  # type: ignore[misc]
        log(f"  round {rnd + 1}/{rounds}: " + ", ".join(
            f"{name}: {raw[name]['point_us'][-1]:.1f} us/point" for name in impls))
    out: dict[str, Any] = {"rounds": rounds, "trials": trials, "points": POINTS,
                           "stress_trial_s": {n: median(v) for n, v in stress.items()}, "impls": {}}
    for name, series in raw.items():
        row: dict[str, Any] = {"point_us": median(series["point_us"])}
        for n in ns:
            row[f"random_{n}_trial_s"] = median(series[f"random_{n}"])
            # ratio pair by pair: round r's random over round r's stress
            row[f"random_{n}_over_stress"] = median([a / b for a, b in zip(series[f"random_{n}"], stress[n],
                                                                          strict=True)])
        out["impls"][name] = row
    return out


def markdown(res: dict[str, Any]) -> str:
    ns = sorted(res["stress_trial_s"])
    head = "| controller | µs per point (random, N=2) | " + " | ".join(
        f"random trial N={n} (× stress)" for n in ns) + " |"
    lines = [f"{res['rounds']} interleaved rounds; {res['trials']} trials per cell and round; "
             f"{res['points']} points per worker for the per-point cost; medians. Stress trial: "
             + ", ".join(f"N={n} {res['stress_trial_s'][n] * 1000:.1f} ms" for n in ns) + ".", "",
             head, "|---|---|" + "---|" * len(ns)]
    for name, row in res["impls"].items():
        cells = " | ".join(f"{row[f'random_{n}_trial_s'] * 1000:.1f} ms ({row[f'random_{n}_over_stress']:.2f}×)"
                           for n in ns)
        lines.append(f"| {name} | {row['point_us']:.1f} | {cells} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    argv = sys.argv[1:] if argv is None else argv
    rev = None
    if "--baseline-rev" in argv:
        rev = argv[argv.index("--baseline-rev") + 1]
    res = run(quick="--quick" in argv, baseline_rev=rev)
    print(markdown(res))
    return res


if __name__ == "__main__":
    main()
