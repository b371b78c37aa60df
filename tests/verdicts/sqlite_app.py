"""An app module that claims work in SQLite through sqlite3 (not instrumented by racecheck)."""

from __future__ import annotations

import sqlite3

import racecheck

PATH = {"db": ""}


def reset() -> None:
    with sqlite3.connect(PATH["db"]) as conn:
        conn.execute("create table if not exists claims (k text)")
        conn.execute("delete from claims")


def claim() -> None:
    """Check-then-act through sqlite3: no point between the check and the act."""
    conn = sqlite3.connect(PATH["db"], timeout=10)
    try:
        if conn.execute("select count(*) from claims where k = 'k'").fetchone()[0] == 0:
            conn.execute("insert into claims (k) values ('k')")
            conn.commit()
            racecheck.effect("spawn", key="k")
    finally:
        conn.close()
