"""Steps the Node dispatcher scenarios name: the recovery step is the next dispatch cycle."""

from __future__ import annotations

from racecheck.external import HttpTrigger

_next_cycle = HttpTrigger("${SERVICE_URL}/dispatch")


def next_cycle() -> None:
    """Run one more dispatch cycle, as the scheduler would after the trial (the recovery step)."""
    _next_cycle()
