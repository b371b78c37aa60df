"""Fixture factories (pytest-postgresql style) and servers/databases as context managers."""

from __future__ import annotations

import pytest

from racecheck.backends import provide_postgres, provide_redis

CONFTEST = """\
from racecheck.backends import factories

pg_server = factories.postgres_proc(providers=["local"])
orders = factories.postgres_db("pg_server", schema="create table orders (id int primary key)")
cache_server = factories.redis_proc(providers=["local"], require_real=True)
cache = factories.redis_db("cache_server")
"""

TESTS = """\
def test_orders_is_fresh_and_has_the_schema(orders):
    assert orders.execute("select count(*) from orders") == [(0,)]
    orders.execute("insert into orders values (1)")

def test_orders_again_is_fresh(orders):
    assert orders.execute("select count(*) from orders") == [(0,)]

def test_cache_is_real_and_empty(cache, cache_server):
    c = cache.client()
    assert not cache_server.emulated and c.dbsize() == 0
    c.set("k", "v")

def test_cache_again_is_empty(cache):
    assert cache.client().dbsize() == 0

def test_one_server_per_session(pg_server, orders):
    assert orders.server is pg_server
"""


def test_factories_make_working_fixtures(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(test_factories=TESTS)
    res = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-p", "no:randomly")
    res.assert_outcomes(passed=5)


def test_factory_without_provider_fails_with_the_reason(pytester: pytest.Pytester) -> None:
    pytester.makeconftest("from racecheck.backends import factories\n"
                          "pg = factories.postgres_proc(providers=['url'])\n")
    pytester.makepyfile(test_x="def test_x(pg):\n    pass\n")
    res = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    res.assert_outcomes(errors=1)
    assert "No PostgreSQL server available" in res.stdout.str()


def test_provided_servers_and_databases_are_context_managers() -> None:
    with provide_postgres(providers=["local"]) as pg:
        with pg.database("create table t (id int)") as db:
            assert db.execute("select count(*) from t") == [(0,)]
        assert pg.running
    assert not pg.running
    with provide_redis(providers=["local"]) as rs:
        with rs.database() as rdb:
            assert rdb.client().ping()
    with pytest.raises(ZeroDivisionError), provide_redis(providers=["local"]) as rs2:
        raise ZeroDivisionError
    assert not rs2.running
