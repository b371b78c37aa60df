"""Scale targets: a trigger with a fixed, small amount of work, importable for process mode."""

from __future__ import annotations

import time

import racecheck


def work(worker: int = 0, seconds: float = 0.001) -> float:
    """Sleep ``seconds`` (I/O-like work that overlaps across triggers) around one racecheck point."""
    racecheck.point("work")
    time.sleep(seconds)
    return seconds
