"""An app module that talks to Postgres through psycopg2 (not instrumented by racecheck)."""

from __future__ import annotations

import psycopg2  # noqa: F401 - what the verdict names as the likely cause

import racecheck

SEEN: set[str] = set()


def claim() -> None:
    """Stands in for a psycopg2 check-then-act: no point between the check and the act."""
    if "k" not in SEEN:
        SEEN.add("k")
        racecheck.effect("spawn", key="k")
