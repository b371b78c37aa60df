"""The fast Postgres reset (pg_reset): whatever a trial leaves behind is gone, or the reset re-clones."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest

from racecheck.backends import PostgresDB, PostgresServer, pg_reset

SCHEMA = """
create table runs (id serial primary key, sha text unique, worker int);
create table leases (name text primary key, holder int);
create sequence loose_seq start 100;
"""

SEEDED = """
create table plans (id serial primary key, name text not null);
insert into plans (name) values ('free'), ('pro'), ('team');
create table orders (id bigint generated always as identity primary key,
                     plan int references plans (id), note text);
"""


def _fresh(server: PostgresServer, schema: str) -> PostgresDB:
    db = server.database(schema)
    db.reset()  # the first reset re-clones and learns the plan; later ones take the fast path
    assert pg_reset.state_of(db).plan is not None
    return db


@pytest.fixture
def db(race_postgres_server: PostgresServer) -> Iterator[PostgresDB]:
    d = _fresh(race_postgres_server, SCHEMA)
    try:
        yield d
    finally:
        d.close()


def _fast_count(db: PostgresDB) -> int:
    return pg_reset.state_of(db).fast


def test_rows_and_sequences_are_back_to_the_template(db: PostgresDB) -> None:
    db.execute("insert into runs (sha, worker) select 's' || g, g from generate_series(1, 50) g")
    db.execute("insert into leases values ('a', 1)")
    db.execute("select nextval('loose_seq'), nextval('loose_seq')")
    before = _fast_count(db)
    db.reset()
    assert _fast_count(db) == before + 1, pg_reset.state_of(db).last_reason
    assert db.execute("select count(*) from runs") == [(0,)]
    assert db.execute("select count(*) from leases") == [(0,)]
    assert db.execute("insert into runs (sha) values ('x') returning id") == [(1,)]  # serial restarted
    assert db.execute("select nextval('loose_seq')") == [(100,)]  # a sequence no table owns, too


def test_a_held_advisory_lock_is_released(db: PostgresDB) -> None:
    holder = db.connect()
    holder.execute("select pg_advisory_lock(42)")  # session level: outlives every transaction
    probe = db.connect()
    assert probe.execute("select pg_try_advisory_lock(42)").fetchone() == (False,)
    db.reset()
    assert _fast_count(db) >= 1
    assert probe.execute("select pg_try_advisory_lock(42)").fetchone() == (True,)
    with pytest.raises(psycopg.OperationalError):
        holder.execute("select 1")  # its session was terminated
    probe.close()


def test_an_open_transaction_and_its_row_lock_are_gone(race_postgres_server: PostgresServer) -> None:
    db = _fresh(race_postgres_server, SEEDED)
    try:
        holder = db.connect(autocommit=False)
        holder.execute("select * from plans where id = 1 for update")  # row lock, transaction left open
        holder.execute("insert into plans (name) values ('uncommitted')")
        db.reset()
        assert _fast_count(db) == 1, pg_reset.state_of(db).last_reason
        probe = db.connect(autocommit=False)
        probe.execute("set lock_timeout = '1s'")
        assert probe.execute("select name from plans where id = 1 for update nowait").fetchall() == [("free",)]
        probe.rollback()
        probe.close()
        assert db.execute("select count(*) from plans where name = 'uncommitted'") == [(0,)]
        with pytest.raises(psycopg.OperationalError):
            holder.execute("select 1")
    finally:
        db.close()


def test_a_temp_table_is_gone(db: PostgresDB) -> None:
    owner = db.connect()
    owner.execute("create temp table scratch (k int)")
    db.reset()
    assert _fast_count(db) >= 1
    assert db.execute("select count(*) from pg_class where relpersistence = 't'") == [(0,)]
    with pytest.raises(psycopg.OperationalError):
        owner.execute("select 1")


def test_an_idle_session_holding_nothing_survives(db: PostgresDB) -> None:
    """A target's persistent connection is kept when it holds nothing a trial could leave behind."""
    idle = db.connect()
    idle.execute("insert into runs (sha) values ('a')")
    db.reset()
    assert _fast_count(db) >= 1
    assert idle.execute("select count(*) from runs").fetchone() == (0,)
    idle.close()


def test_seed_rows_come_back_exactly(race_postgres_server: PostgresServer) -> None:
    db = _fresh(race_postgres_server, SEEDED)
    try:
        db.execute("update plans set name = 'changed' where id = 2")
        db.execute("delete from plans where id = 3")
        db.execute("insert into plans (name) values ('extra')")
        db.execute("insert into orders (plan, note) values (1, 'a'), (2, 'b')")
        db.reset()
        assert _fast_count(db) == 1, pg_reset.state_of(db).last_reason
        assert db.execute("select id, name from plans order by id") == [(1, "free"), (2, "pro"), (3, "team")]
        assert db.execute("select count(*) from orders") == [(0,)]
        # the seeded serial continues after the seed rows, the identity column restarts
        assert db.execute("insert into plans (name) values ('new') returning id") == [(4,)]
        assert db.execute("insert into orders (plan) values (1) returning id") == [(1,)]
    finally:
        db.close()


DDL = {
    "create table": ("create table made_in_trial (k int)", "select to_regclass('made_in_trial') is null"),
    "add column": ("alter table runs add column extra int",
                   "select count(*) = 0 from information_schema.columns where column_name = 'extra'"),
    "drop table": ("drop table leases", "select to_regclass('leases') is not null"),
    "set default": ("alter table leases alter column holder set default 7",
                    "select column_default is null from information_schema.columns "
                    "where table_name = 'leases' and column_name = 'holder'"),
    "drop index": ("alter table runs drop constraint runs_sha_key", "select to_regclass('runs_sha_key') is not null"),
}


@pytest.mark.parametrize("ddl", sorted(DDL))
def test_ddl_in_a_trial_falls_back_to_a_clone(db: PostgresDB, ddl: str) -> None:
    """A trial that changed the schema cannot be undone by emptying tables: the reset re-clones."""
    st = pg_reset.state_of(db)
    fast, recloned = st.fast, st.recloned
    change, pristine = DDL[ddl]
    db.execute(change)
    db.reset()
    st = pg_reset.state_of(db)
    assert (st.fast, st.recloned) == (fast, recloned + 1)
    assert db.execute(pristine) == [(True,)]
    db.reset()
    assert pg_reset.state_of(db).fast == fast + 1  # and the fast path is back


def test_what_the_plan_cannot_undo_is_recloned(race_postgres_server: PostgresServer) -> None:
    db = _fresh(race_postgres_server, "create table t (k int); create materialized view mv as select k from t")
    try:
        st = pg_reset.state_of(db)
        assert st.plan is not None and st.plan.unsupported and "materialized view" in st.plan.unsupported
        db.execute("insert into t values (1)")
        db.execute("refresh materialized view mv")
        db.reset()
        assert pg_reset.state_of(db).fast == 0
        assert db.execute("select count(*) from mv") == [(0,)]
    finally:
        db.close()


def test_a_prepared_transaction_is_rolled_back(db: PostgresDB) -> None:
    if db.execute("show max_prepared_transactions") == [("0",)]:
        pytest.skip("max_prepared_transactions is 0 on this server: no two-phase commit to leave behind")
    conn = db.connect(autocommit=False)
    conn.execute("insert into leases values ('p', 1)")
    conn.execute("prepare transaction 'racecheck_speed_test'")
    conn.close()
    db.reset()
    assert db.execute("select count(*) from pg_prepared_xacts where database = current_database()") == [(0,)]
    db.execute("insert into leases values ('p', 2)")  # the prepared row lock is gone


AUDITED = """
create table items (id serial primary key, name text);
create table audit (item int, what text);
create function log_delete() returns trigger language plpgsql as $$
begin insert into audit values (old.id, 'deleted'); return old; end $$;
create trigger items_deleted after delete on items for each row execute function log_delete();
"""


def test_the_schemas_triggers_do_not_fire_in_the_reset_but_still_do_for_the_target(
        race_postgres_server: PostgresServer) -> None:
    """The reset empties with triggers off (its own session), the target's sessions keep them on."""
    db = _fresh(race_postgres_server, AUDITED)
    try:
        db.execute("insert into items (name) values ('a'), ('b')")
        db.reset()
        assert _fast_count(db) == 1, pg_reset.state_of(db).last_reason
        assert db.execute("select count(*) from items") == [(0,)]
        assert db.execute("select count(*) from audit") == [(0,)]  # no 'deleted' rows from the reset
        db.execute("insert into items (name) values ('c')")
        db.execute("delete from items")
        assert db.execute("select what from audit") == [("deleted",)]  # the target's session: trigger on
        db.reset()
        assert _fast_count(db) == 2, pg_reset.state_of(db).last_reason
        assert db.execute("select count(*) from audit") == [(0,)]
    finally:
        db.close()


def test_apply_refuses_a_connection_that_would_fire_triggers(db: PostgresDB) -> None:
    """Emptying tables on a session with triggers on would be wrong: apply says so, touching nothing."""
    st = pg_reset.state_of(db)
    assert st.plan is not None
    db.execute("insert into leases values ('kept', 1)")
    with psycopg.connect(db.url, autocommit=True) as plain:
        reason = pg_reset.apply(plain, st.plan, db.server.major)
        assert reason and "session_replication_role" in reason
        assert plain.execute("select count(*) from leases").fetchone() == (1,)
        pg_reset.prepare_session(plain)
        assert pg_reset.apply(plain, st.plan, db.server.major) is None
        assert plain.execute("select count(*) from leases").fetchone() == (0,)
