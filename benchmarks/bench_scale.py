"""Scale: barrier release skew and time per trial for N = 2..256 threads and 2..32 processes.

Skew is read from each trial's history: max t − min t over the ``start`` events (first
to last trigger entering its body). Each trigger does 1 ms of sleeping work around
one point, so an ideal harness spends ~1 ms per trial whatever N is; the rest is the
harness. A hand-written barrier loop on the same work gives the floor for threads.

Run alone: ``python benchmarks/bench_scale.py [--quick]``.
"""

from __future__ import annotations

import sys
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import racecheck  # noqa: E402
from benchmarks.targets import scale  # noqa: E402
from benchmarks.targets.stats import median  # noqa: E402

WORK_S = 0.001


def _trial_stats(res: racecheck.RunResult) -> dict[str, Any]:
    skews, per_trial, body = [], [], []
    for tr in res.trials:
        starts = [e.t for e in tr.history if e.kind == "start"]
        ends = [e.t for e in tr.history if e.kind in ("end", "error")]
        if starts:
            skews.append((max(starts) - min(starts)) / 1e9)
        if starts and ends:
            body.append((max(ends) - min(starts)) / 1e9)
        per_trial.append((tr.t_end - tr.t0) / 1e9)
    return {"trials": len(res.trials), "skew_median_s": median(skews), "skew_max_s": max(skews) if skews else None,
            "recorded_trial_median_s": median(per_trial), "first_start_to_last_end_median_s": median(body),
            "violations": len(res.failing), "violation_kinds": sorted({v.invariant for v in res.violations}),
            "aborted": res.aborted}


def _finish(stats: dict[str, Any], wall: float) -> dict[str, Any]:
    stats["wall_s"] = wall
    stats["trial_median_s"] = wall / stats["trials"] if stats["trials"] else None
    return stats


def hand_barrier(n: int, trials: int) -> dict[str, Any]:
    skews, walls = [], []
    for _ in range(trials):
        gate = threading.Barrier(n)
        starts: list[int] = []

        def body(gate: threading.Barrier = gate, starts: list[int] = starts) -> None:
            gate.wait()
            starts.append(time.monotonic_ns())
            time.sleep(WORK_S)

        t0 = time.perf_counter()
        threads = [threading.Thread(target=body) for _ in range(n)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        walls.append(time.perf_counter() - t0)
        skews.append((max(starts) - min(starts)) / 1e9)
    return {"skew_median_s": median(skews), "trial_median_s": median(walls)}


def run(quick: bool = False, log: Any = print) -> dict[str, Any]:
    thread_ns = (2, 8, 32, 128) if quick else (2, 4, 8, 16, 32, 64, 128, 256)
    proc_ns = (2, 4) if quick else (2, 4, 8, 16, 32)
    trials = 5 if quick else 20
    ptrials = 3
    max_controlled = 32 if quick else 256
    out: dict[str, Any] = {"work_s": WORK_S, "threads": {}, "processes": {}, "trials": trials, "process_trials": ptrials}
    for n in thread_ns:
        row: dict[str, Any] = {"hand_barrier": hand_barrier(n, trials)}
        for s in ("stress", "random"):
            t0 = time.perf_counter()
            try:
                if s == "random" and n > max_controlled:
                    row[s] = {"skipped": f"N > {max_controlled} in this mode"}
                    continue
                r = racecheck.run(scale.work, n=n, trials=trials, strategy=s, seed=5, noise=0.0,
                                  worker_args=lambda i: (i, WORK_S), timeout=30)
                row[s] = _finish(_trial_stats(r), time.perf_counter() - t0)
            except Exception as exc:  # noqa: BLE001 - recorded
                row[s] = {"error": f"{type(exc).__name__}: {exc}"}
        out["threads"][n] = row
        log(f"  threads n={n}: {row}")
    for n in proc_ns:
        t0 = time.perf_counter()
        try:
            r = racecheck.run("benchmarks.targets.scale:work", n=n, trials=ptrials, mode="processes", seed=5,
                              noise=0.0, worker_args=lambda i: (i, WORK_S), timeout=120)
            out["processes"][n] = _finish(_trial_stats(r), time.perf_counter() - t0)
        except Exception as exc:  # noqa: BLE001
            out["processes"][n] = {"error": f"{type(exc).__name__}: {exc}"}
        log(f"  processes n={n}: {out['processes'][n]}")
    return out


def _ms(x: float | None) -> str:
    return "—" if x is None else f"{x * 1000:.2f} ms"


def markdown(res: dict[str, Any]) -> str:
    w = res["work_s"]
    lines = [f"Each trigger sleeps {w * 1000:.0f} ms around one point (work that overlaps, like I/O). "
             f"Threads: {res['trials']} trials per N; processes: {res['process_trials']} trials per N. "
             "*skew* = max − min of the `start` events' t in a trial (median over trials); *trial* = setup to "
             "verdict, measured outside racecheck (run wall time ÷ trials, so it includes thread or process start-up); *harness share* = 1 − (first start → last end) ÷ trial time, i.e. the fraction of the "
             "trial spent outside the triggers' bodies.", "",
             "| mode | N | hand barrier skew | hand barrier trial | stress skew | stress trial | stress harness share "
             "| random (controlled) skew | random trial |",
             "|---|---|---|---|---|---|---|---|---|"]
    for n, row in res["threads"].items():
        hb, st, rn = row["hand_barrier"], row["stress"], row["random"]
        if "skipped" in rn:
            rn = {"error": "not run: " + rn["skipped"]}
        elif rn.get("violations"):
            rn = rn | {"note": f" ({rn['violations']} trial(s) failed: {', '.join(rn['violation_kinds'])})"}
        share = "—"
        if "error" not in st and st["trial_median_s"] and st["first_start_to_last_end_median_s"] is not None:
            share = f"{1 - st['first_start_to_last_end_median_s'] / st['trial_median_s']:.0%}"
        lines.append(f"| threads | {n} | {_ms(hb['skew_median_s'])} | {_ms(hb['trial_median_s'])} | "
                     + (f"error: {st['error']} | | " if "error" in st else
                        f"{_ms(st['skew_median_s'])} | {_ms(st['trial_median_s'])} | ")
                     + f"{share} | "
                     + (f"error: {rn['error']} | |" if "error" in rn else
                        f"{_ms(rn['skew_median_s'])} | {_ms(rn['trial_median_s'])}{rn.get('note', '')} |"))
    for n, st in res["processes"].items():
        if "error" in st:
            lines.append(f"| processes | {n} | — | — | error: {st['error']} | | | | |")
            continue
        share = "—"
        if st["trial_median_s"] and st["first_start_to_last_end_median_s"] is not None:
            share = f"{1 - st['first_start_to_last_end_median_s'] / st['trial_median_s']:.0%}"
        lines.append(f"| processes | {n} | — | — | {_ms(st['skew_median_s'])} | {_ms(st['trial_median_s'])} | "
                     f"{share} | — | — |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    argv = sys.argv[1:] if argv is None else argv
    res = run(quick="--quick" in argv)
    print(markdown(res))
    return res


if __name__ == "__main__":
    main()
