"""Process-mode trial time: workers forked from the warm template against spawned ones, in one run.

Each round times, in turn, one bare interpreter start (``python -c pass``, the floor the
issue measures against) and process-mode stress runs of the scale target, at N = 8 and
N = 32, with:

- ``auto``: workers forked from the warm template, which is kept between runs of one
  target (``racecheck._warm``), as a test suite running several racecheck runs gets it;
  the first run of the benchmark starts it;
- ``auto, new template per run``: the same, but the kept template is stopped before each
  run, so every run starts its own (0.2.0 started one per run);
- ``spawn``: ``start_method="spawn"``, a fresh interpreter per worker.

*trial* = run wall time ÷ trials, so it includes starting the template (when the run
starts one) and every worker. Medians over rounds; ratios pair by pair.

Run alone: ``python benchmarks/bench_process_start.py [--quick]``.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import racecheck  # noqa: E402
from benchmarks.targets.stats import median  # noqa: E402

WORK_S = 0.001


def bare_start_s() -> float:
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", "pass"], check=True)
    return time.perf_counter() - t0


ARMS = {"auto": "auto", "auto, new template per run": "auto", "spawn": "spawn"}


def trial_s(n: int, arm: str, trials: int) -> tuple[float, str]:
    from racecheck import _warm

    if arm == "auto, new template per run":
        _warm.close_kept()
    t0 = time.perf_counter()
    r = racecheck.run("benchmarks.targets.scale:work", n=n, trials=trials, mode="processes", seed=5, noise=0.0,
                      worker_args=lambda i: (i, WORK_S), timeout=120, start_method=ARMS[arm])
    if not r.ok or r.trials_run != trials:
        raise RuntimeError(f"{arm} at N={n}: {len(r.failing)} failing trial(s)")
    return (time.perf_counter() - t0) / trials, r.worker_start


def run(quick: bool = False, log: Any = print) -> dict[str, Any]:
    rounds = 2 if quick else 5
    trials = 3 if quick else 10
    ns = (8, 32)
    spawn_ns = (8,) if quick else ns  # spawn at N=32 takes minutes per run on a loaded machine
    bare: list[float] = []
    raw: dict[str, dict[int, list[float]]] = {"auto": {n: [] for n in ns},
                                              "auto, new template per run": {n: [] for n in ns},
                                              "spawn": {n: [] for n in spawn_ns}}
    how: dict[str, str] = {}
    for rnd in range(rounds):
        bare.append(min(bare_start_s() for _ in range(3)))
        for n in ns:
            for arm in ARMS:
                if n not in raw[arm]:
                    continue
                t, started = trial_s(n, arm, trials)
                how[arm] = f"{arm}: {started}"
                raw[arm][n].append(t)
        log(f"  round {rnd + 1}/{rounds}: bare {bare[-1] * 1000:.0f} ms, " + ", ".join(
            f"{m} N={n} {raw[m][n][-1] * 1000:.0f} ms" for m in raw for n in raw[m]))
    out: dict[str, Any] = {"rounds": rounds, "trials": trials, "bare_start_s": median(bare), "how": how,
                           "methods": {}}
    for m, series in raw.items():
        out["methods"][m] = {n: {"trial_s": median(v), "over_bare": median([a / b for a, b in zip(v, bare, strict=True)])}
                             for n, v in series.items()}
    return out


def markdown(res: dict[str, Any]) -> str:
    ns = sorted(next(iter(res["methods"].values())))
    lines = [f"{res['rounds']} interleaved rounds, {res['trials']} trials per run; bare interpreter start "
             f"(`python -c pass`, best of 3 per round) median {res['bare_start_s'] * 1000:.0f} ms; medians, "
             "ratios to the bare start of the same round.", "",
             "| workers start by | " + " | ".join(f"trial N={n} (× bare start)" for n in ns) + " |",
             "|---|" + "---|" * len(ns)]
    for m, row in res["methods"].items():
        lines.append(f"| {res['how'].get(m, m)} | " + " | ".join(
            f"{row[n]['trial_s'] * 1000:.0f} ms ({row[n]['over_bare']:.1f}×)" if n in row else "not run (--quick)"
            for n in ns) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    argv = sys.argv[1:] if argv is None else argv
    res = run(quick="--quick" in argv)
    print(markdown(res))
    return res


if __name__ == "__main__":
    main()
