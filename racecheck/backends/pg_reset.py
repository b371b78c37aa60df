"""Fast per-trial reset of a racecheck-made Postgres database: empty what the schema made.

Re-cloning the template (``PostgresDB.reset``'s slow path) costs a CREATE DATABASE, 100 ms
or more. Most trials only add rows, advance sequences and take locks; undoing exactly that
takes a millisecond. A ``Plan`` is read once from a pristine clone (right after the slow
path ran): the tables, every sequence's state, the seed rows the schema inserted and a
count of the catalog rows of user objects. Each later reset then, on one connection of its own:

1. rolls back prepared transactions and terminates every other session that holds
   something a trial could leave behind: an open transaction (row locks, uncommitted
   rows), an advisory lock, or a temporary object (temp tables cannot be attributed to a
   session, so any temp object terminates every other session). Idle sessions holding
   nothing survive, so a target's persistent connections stay usable;
2. checks the catalog: a trial that ran DDL (a new table, a dropped column, a
   changed default) cannot be undone by emptying tables, so the caller re-clones;
3. in one transaction, with triggers and foreign-key checks off (``session_replication_role
   = replica``, as pg_restore does): DELETE every table (tiny tables: ten times cheaper
   than TRUNCATE, which creates and syncs new files), put every sequence back where the
   template had it, and COPY the seed rows back.

The reset's connection is set to ``session_replication_role = replica`` once, for the
session, not per transaction: every change of that setting discards the session's cached
plans (PostgreSQL's ``ResetPlanCache``), so a ``SET LOCAL`` made each reset re-plan the
prepared inspection query (a 2 ms plan of a catalog-wide UNION) twice per reset.

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

# The catalog rows of user objects (oid >= 16384, the first non-system oid), and how many of
# them a transaction after the plan's baseline wrote: any DDL inserts or updates such a row
# (a new xmin), a DROP deletes some (the count falls). VACUUM and ANALYZE update pg_class in
# place (no new xmin), and emptying tables or setval() touch no catalog row.
_CATALOG = """SELECT count(*), count(*) FILTER (WHERE age(x) < age(%(base)s::text::xid)) FROM (
 SELECT xmin FROM pg_class WHERE oid >= 16384 AND relpersistence <> 't'
 UNION ALL SELECT a.xmin FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
   WHERE a.attrelid >= 16384 AND c.relpersistence <> 't'
 UNION ALL SELECT xmin FROM pg_sequence
 UNION ALL SELECT xmin FROM pg_proc WHERE oid >= 16384
 UNION ALL SELECT xmin FROM pg_constraint WHERE oid >= 16384
 UNION ALL SELECT xmin FROM pg_attrdef WHERE oid >= 16384
 UNION ALL SELECT xmin FROM pg_trigger WHERE oid >= 16384
 UNION ALL SELECT xmin FROM pg_rewrite WHERE oid >= 16384
 UNION ALL SELECT xmin FROM pg_namespace
   WHERE oid >= 16384 AND nspname NOT LIKE 'pg_temp_%%' AND nspname NOT LIKE 'pg_toast_temp_%%'
 UNION ALL SELECT t.xmin FROM pg_type t LEFT JOIN pg_class c ON c.oid = t.typrelid
   WHERE t.oid >= 16384 AND coalesce(c.relpersistence, 'p') <> 't'
 UNION ALL SELECT xmin FROM pg_extension
 UNION ALL SELECT xmin FROM pg_policy
) s(x)"""

# One round trip: what must go before the reset, and whether the schema is still the template's.
_INSPECT = f"""SELECT current_setting('session_replication_role'),
 (SELECT coalesce(array_agg(gid), '{{}}') FROM pg_prepared_xacts WHERE database = current_database()),
 EXISTS (SELECT 1 FROM pg_class c WHERE c.relpersistence = 't' AND c.relnamespace <> pg_my_temp_schema()),
 (SELECT coalesce(array_agg(array[a.pid, (a.xact_start IS NOT NULL OR a.state <> 'idle'
                                          OR EXISTS (SELECT 1 FROM pg_locks l WHERE l.pid = a.pid
                                                     AND l.locktype = 'advisory'))::int]), '{{}}')
    FROM pg_stat_activity a
   WHERE a.datname = current_database() AND a.pid <> pg_backend_pid() AND a.backend_type = 'client backend'),
 c.* FROM ({_CATALOG}) c"""


@dataclass
class Plan:
    """What a pristine clone holds, and how to get a used database back to it."""

    tables: list[str] = field(default_factory=list)  # quoted schema.table, leaves only
    sequences: list[tuple[str, int, bool]] = field(default_factory=list)  # (quoted name, last_value, is_called)
    seeds: list[tuple[str, bytes]] = field(default_factory=list)  # (quoted table, COPY binary data)
    baseline: int = 0  # the transaction id after which no catalog row may have been written
    catalog_rows: int = 0
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
    plan.baseline = int(conn.execute("SELECT txid_current() % 4294967296").fetchone()[0])
    plan.catalog_rows = int(conn.execute(_CATALOG, {"base": plan.baseline}).fetchone()[0])
    if plan.unsupported is None:
        try:
            with conn.transaction():
                conn.execute("SET LOCAL session_replication_role = replica")
        except Exception as exc:  # noqa: BLE001 - the reason is kept, the reset re-clones
            plan.unsupported = f"this role may not set session_replication_role ({type(exc).__name__})"
    return plan


REPLICA = "SET session_replication_role = replica"  # triggers and foreign-key checks off


def prepare_session(conn: Any) -> None:
    """Make ``conn`` (the reset's own connection) run with triggers and foreign-key checks off."""
    conn.execute(REPLICA)


def apply(conn: Any, plan: Plan, major: int) -> str | None:
    """Bring the database of ``conn`` back to ``plan``; None when done, else why it must be re-cloned.

    ``conn`` must have been through :func:`prepare_session` (it is checked: a mistake here
    would fire the schema's triggers while emptying it)."""
    if plan.unsupported is not None:
        return plan.unsupported
    role, gids, temp, sessions, rows, new = conn.execute(_INSPECT, {"base": plan.baseline}, prepare=True).fetchone()
    if role != "replica":
        return "the reset's connection does not run with session_replication_role = replica"
    for gid in gids:
        conn.execute(f"ROLLBACK PREPARED '{gid.replace(chr(39), chr(39) * 2)}'")
    victims = [pid for pid, holds in sessions if holds or temp]
    if victims:
        wait = ", 5000" if major >= 14 else ""  # PG 14+: return once the backend is gone
        conn.execute(f"SELECT pg_terminate_backend(pid{wait}) FROM unnest(%s::int[]) AS pid", (victims,))
        if major < 14:
            _wait_gone(conn, victims)
        # their temp objects (and the types of those) are gone now
        rows, new = conn.execute(_CATALOG, {"base": plan.baseline}, prepare=True).fetchone()
    if new or rows != plan.catalog_rows:
        return "the trial changed the schema (DDL), which emptying tables cannot undo"
    # One round trip (the simple query protocol runs the statements as one transaction block).
    # session_replication_role = replica is the session's (see ``prepare_session``): a SET LOCAL
    # here would discard the session's cached plans twice per reset.
    sql = ["BEGIN", "SET LOCAL synchronous_commit = off"]  # a reset lost in a crash is redone anyway
    sql += [f"DELETE FROM {t}" for t in plan.tables]
    if plan.sequences:
        sql.append("SELECT " + ", ".join(
            f"setval('{s.replace(chr(39), chr(39) * 2)}', {last}, {'true' if called else 'false'})"
            for s, last, called in plan.sequences))
    if not plan.seeds:
        conn.execute("; ".join(sql + ["COMMIT"]))
        return None
    with conn.transaction():
        conn.execute("; ".join(sql[1:]))
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
        self._replica = False  # self.conn runs with session_replication_role = replica
        self.fast = 0
        self.recloned = 0
        self.last_reason: str | None = None

    def _connect(self) -> Any:
        import psycopg

        if self.conn is None or self.conn.closed or self.conn.broken:
            self.conn = psycopg.connect(self.url, autocommit=True, connect_timeout=10)
            self._replica = False
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
            conn = self._connect()
            if not self._replica and self.plan.unsupported is None:
                prepare_session(conn)
                self._replica = True
            reason = apply(conn, self.plan, self.major)
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
