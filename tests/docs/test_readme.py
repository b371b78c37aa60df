"""The README's 60-second example works as printed: the buggy trigger is caught, its fix passes."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[2] / "README.md"


def _blocks() -> dict[str, str]:
    """The README's python code blocks, keyed by the file name in their first comment line."""
    out = {}
    for block in re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S):
        first = block.splitlines()[0]
        assert first.startswith("# "), f"README python block without a file name comment: {first!r}"
        out[first[2:].strip()] = block
    return out


FIXED_ENGINE = '''
import psycopg

def spawn_reviewer(session_id, sha): ...

def trigger(url, session_id, sha):
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("select pg_advisory_lock(hashtext(%s))", (session_id + sha,))
        try:
            if conn.execute("select 1 from review_run where session_id=%s and target_sha=%s",
                            (session_id, sha)).fetchone():
                return False
            spawn_reviewer(session_id, sha)
            conn.execute("insert into review_run (session_id, target_sha) values (%s, %s)",
                         (session_id, sha))
            return True
        finally:
            conn.execute("select pg_advisory_unlock(hashtext(%s))", (session_id + sha,))
'''


def _project(pytester: pytest.Pytester, engine: str) -> None:
    blocks = _blocks()
    pytester.mkpydir("myapp")
    (pytester.path / "myapp" / "engine.py").write_text(engine)
    pytester.makepyfile(test_engine=blocks["tests/test_engine.py"])
    pytester.syspathinsert()


def test_readme_example_catches_the_duplicate_spawn(pytester: pytest.Pytester) -> None:
    """The README's check-then-insert trigger fails its test with the invariant, the key and a replay line."""
    _project(pytester, _blocks()["myapp/engine.py"])
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    out = result.stdout.str()
    assert "exactly_once violated" in out
    assert "w1,abc" in out
    assert "--racecheck-replay='rc1:8:" in out


def test_readme_example_passes_once_the_trigger_is_serialised(pytester: pytest.Pytester) -> None:
    """The same test passes against the trigger serialised by an advisory lock."""
    _project(pytester, FIXED_ENGINE)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
