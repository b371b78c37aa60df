"""A run instruments a driver whose library is not imported yet at the moment it is imported, not by
importing it up front: a run that never touches redis, valkey or asyncpg does not pay their import
(about a second in a fresh interpreter), and a library first imported inside a trigger still records.

Each case runs in a fresh interpreter, so what is imported when is real.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
LIBS = ("redis", "valkey", "asyncpg", "psycopg", "psycopg2")


def _python(code: str, **env: str) -> dict:  # type: ignore[type-arg]
    out = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True,
                         timeout=120, env={**os.environ, "PYTHONPATH": ROOT, **env}, check=False)
    assert out.returncode == 0, out.stderr[-3000:]
    line = next(ln for ln in out.stdout.splitlines() if ln.startswith("RESULT "))
    return json.loads(line[len("RESULT "):])  # type: ignore[no-any-return]


def test_a_run_that_uses_no_driver_imports_none() -> None:
    got = _python(f"""
        import json, sys
        import racecheck

        def target():
            racecheck.point("p")

        res = racecheck.run(target, n=2, trials=2, strategy="random", seed=1)
        res.assert_ok()
        print("RESULT " + json.dumps({{"loaded": [m for m in {LIBS!r} if m in sys.modules]}}))
    """)
    assert got["loaded"] == [], f"imported although no trigger used them: {got['loaded']}"


def test_a_library_first_imported_inside_a_trigger_records_and_is_undone_after(race_redis_real) -> None:
    key = race_redis_real.key("lazy-install")
    got = _python(f"""
        import json, sys
        import racecheck

        def target():
            import redis  # first import of redis in this process: during the run, in a worker
            redis.Redis.from_url(__import__("os").environ["URL"]).get({key!r})

        assert "redis" not in sys.modules
        res = racecheck.run(target, n=2, trials=1, strategy="random", seed=1)
        res.assert_ok()
        import redis.client
        seen = [e.name for e in res.trials[0].history.filter("redis") if e.worker is not None]
        from racecheck import drivers  # psycopg2's import-time finder stays by design: not the run's
        hooks = [type(f).__name__ for f in sys.meta_path
                 if type(f).__name__ == "_AfterImport" and f is not drivers._psycopg2_finder]
        import valkey  # imported after the run: no run, nothing patched, no hook left behind
        print("RESULT " + json.dumps({{"seen": seen, "hooks": hooks,
            "redis_patched_after": hasattr(redis.client.Redis.execute_command, "__wrapped__"),
            "valkey_patched": hasattr(valkey.client.Valkey.execute_command, "__wrapped__")}}))
    """, URL=race_redis_real.url).copy()
    assert len(got["seen"]) == 2 and all("GET" in s for s in got["seen"]), got
    assert got["hooks"] == [] and not got["redis_patched_after"] and not got["valkey_patched"], got


def test_a_library_imported_before_the_run_is_instrumented_at_once(race_redis_real) -> None:
    key = race_redis_real.key("eager-install")
    got = _python(f"""
        import json, os
        import redis
        import racecheck

        client = redis.Redis.from_url(os.environ["URL"])

        def target():
            client.get({key!r})

        res = racecheck.run(target, n=2, trials=1, strategy="random", seed=1)
        res.assert_ok()
        print("RESULT " + json.dumps({{"seen": [e.name for e in res.trials[0].history.filter("redis")
                                               if e.worker is not None]}}))
    """, URL=race_redis_real.url)
    assert len(got["seen"]) == 2, got


PROCESS_TARGET = '''
import os, sys

LIBS = {libs!r}

def loaded():
    return [m for m in LIBS if m in sys.modules]

def lazy_get(key):
    import redis  # not imported by the runner, nor by this module: the worker imports it
    redis.Redis.from_url(os.environ["URL"]).get(key)
'''


def _process_python(tmp_path, code: str, **env: str) -> dict:  # type: ignore[no-untyped-def, type-arg]
    (tmp_path / "lazy_process_target.py").write_text(PROCESS_TARGET.format(libs=LIBS))
    return _python(code, PYTHONPATH=f"{ROOT}{os.pathsep}{tmp_path}", **env)


def test_a_forked_worker_holds_only_the_driver_libraries_the_runner_or_target_imported(tmp_path) -> None:
    """The warm template imports a driver's library only when the runner has it: a bigger template
    makes every fork and every worker's exit slower."""
    code = """
        import ast, json, sys
        {pre}
        import racecheck

        res = racecheck.run("lazy_process_target:loaded", n=2, trials=1, mode="processes", timeout=60)
        res.assert_ok()
        ends = [ast.literal_eval(e.payload["result"]) for e in res.trials[0].history if e.kind == "end"]
        print("RESULT " + json.dumps({{"start": res.worker_start, "loaded": ends}}))
    """
    bare = _process_python(tmp_path, code.format(pre=""))
    assert bare["start"] == "fork (from a warm template)"
    assert bare["loaded"] == [[], []], bare
    with_redis = _process_python(tmp_path, code.format(pre="import redis"))
    assert with_redis["loaded"] == [["redis"], ["redis"]], with_redis  # from the template, not re-imported


def test_a_library_first_imported_inside_a_process_worker_records(tmp_path, race_redis_real) -> None:
    key = race_redis_real.key("lazy-process")
    got = _process_python(tmp_path, f"""
        import json, sys
        import racecheck

        res = racecheck.run("lazy_process_target:lazy_get", n=2, trials=1, mode="processes", timeout=60,
                            worker_args=lambda i: ({key!r},))
        res.assert_ok()
        assert "redis" not in sys.modules
        print("RESULT " + json.dumps({{"start": res.worker_start,
            "seen": [e.name for e in res.trials[0].history.filter("redis") if e.worker is not None]}}))
    """, URL=race_redis_real.url)
    assert got["start"] == "fork (from a warm template)"
    assert len(got["seen"]) == 2 and all("GET" in s for s in got["seen"]), got
