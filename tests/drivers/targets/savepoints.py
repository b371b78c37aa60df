"""A transaction with a savepoint rolled back inside it, written with each SQL driver's own idiom.

``nested(url, driver, how)``: INSERT 'outer'; in a savepoint INSERT 'inner', then either a
duplicate key (``how="sql error"``: the second INSERT raises a unique violation) or an
application error (``how="raise"``), caught, so the savepoint is rolled back; COMMIT.
'outer' is committed, 'inner' is not. psycopg2: explicit SAVEPOINT / ROLLBACK TO statements;
psycopg 3: nested ``conn.transaction()``; asyncpg: nested ``conn.transaction()`` (asyncpg
sends SAVEPOINT / ROLLBACK TO through ``execute``).
"""

from __future__ import annotations

import asyncpg
import psycopg
import psycopg.errors
import psycopg2
import psycopg2.errors

OUTER = "INSERT INTO t (v) VALUES ('outer')"
INNER = "INSERT INTO t (v) VALUES ('inner')"
DUP = "INSERT INTO accounts_u (email) VALUES ('dup')"


class Refused(Exception):
    """The application gives up on the inner step."""


def _fail(how: str, execute) -> None:  # noqa: ANN001
    if how == "sql error":
        execute(DUP)
        execute(DUP)
    else:
        raise Refused(how)


def nested(url: str, driver: str, how: str) -> None:
    if driver == "psycopg2":
        conn = psycopg2.connect(url)
        try:
            with conn, conn.cursor() as cur:
                cur.execute(OUTER)
                cur.execute("SAVEPOINT sp")
                try:
                    cur.execute(INNER)
                    _fail(how, cur.execute)
                except (psycopg2.errors.UniqueViolation, Refused):
                    cur.execute("ROLLBACK TO SAVEPOINT sp")
                cur.execute("RELEASE SAVEPOINT sp")
        finally:
            conn.close()
        return
    with psycopg.connect(url) as pconn, pconn.transaction():
        pconn.execute(OUTER)
        try:
            with pconn.transaction():
                pconn.execute(INNER)
                _fail(how, pconn.execute)
        except (psycopg.errors.UniqueViolation, Refused):
            pass


async def anested(url: str, driver: str, how: str) -> None:
    assert driver == "asyncpg"
    conn = await asyncpg.connect(url)
    try:
        async with conn.transaction():
            await conn.execute(OUTER)
            try:
                async with conn.transaction():
                    await conn.execute(INNER)
                    if how == "sql error":
                        await conn.execute(DUP)
                        await conn.execute(DUP)
                    else:
                        raise Refused(how)
            except (asyncpg.UniqueViolationError, Refused):
                pass
    finally:
        await conn.close()
