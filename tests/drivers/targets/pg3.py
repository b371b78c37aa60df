"""The scenarios written with psycopg 3 (sync), as their authors would: connections, a pool-less claim."""

from __future__ import annotations

import psycopg
from psycopg.rows import dict_row

import racecheck

EMAIL = "a@x"


def signup(url: str) -> str:
    """Buggy check-then-insert (autocommit): SELECT for the account, INSERT when absent."""
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
    """Buggy lost update: SELECT, then UPDATE to the value read plus one, in a transaction block."""
    with psycopg.connect(url, row_factory=dict_row) as conn, conn.transaction():
        row = conn.execute("SELECT v FROM counter WHERE id = 1").fetchone()
        assert row is not None
        conn.execute("UPDATE counter SET v = %s WHERE id = 1", (row["v"] + 1,))


def increment_fixed(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("UPDATE counter SET v = v + 1 WHERE id = 1")


def _claim(url: str, lock: str) -> int | None:
    with psycopg.connect(url) as conn:
        with conn.transaction():
            row = conn.execute(f"SELECT id FROM jobs WHERE status = 'queued' ORDER BY id LIMIT 1 {lock}").fetchone()
            if row is None:
                return None
            conn.execute("UPDATE jobs SET status = 'taken' WHERE id = %s", (row[0],))
        racecheck.effect("claimed", key=row[0])
        return int(row[0])


def claim(url: str) -> int | None:
    return _claim(url, "")


def claim_fixed(url: str) -> int | None:
    return _claim(url, "FOR UPDATE SKIP LOCKED")
