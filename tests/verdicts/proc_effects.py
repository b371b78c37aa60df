"""A target module only process-mode workers import (the verdict reads its source from disk)."""

from __future__ import annotations

import racecheck


def spawn_reviewer(key: str) -> None:
    pass


def trigger() -> None:
    racecheck.point("work")
    racecheck.effect("spawn", key=str(racecheck.current_worker()))
