"""RedisServer / RedisDB: db-index isolation, per-trial reset, retries off, kill_connections, stop/start."""

from __future__ import annotations

import threading
import time

import pytest
import redis

from racecheck.backends import RedisDB, RedisServer


def test_reset_flushes_only_its_own_db(race_redis_server: RedisServer):
    """reset() of one RedisDB leaves another test's db on the same server untouched."""
    a, b = race_redis_server.database(), race_redis_server.database()
    try:
        assert a.db != b.db
        ca, cb = a.client(), b.client()
        ca.set("k", "a")
        cb.set("k", "b")
        a.reset()
        assert ca.get("k") is None and cb.get("k") == "b"
    finally:
        a.close()
        b.close()


def test_race_redis_fixture_starts_empty(race_redis: RedisDB):
    """The function-scoped fixture gives an empty db and a URL naming its index."""
    c = race_redis.client()
    assert c.dbsize() == 0
    assert race_redis.url.endswith(f"/{race_redis.db}")


def _blpop_then_kill(rdb: RedisDB, client) -> tuple[object, float]:
    """Block a client in BLPOP, CLIENT KILL it from outside, return (result or exception, seconds)."""
    out: list[object] = []

    def worker():
        t0 = time.monotonic()
        try:
            out.append(client.blpop(["never"], timeout=1))
        except Exception as e:  # noqa: BLE001
            out.append(e)
        out.append(time.monotonic() - t0)

    t = threading.Thread(target=worker)
    t.start()
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        blocked = [c for c in rdb.server.admin().client_list() if c.get("cmd") == "blpop"]
        if blocked:
            break
        time.sleep(0.01)
    assert rdb.kill_connections() >= 1
    t.join(10)
    return out[0], float(out[1])  # type: ignore[arg-type]


def test_client_retries_disabled_so_killed_connection_surfaces(race_redis: RedisDB):
    """A racecheck client surfaces a killed connection as ConnectionError instead of silently retrying."""
    if race_redis.emulated:
        pytest.fail("this test needs a real Redis (CLIENT LIST cmd field)")
    result, _ = _blpop_then_kill(race_redis, race_redis.client())
    assert isinstance(result, redis.ConnectionError), result
    # the default redis-py behaviour, for contrast: the error is hidden by a retry
    result2, secs = _blpop_then_kill(race_redis, race_redis.client(retries=True))
    assert result2 is None and secs >= 0.9


def test_kill_connections_only_hits_that_db(race_redis_server: RedisServer):
    """kill_connections() of one RedisDB does not cut clients of another db."""
    a, b = race_redis_server.database(), race_redis_server.database()
    try:
        ca, cb = a.client(), b.client()
        ca.ping()
        cb.ping()
        assert a.kill_connections() >= 1
        ids = {str(c["id"]) for c in race_redis_server.admin().client_list()}
        assert str(cb.client_id()) in ids
    finally:
        a.close()
        b.close()


def test_owned_redis_stop_start_same_url_and_empty():
    """stop()/start() of an owned Redis keeps the URL; without persistence the keys are gone."""
    from racecheck.backends import provide_redis

    srv = provide_redis(providers=["local"])
    try:
        rdb = srv.database()
        c = rdb.client()
        c.set("k", "v")
        srv.stop()
        with pytest.raises(redis.ConnectionError):
            c.get("k")
        srv.start()
        assert rdb.client().get("k") is None
    finally:
        srv.close()
    assert not srv.running
