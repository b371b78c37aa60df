"""The scenarios written with psycopg2, as their authors would (no racecheck in sight but effects)."""

from __future__ import annotations

import io

import psycopg2
import psycopg2.extras
import psycopg2.pool

import racecheck

EMAIL = "a@x"


def signup(url: str) -> str:
    """Buggy check-then-insert: SELECT for the account, INSERT when absent (no unique key)."""
    conn = psycopg2.connect(url)
    conn.autocommit = True
    try:
        cur = conn.cursor()
        cur.execute("SELECT 1 FROM accounts WHERE email = %s", (EMAIL,))
        if cur.fetchone():
            return "exists"
        cur.execute("INSERT INTO accounts (email) VALUES (%s)", (EMAIL,))
        return "created"
    finally:
        conn.close()


def signup_fixed(url: str) -> str:
    """INSERT ... ON CONFLICT DO NOTHING on a unique key."""
    conn = psycopg2.connect(url)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute("INSERT INTO accounts_u (email) VALUES (%s) ON CONFLICT DO NOTHING", (EMAIL,))
            return "created" if cur.rowcount else "exists"
    finally:
        conn.close()


def increment(url: str) -> None:
    """Buggy lost update: SELECT the value, UPDATE it to value + 1 (a transaction does not help)."""
    conn = psycopg2.connect(url)
    try:
        with conn, conn.cursor(cursor_factory=psycopg2.extras.RealDictCursor) as cur:
            cur.execute("SELECT v FROM counter WHERE id = 1")
            v = cur.fetchone()["v"]
            cur.execute("UPDATE counter SET v = %s WHERE id = 1", (v + 1,))
    finally:
        conn.close()


def increment_fixed(url: str) -> None:
    """The increment is done by the server, in one autocommit statement."""
    conn = psycopg2.connect(url)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute("UPDATE counter SET v = v + 1 WHERE id = 1")
    finally:
        conn.close()


_pools: dict[str, psycopg2.pool.ThreadedConnectionPool] = {}


def _pool(url: str) -> psycopg2.pool.ThreadedConnectionPool:
    pool = _pools.get(url)
    if pool is None:
        pool = _pools[url] = psycopg2.pool.ThreadedConnectionPool(0, 8, url)
    return pool


def claim(url: str) -> int | None:
    """Buggy claim (through psycopg2.pool): SELECT a queued job, then UPDATE it to taken."""
    pool = _pool(url)
    conn = pool.getconn()
    try:
        cur = conn.cursor()
        cur.execute("SELECT id FROM jobs WHERE status = 'queued' ORDER BY id LIMIT 1")
        row = cur.fetchone()
        if row is None:
            conn.commit()
            return None
        cur.execute("UPDATE jobs SET status = 'taken' WHERE id = %s", (row[0],))
        conn.commit()
        racecheck.effect("claimed", key=row[0])
        return int(row[0])
    finally:
        conn.rollback()
        pool.putconn(conn)


def claim_fixed(url: str) -> int | None:
    """FOR UPDATE SKIP LOCKED: a job locked by another claimer is skipped."""
    pool = _pool(url)
    conn = pool.getconn()
    try:
        cur = conn.cursor()
        cur.execute("SELECT id FROM jobs WHERE status = 'queued' ORDER BY id LIMIT 1 "
                    "FOR UPDATE SKIP LOCKED")
        row = cur.fetchone()
        if row is None:
            conn.commit()
            return None
        cur.execute("UPDATE jobs SET status = 'taken' WHERE id = %s", (row[0],))
        conn.commit()
        racecheck.effect("claimed", key=row[0])
        return int(row[0])
    finally:
        conn.rollback()
        pool.putconn(conn)


def insert(url: str, path: str) -> None:
    """INSERT one row committed by ``path``: autocommit, commit, with, statement, rollback."""
    conn = psycopg2.connect(url)
    try:
        cur = conn.cursor()
        if path == "autocommit":
            conn.autocommit = True
            cur.execute("INSERT INTO t (v) VALUES (%s)", (path,))
        elif path == "commit":
            cur.execute("INSERT INTO t (v) VALUES (%s)", (path,))
            conn.commit()
        elif path == "with":
            with conn:
                cur.execute("INSERT INTO t (v) VALUES (%s)", (path,))
        elif path == "statement":
            cur.execute("INSERT INTO t (v) VALUES (%s)", (path,))
            cur.execute("COMMIT")
        elif path == "values":
            psycopg2.extras.execute_values(cur, "INSERT INTO t (v) VALUES %s", [(path,)])
            conn.commit()
        elif path == "batch":
            psycopg2.extras.execute_batch(cur, "INSERT INTO t (v) VALUES (%s)", [(path,)])
            conn.commit()
        elif path == "many":
            cur.executemany("INSERT INTO t (v) VALUES (%s)", [(path,)])
            conn.commit()
        elif path == "copy_expert":
            cur.copy_expert("COPY t (v) FROM STDIN", io.StringIO(path + "\n"))
            conn.commit()
        elif path == "copy_from":
            cur.copy_from(io.StringIO(path + "\n"), "t", columns=["v"])
            conn.commit()
        elif path == "rollback":
            cur.execute("INSERT INTO t (v) VALUES (%s)", (path,))
            conn.rollback()
        else:
            raise ValueError(path)
    finally:
        conn.close()


def named_cursor(url: str) -> int:
    """A server-side cursor reads the jobs; then a stored function is called."""
    conn = psycopg2.connect(url)
    try:
        with conn:
            with conn.cursor("jobs_reader") as cur:
                cur.execute("SELECT id FROM jobs ORDER BY id")
                n = len(cur.fetchall())
            cur = conn.cursor()
            cur.callproc("abs", (-n,))
            return int(cur.fetchone()[0])
    finally:
        conn.close()


def hold_then_commit(url: str) -> None:
    """INSERT in a transaction, then COMMIT (a crash at the commit must leave no row)."""
    conn = psycopg2.connect(url)
    cur = conn.cursor()
    cur.execute("INSERT INTO t (v) VALUES ('held')")
    conn.commit()
    conn.close()
