"""Targets for the fault tests of every SQL driver: an ambiguous write retried, a transfer crashed midway.

``record`` writes one run row and retries up to 3 times on the driver's connection error:
blindly (``runs``, no key: a retry after a lost acknowledgement records the run twice) or
idempotently (``runs_u``, unique key, ``ON CONFLICT DO NOTHING``). ``transfer`` moves 10 from
balance 1 to balance 2 in one transaction (``atomic``) or in two autocommit statements.
Drivers: ``psycopg`` (sync), ``psycopg-async`` (AsyncConnection), ``psycopg2``, ``asyncpg``.
"""

from __future__ import annotations

from typing import Any

import asyncpg
import psycopg
import psycopg2

JOB = "j1"
ATTEMPTS = 3
DEBIT = "UPDATE balances SET bal = bal - 10 WHERE id = 1"
CREDIT = "UPDATE balances SET bal = bal + 10 WHERE id = 2"
ASYNC = {"psycopg-async", "asyncpg"}
# The driver's "connection failed" class, the one a client retries on (and db_error raises).
ERROR = {"psycopg": "OperationalError", "psycopg-async": "OperationalError", "psycopg2": "OperationalError",
         "asyncpg": "PostgresConnectionError"}


def _record_sql(idempotent: bool, placeholder: str) -> str:
    if idempotent:
        return f"INSERT INTO runs_u (job) VALUES ({placeholder}) ON CONFLICT (job) DO NOTHING"
    return f"INSERT INTO runs (job) VALUES ({placeholder})"


def _sync_module(driver: str) -> Any:
    return psycopg if driver == "psycopg" else psycopg2


def record(url: str, driver: str, idempotent: bool) -> int:
    """psycopg / psycopg2: ``with conn:`` commits the INSERT; a connection error is retried."""
    mod = _sync_module(driver)
    sql = _record_sql(idempotent, "%s")
    for attempt in range(1, ATTEMPTS + 1):
        conn = mod.connect(url)
        try:
            with conn:
                conn.cursor().execute(sql, (JOB,))
            return attempt
        except mod.OperationalError:
            if attempt == ATTEMPTS:
                raise
        finally:
            conn.close()
    raise AssertionError("unreachable")


async def arecord(url: str, driver: str, idempotent: bool) -> int:
    """asyncpg / psycopg AsyncConnection: a transaction block commits the INSERT; errors are retried."""
    for attempt in range(1, ATTEMPTS + 1):
        try:
            if driver == "asyncpg":
                conn = await asyncpg.connect(url)
                try:
                    async with conn.transaction():
                        await conn.execute(_record_sql(idempotent, "$1"), JOB)
                finally:
                    await conn.close()
            else:
                aconn = await psycopg.AsyncConnection.connect(url)
                try:
                    async with aconn.transaction():
                        await aconn.execute(_record_sql(idempotent, "%s"), (JOB,))
                finally:
                    await aconn.close()
            return attempt
        except (asyncpg.PostgresConnectionError, psycopg.OperationalError):
            if attempt == ATTEMPTS:
                raise
    raise AssertionError("unreachable")


def transfer(url: str, driver: str, atomic: bool) -> None:
    mod = _sync_module(driver)
    conn = mod.connect(url)
    try:
        if atomic:
            with conn:
                cur = conn.cursor()
                cur.execute(DEBIT)
                cur.execute(CREDIT)
        else:
            conn.autocommit = True
            cur = conn.cursor()
            cur.execute(DEBIT)
            cur.execute(CREDIT)
    finally:
        conn.close()


async def atransfer(url: str, driver: str, atomic: bool) -> None:
    if driver == "asyncpg":
        conn = await asyncpg.connect(url)
        try:
            if atomic:
                async with conn.transaction():
                    await conn.execute(DEBIT)
                    await conn.execute(CREDIT)
            else:
                await conn.execute(DEBIT)
                await conn.execute(CREDIT)
        finally:
            await conn.close()
        return
    aconn = await psycopg.AsyncConnection.connect(url, autocommit=not atomic)
    try:
        if atomic:
            async with aconn.transaction():
                await aconn.execute(DEBIT)
                await aconn.execute(CREDIT)
        else:
            await aconn.execute(DEBIT)
            await aconn.execute(CREDIT)
    finally:
        await aconn.close()


async def atransfer_commit_in_finally(url: str, driver: str) -> None:
    """Commits in ``finally``: a crashed task's unwinding (cancellation) would commit the debit alone
    unless its connection was severed first."""
    if driver == "asyncpg":
        conn = await asyncpg.connect(url)
        tx = conn.transaction()
        await tx.start()
        try:
            await conn.execute(DEBIT)
            await conn.execute(CREDIT)
        finally:
            await tx.commit()
            await conn.close()
        return
    aconn = await psycopg.AsyncConnection.connect(url)
    try:
        await aconn.execute(DEBIT)
        await aconn.execute(CREDIT)
    finally:
        await aconn.commit()
        await aconn.close()
