"""The tables every SQL driver's scenarios use, and the state checks read after each trial."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import psycopg2

JOBS = 4
SCHEMA = f"""
CREATE TABLE IF NOT EXISTS accounts (email text);
CREATE TABLE IF NOT EXISTS accounts_u (email text UNIQUE);
CREATE TABLE IF NOT EXISTS counter (id int PRIMARY KEY, v int NOT NULL);
CREATE TABLE IF NOT EXISTS jobs (id int PRIMARY KEY, status text NOT NULL DEFAULT 'queued', owner int);
CREATE TABLE IF NOT EXISTS t (v text);
CREATE TABLE IF NOT EXISTS runs (job text);
CREATE TABLE IF NOT EXISTS runs_u (job text UNIQUE);
CREATE TABLE IF NOT EXISTS balances (id int PRIMARY KEY, bal int NOT NULL);
TRUNCATE accounts, accounts_u, counter, jobs, t, runs, runs_u, balances;
INSERT INTO counter VALUES (1, 0);
INSERT INTO balances VALUES (1, 100), (2, 0);
INSERT INTO jobs (id) SELECT generate_series(1, {JOBS});
"""


def _query(url: str, sql: str) -> list[tuple[Any, ...]]:
    conn = psycopg2.connect(url)
    try:
        with conn, conn.cursor() as cur:
            cur.execute(sql)
            return cur.fetchall() if cur.description else []
    finally:
        conn.close()


def reset(url: str) -> Callable[[], None]:
    """A ``setup=`` that recreates the tables before each trial."""
    return lambda: _query(url, SCHEMA)


def one_account(url: str, table: str = "accounts") -> Callable[[Any], str | None]:
    def check(_history: Any) -> str | None:
        n = _query(url, f"SELECT count(*) FROM {table} WHERE email = 'a@x'")[0][0]
        return None if n <= 1 else f"{n} accounts for a@x (check-then-insert raced)"

    check.__name__ = "one_account"
    return check


def counter_is(url: str, n: int) -> Callable[[Any], str | None]:
    def check(_history: Any) -> str | None:
        v = _query(url, "SELECT v FROM counter WHERE id = 1")[0][0]
        return None if v == n else f"counter is {v} after {n} increments (an update was lost)"

    check.__name__ = "no_lost_update"
    return check


def rows(url: str, sql: str) -> list[tuple[Any, ...]]:
    return _query(url, sql)
