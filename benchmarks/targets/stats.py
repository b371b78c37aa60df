"""Small statistics and timing helpers shared by the benchmark scripts."""

from __future__ import annotations

import statistics
from collections.abc import Callable, Sequence
from typing import Any


def median(xs: Sequence[float]) -> float | None:
    return statistics.median(xs) if xs else None


def pct(xs: Sequence[float], q: float) -> float | None:
    if not xs:
        return None
    s = sorted(xs)
    k = min(len(s) - 1, max(0, round(q * (len(s) - 1))))
    return s[k]


def summarize_detection(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Fraction of runs that found the bug, and medians over the runs that did."""
    found = [r for r in runs if r.get("found")]
    errors = [r["error"] for r in runs if r.get("error")]
    return {
        "runs": len(runs),
        "found": len(found),
        "found_fraction": (len(found) / len(runs)) if runs else None,
        "median_trials": median([r["trials"] for r in found]),
        "median_wall_s": median([r["wall_s"] for r in found]),
        "p90_wall_s": pct([r["wall_s"] for r in found], 0.9),
        "errors": errors[:3],
    }


def fmt(x: Any, unit: str = "", digits: int = 3) -> str:
    if x is None:
        return "—"
    if isinstance(x, float):
        if unit == "ms":
            return f"{x * 1000:.{max(digits - 2, 1)}f} ms"
        if unit == "us":
            return f"{x * 1e6:.1f} µs"
        if unit == "%":
            return f"{x * 100:.0f}%"
        return f"{x:.{digits}g}"
    return str(x)


def bench_main(run: Callable[..., dict[str, Any]], markdown: Callable[[dict[str, Any]], str],
               argv: list[str]) -> dict[str, Any]:
    """A benchmark script's main: the full budget, or ``--quick``; prints its markdown table."""
    res = run(quick="--quick" in argv)
    print(markdown(res))
    return res
