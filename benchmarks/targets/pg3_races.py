"""The two-statement races of ``tests/drivers/`` written with psycopg 3 (for bench_search's driver table).

Same tables and names as ``tests/drivers/targets/pg2.py`` (``schema.reset`` creates them):
``signup`` (check-then-insert), ``increment`` (lost update), ``claim`` (SELECT a queued job,
then UPDATE it: no ``FOR UPDATE SKIP LOCKED``) and their fixed twins.
"""

from __future__ import annotations

import psycopg

import racecheck

EMAIL = "a@x"


def signup(url: str) -> str:
    with psycopg.connect(url, autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM accounts WHERE email = %s", (EMAIL,)).fetchone():
            return "exists"
        conn.execute("INSERT INTO accounts (email) VALUES (%s)", (EMAIL,))
        return "created"


def signup_fixed(url: str) -> str:
    with psycopg.connect(url, autocommit=True) as conn:
        cur = conn.execute("INSERT INTO accounts_u (email) VALUES (%s) ON CONFLICT DO NOTHING", (EMAIL,))
        return "created" if cur.rowcount else "exists"


def increment(url: str) -> None:
    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT v FROM counter WHERE id = 1").fetchone()
        assert row is not None
        conn.execute("UPDATE counter SET v = %s WHERE id = 1", (row[0] + 1,))


def increment_fixed(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("UPDATE counter SET v = v + 1 WHERE id = 1")


def _claim(url: str, lock: str) -> int | None:
    with psycopg.connect(url) as conn:
        row = conn.execute(f"SELECT id FROM jobs WHERE status = 'queued' ORDER BY id LIMIT 1{lock}").fetchone()
        if row is None:
            return None
        conn.execute("UPDATE jobs SET status = 'taken' WHERE id = %s", (row[0],))
        conn.commit()
        racecheck.effect("claimed", key=row[0])
        return int(row[0])


def claim(url: str) -> int | None:
    return _claim(url, "")


def claim_fixed(url: str) -> int | None:
    return _claim(url, " FOR UPDATE SKIP LOCKED")
