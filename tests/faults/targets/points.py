"""Triggers made of explicit points and a spied call (no backend)."""

from __future__ import annotations

import racecheck


def three_steps() -> None:
    """Reach ``step`` three times, recording an effect after each."""
    for i in range(3):
        racecheck.point("step")
        racecheck.effect("stepped", key=str(i))


def spawn(job: str) -> str:
    """The side effect (spied in tests)."""
    return job


def spawn_once() -> None:
    """Call the spied ``spawn`` once."""
    spawn("j1")
