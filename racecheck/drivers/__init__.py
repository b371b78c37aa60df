"""Driver instrumentation: every psycopg 3 statement and redis-py command becomes a point.

Patches are installed only for the duration of a run and only for drivers that are
importable; user code is not changed and connections it opens itself are covered.
"""

from __future__ import annotations

from collections.abc import Callable

DRIVERS = ("psycopg", "redis")


def install_drivers(names: tuple[str, ...] | list[str] = DRIVERS) -> Callable[[], None]:
    """Instrument each named driver that is importable; returns the undo."""
    undos: list[Callable[[], None]] = []
    for name in names:
        if name == "psycopg":
            from . import psycopg_driver

            undos.append(psycopg_driver.install())
        elif name == "redis":
            from . import redis_driver

            undos.append(redis_driver.install())

    def undo() -> None:
        for u in reversed(undos):
            u()

    return undo


def one_line(text: str, limit: int = 300) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"
