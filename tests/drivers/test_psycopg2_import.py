"""psycopg2 connections opened before the first run are instrumented; ``uninstall()`` restores connect.

Each case runs in a fresh interpreter, so "before the first run" and the import order are real.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

RUN = """
conn = connect(URL)
conn.autocommit = True

def target():
    cur = conn.cursor()
    cur.execute("SELECT 1")

res = racecheck.run(target, n=1, trials=1)
res.assert_ok()
print("RESULT " + json.dumps([e.name for e in res.trials[0].history.filter("sql") if e.worker is not None]))
"""

IMPORTS = {
    "racecheck first": "import racecheck\nimport psycopg2\nconnect = psycopg2.connect\n",
    "psycopg2 first": "import psycopg2\nimport racecheck\nconnect = psycopg2.connect\n",
    "pool filled at import": ("import racecheck\nimport psycopg2.pool\n"
                              "pool = psycopg2.pool.SimpleConnectionPool(1, 1, URL)\n"
                              "connect = lambda url: pool.getconn()\n"),
    # bound before racecheck was imported: the unpatched function, so nothing is seen
    "from psycopg2 import connect, before racecheck": "from psycopg2 import connect\nimport racecheck\n",
}


def _run(script: str, url: str) -> list[str]:
    code = "import json\nURL = " + repr(url) + "\n" + script
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([ROOT, os.environ.get("PYTHONPATH", "")]))
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    line = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")]
    assert proc.returncode == 0 and line, proc.stderr[-3000:]
    return json.loads(line[-1][len("RESULT "):])


@pytest.mark.parametrize("order", list(IMPORTS))
def test_a_connection_opened_before_the_first_run_records(race_postgres, order):
    seen = _run(IMPORTS[order] + RUN, race_postgres.url)
    want = [] if order.startswith("from psycopg2 import connect") else ["sql:SELECT 1"]
    assert seen == want


def test_uninstall_restores_connect_and_a_run_installs_it_again(race_postgres):
    script = textwrap.dedent("""
        import racecheck
        import psycopg2
        import psycopg2.extensions
        from racecheck.drivers import psycopg2_driver
        patched = psycopg2.connect
        psycopg2_driver.uninstall()
        assert psycopg2.connect is patched.__wrapped__, "connect was not restored"
        plain = psycopg2.connect(URL)
        assert type(plain) is psycopg2.extensions.connection, type(plain)
        plain.close()
        racecheck.run(lambda: None, n=1, trials=1).assert_ok()
        assert getattr(psycopg2.connect, "_racecheck", False), "the run did not install it again"
        connect = psycopg2.connect
    """) + RUN
    assert _run(script, race_postgres.url) == ["sql:SELECT 1"]
