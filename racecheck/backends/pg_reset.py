"""Fast per-trial reset of a racecheck-made Postgres database: empty what the schema made.

Re-cloning the template (``PostgresDB.reset``'s slow path) costs a CREATE DATABASE, 100 ms
or more. Most trials only add rows, advance sequences and take locks; undoing exactly that
takes a millisecond. A ``Plan`` is read once from a pristine clone (right after the slow
path ran): the tables, every sequence's state, the seed rows the schema inserted and a
digest of the catalog. Each later reset then, on one connection of its own:

1. rolls back prepared transactions and terminates every other session that holds
   something a trial could leave behind: an open transaction (row locks, uncommitted
   rows), an advisory lock, or a temporary object (temp tables cannot be attributed to a
   session, so any temp object terminates every other session). Idle sessions holding
   nothing survive, so a target's persistent connections stay usable;
2. checks the catalog digest: a trial that ran DDL (a new table, a dropped column, a
   changed default) cannot be undone by emptying tables, so the caller re-clones;
3. in one transaction, with triggers and foreign-key checks off (``session_replication_role
   = replica``, as pg_restore does): DELETE every table (tiny tables: ten times cheaper
   than TRUNCATE, which creates and syncs new files), put every sequence back where the
   template had it, and COPY the seed rows back.

Anything the plan cannot undo exactly (rules on DELETE, materialized views, foreign or
unlogged-to-logged tricks, seed data over ``SEED_LIMIT`` bytes, a role that may not set
``session_replication_role``) makes ``Plan.unsupported`` say why and the reset re-clones.
"""

from __future__ import annotations

import contextlib
import weakref
from dataclasses import dataclass, field
from typing import Any

SEED_LIMIT = 4 * 1024 * 1024  # seed rows larger than this are re-cloned, not copied back

_USER = "n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%%' " \
        "AND n.nspname NOT LIKE 'pg_temp_%%'"

_DIGEST = """SELECT md5(coalesce(string_agg(x, ',' ORDER BY x), '')) FROM (
 SELECT concat_ws(':', 'c', c.oid, c.relname, c.relkind, c.relnamespace, c.relpersistence, c.relacl::text,
                  c.relrowsecurity, c.relhasrules, c.relhastriggers)
   FROM pg_class c WHERE c.oid >= 16384 AND c.relpersistence <> 't'
 UNION ALL SELECT concat_ws(':', 'a', attrelid, attnum, attname, atttypid, atttypmod, attnotnull, attisdropped,
                  atthasdef, attgenerated, attidentity)
   FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
   WHERE attrelid >= 16384 AND attnum > 0 AND c.relpersistence <> 't'
 UNION ALL SELECT concat_ws(':', 's', seqrelid, seqtypid, seqstart, seqincrement, seqmax, seqmin, seqcycle)
   FROM pg_sequence
 UNION ALL SELECT concat_ws(':', 'p', oid, md5(prosrc)) FROM pg_proc WHERE oid >= 16384
 UNION ALL SELECT concat_ws(':', 'k', oid, conname) FROM pg_constraint WHERE oid >= 16384
 UNION ALL SELECT concat_ws(':', 'd', oid, md5(pg_get_expr(adbin, adrelid))) FROM pg_attrdef WHERE oid >= 16384
 UNION ALL SELECT concat_ws(':', 't', oid, tgenabled) FROM pg_trigger WHERE oid >= 16384
 UNION ALL SELECT concat_ws(':', 'r', oid) FROM pg_rewrite WHERE oid >= 16384
 UNION ALL SELECT concat_ws(':', 'n', oid, nspname) FROM pg_namespace
   WHERE oid >= 16384 AND nspname NOT LIKE 'pg_temp_%%' AND nspname NOT LIKE 'pg_toast_temp_%%'
 UNION ALL SELECT concat_ws(':', 'y', oid, typname) FROM pg_type WHERE oid >= 16384
 UNION ALL SELECT concat_ws(':', 'e', oid, extversion) FROM pg_extension
) s(x)"""

# One round trip: what must go before the reset, and whether the schema is still the template's.
_INSPECT = f"""SELECT
 (SELECT coalesce(array_agg(gid), '{{}}') FROM pg_prepared_xacts WHERE database = current_database()),
 EXISTS (SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
          WHERE c.relpersistence = 't' AND n.oid <> pg_my_temp_schema()),
 (SELECT coalesce(array_agg(pid), '{{}}') FROM pg_stat_activity
   WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend'
     AND (xact_start IS NOT NULL OR state NOT IN ('idle')
          OR pid IN (SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND pid IS NOT NULL))),
 (SELECT coalesce(array_agg(pid), '{{}}') FROM pg_stat_activity
   WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend'),
 ({_DIGEST})"""


@dataclass
class Plan:
    """What a pristine clone holds, and how to get a used database back to it."""

    tables: list[str] = field(default_factory=list)  # quoted schema.table, leaves only
    sequences: list[tuple[str, int, bool]] = field(default_factory=list)  # (quoted name, last_value, is_called)
    seeds: list[tuple[str, bytes]] = field(default_factory=list)  # (quoted table, COPY binary data)
    digest: str = ""
    unsupported: str | None = None  # why this database must be re-cloned instead


def _q(schema: str, name: str) -> str:
    return '"' + schema.replace('"', '""') + '"."' + name.replace('"', '""') + '"'


def read_plan(conn: Any) -> Plan:
    """Read the reset plan from ``conn``, a connection to a pristine clone of the template."""
    plan = Plan()
    rows = conn.execute(
        f"SELECT n.nspname, c.relname, c.relkind, c.relhasrules FROM pg_class c "
        f"JOIN pg_namespace n ON n.oid = c.relnamespace "
        f"WHERE c.relkind IN ('r', 'S', 'm', 'f') AND c.relpersistence <> 't' AND {_USER} "
        f"ORDER BY n.nspname, c.relname").fetchall()
    seed_bytes = 0
    for schema, name, kind, has_rules in rows:
        qn = _q(schema, name)
        if kind == "m":
            plan.unsupported = f"materialized view {qn} (its contents are not undone by emptying tables)"
        elif kind == "f":
            plan.unsupported = f"foreign table {qn} (its rows live elsewhere)"
        elif kind == "S":
            last, called = conn.execute(f"SELECT last_value, is_called FROM {qn}").fetchone()
            plan.sequences.append((qn, int(last), bool(called)))
        else:
            if has_rules:
                plan.unsupported = f"table {qn} has rules (a DELETE could be rewritten)"
            plan.tables.append(qn)
            if conn.execute(f"SELECT EXISTS (SELECT 1 FROM {qn})").fetchone()[0]:
                with conn.cursor().copy(f"COPY {qn} TO STDOUT (FORMAT binary)") as copy:
                    data = b"".join(bytes(chunk) for chunk in copy)
                seed_bytes += len(data)
                plan.seeds.append((qn, data))
    if seed_bytes > SEED_LIMIT:
        plan.unsupported = f"the schema's seed rows ({seed_bytes} bytes) are over {SEED_LIMIT} bytes"
        plan.seeds = []
    plan.digest = conn.execute(_DIGEST).fetchone()[0]
    if plan.unsupported is None:
        try:
            with conn.transaction():
                conn.execute("SET LOCAL session_replication_role = replica")
        except Exception as exc:  # noqa: BLE001 - the reason is kept, the reset re-clones
            plan.unsupported = f"this role may not set session_replication_role ({type(exc).__name__})"
    return plan


def apply(conn: Any, plan: Plan, major: int) -> str | None:
    """Bring the database of ``conn`` back to ``plan``; None when done, else why it must be re-cloned."""
    if plan.unsupported is not None:
        return plan.unsupported
    gids, temp, holders, others, digest = conn.execute(_INSPECT).fetchone()
    for gid in gids:
        conn.execute("ROLLBACK PREPARED %s", (gid,))
    victims = others if temp else holders
    if victims:
        wait = ", 5000" if major >= 14 else ""  # PG 14+: return once the backend is gone
        conn.execute(f"SELECT pg_terminate_backend(pid{wait}) FROM unnest(%s::int[]) AS pid", (victims,))
        if major < 14:
            _wait_gone(conn, victims)
        digest = conn.execute(_DIGEST).fetchone()[0]  # their temp objects (and types) are gone now
    if digest != plan.digest:
        return "the trial changed the schema (DDL), which emptying tables cannot undo"
    with conn.transaction():
        conn.execute("SET LOCAL session_replication_role = replica")
        conn.execute("SET LOCAL synchronous_commit = off")  # a reset lost in a crash is redone anyway
        if plan.tables:
            conn.execute("; ".join(f"DELETE FROM {t}" for t in plan.tables))
        if plan.sequences:
            conn.execute("SELECT " + ", ".join(
                f"setval('{s.replace(chr(39), chr(39) * 2)}', {last}, {'true' if called else 'false'})"
                for s, last, called in plan.sequences))
        for table, data in plan.seeds:
            with conn.cursor().copy(f"COPY {table} FROM STDIN (FORMAT binary)") as copy:
                copy.write(data)
    return None


def _wait_gone(conn: Any, pids: list[int]) -> None:
    import time

    for _ in range(2500):
        if not conn.execute("SELECT EXISTS (SELECT 1 FROM pg_stat_activity WHERE pid = ANY(%s))",
                            (pids,)).fetchone()[0]:
            return
        time.sleep(0.002)


class FastReset:
    """Per-database state of the fast path: its plan and its own connection."""

    def __init__(self, url: str, major: int) -> None:
        self.url = url
        self.major = major
        self.plan: Plan | None = None
        self.conn: Any = None
        self.fast = 0
        self.recloned = 0
        self.last_reason: str | None = None

    def _connect(self) -> Any:
        import psycopg

        if self.conn is None or self.conn.closed or self.conn.broken:
            self.conn = psycopg.connect(self.url, autocommit=True, connect_timeout=10)
        return self.conn

    def close(self) -> None:
        if self.conn is not None:
            with contextlib.suppress(Exception):
                self.conn.close()
        self.conn = None

    def try_reset(self) -> bool:
        """True when the database is back to its plan; False: re-clone it, then call ``learn``."""
        if self.plan is None:
            return False
        try:
            reason = apply(self._connect(), self.plan, self.major)
        except Exception as exc:  # noqa: BLE001 - any failure falls back to the exact slow path
            reason = f"{type(exc).__name__}: {exc}"
        self.last_reason = reason
        if reason is None:
            self.fast += 1
            return True
        self.close()
        return False

    def learn(self) -> None:
        """Read the plan from the database, which was just cloned from its template."""
        self.recloned += 1
        self.close()
        try:
            self.plan = read_plan(self._connect())
        except Exception as exc:  # noqa: BLE001 - no plan: every reset re-clones, as before
            self.plan = Plan(unsupported=f"could not read the reset plan ({type(exc).__name__}: {exc})")


_STATE: weakref.WeakKeyDictionary[Any, FastReset] = weakref.WeakKeyDictionary()


def state_of(db: Any) -> FastReset:
    """The fast-reset state of ``db`` (a PostgresDB), made on first use."""
    st = _STATE.get(db)
    if st is None or st.url != db.url:
        st = _STATE[db] = FastReset(db.url, db.server.major)
    return st


def forget(db: Any) -> None:
    st = _STATE.pop(db, None)
    if st is not None:
        st.close()
