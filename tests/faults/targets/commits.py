"""One INSERT committed along each path psycopg offers (for after-commit fault tests)."""

from __future__ import annotations

import psycopg

SCHEMA = "CREATE TABLE t (v text);"
INSERT = "INSERT INTO t (v) VALUES (%s)"


def insert(url: str, path: str) -> str:
    """Insert one row and commit it via ``path``: autocommit, commit, transaction, statement, with, rollback."""
    conn = psycopg.connect(url, autocommit=path == "autocommit")
    try:
        if path == "transaction":
            with conn.transaction():
                conn.execute(INSERT, (path,))
        elif path == "with":
            with conn:
                conn.execute(INSERT, (path,))
        else:
            conn.execute(INSERT, (path,))
            if path == "commit":
                conn.commit()
            elif path == "statement":
                conn.execute("COMMIT")
            elif path == "rollback":
                conn.rollback()
        return "ok"
    finally:
        conn.close()


async def insert_async(url: str, path: str) -> str:
    """The async twin of :func:`insert` (autocommit, commit, transaction)."""
    conn = await psycopg.AsyncConnection.connect(url, autocommit=path == "autocommit")
    try:
        if path == "transaction":
            async with conn.transaction():
                await conn.execute(INSERT, (path,))
        else:
            await conn.execute(INSERT, (path,))
            if path == "commit":
                await conn.commit()
        return "ok"
    finally:
        await conn.close()
