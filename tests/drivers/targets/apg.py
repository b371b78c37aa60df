"""The scenarios written with asyncpg (connections, a pool, transactions), as their authors would."""

from __future__ import annotations

import asyncpg

import racecheck

EMAIL = "a@x"


async def signup(url: str) -> str:
    conn = await asyncpg.connect(url)
    try:
        if await conn.fetchval("SELECT 1 FROM accounts WHERE email = $1", EMAIL):
            return "exists"
        await conn.execute("INSERT INTO accounts (email) VALUES ($1)", EMAIL)
        return "created"
    finally:
        await conn.close()


async def signup_fixed(url: str) -> str:
    conn = await asyncpg.connect(url)
    try:
        tag = await conn.execute("INSERT INTO accounts_u (email) VALUES ($1) ON CONFLICT DO NOTHING", EMAIL)
        return "created" if tag.endswith(" 1") else "exists"
    finally:
        await conn.close()


async def increment(url: str) -> None:
    conn = await asyncpg.connect(url)
    try:
        async with conn.transaction():
            row = await conn.fetchrow("SELECT v FROM counter WHERE id = 1")
            await conn.execute("UPDATE counter SET v = $1 WHERE id = 1", row["v"] + 1)
    finally:
        await conn.close()


async def increment_fixed(url: str) -> None:
    conn = await asyncpg.connect(url)
    try:
        await conn.execute("UPDATE counter SET v = v + 1 WHERE id = 1")
    finally:
        await conn.close()


async def _claim(url: str, lock: str) -> int | None:
    pool = await asyncpg.create_pool(url, min_size=1, max_size=1)
    try:
        async with pool.acquire() as conn, conn.transaction():
            rows = await conn.fetch(
                f"SELECT id FROM jobs WHERE status = 'queued' ORDER BY id LIMIT 1 {lock}")
            if not rows:
                return None
            await conn.execute("UPDATE jobs SET status = 'taken' WHERE id = $1", rows[0]["id"])
        racecheck.effect("claimed", key=rows[0]["id"])
        return int(rows[0]["id"])
    finally:
        await pool.close()


async def claim(url: str) -> int | None:
    """Buggy: SELECT then UPDATE, through a pool, in a transaction without a row lock."""
    return await _claim(url, "")


async def claim_fixed(url: str) -> int | None:
    return await _claim(url, "FOR UPDATE SKIP LOCKED")


async def insert(url: str, path: str) -> None:
    conn = await asyncpg.connect(url)
    try:
        if path == "autocommit":
            await conn.execute("INSERT INTO t (v) VALUES ($1)", path)
        elif path == "transaction":
            async with conn.transaction():
                await conn.execute("INSERT INTO t (v) VALUES ($1)", path)
        elif path == "commit":
            tx = conn.transaction()
            await tx.start()
            await conn.executemany("INSERT INTO t (v) VALUES ($1)", [(path,)])
            await tx.commit()
        elif path == "copy":
            async with conn.transaction():
                await conn.copy_records_to_table("t", records=[(path,)], columns=["v"])
        elif path == "rollback":
            tx = conn.transaction()
            await tx.start()
            await conn.execute("INSERT INTO t (v) VALUES ($1)", path)
            await tx.rollback()
        else:
            raise ValueError(path)
    finally:
        await conn.close()


async def hold_then_commit(url: str) -> None:
    conn = await asyncpg.connect(url)
    async with conn.transaction():
        await conn.execute("INSERT INTO t (v) VALUES ('held')")
    await conn.close()


PREPARED = "SELECT id FROM jobs WHERE status = $1 ORDER BY id"
TAKE = "UPDATE jobs SET status = 'taken' WHERE id = $1"


async def prepared_and_cursors(url: str) -> int:
    """A prepared SELECT and UPDATE (executemany), an iterated cursor and an awaited one, in a transaction."""
    conn = await asyncpg.connect(url)
    try:
        async with conn.transaction():
            select = await conn.prepare(PREPARED)
            ids = [r["id"] for r in await select.fetch("queued")]
            take = await conn.prepare(TAKE)
            await take.executemany([(i,) for i in ids[:2]])
            seen = [r["id"] async for r in conn.cursor("SELECT id FROM jobs WHERE status = $1", "taken")]
            cur = await conn.cursor("SELECT v FROM counter WHERE id = $1", 1)
            row = await cur.fetchrow()
            return len(seen) + int(row["v"])
    finally:
        await conn.close()
