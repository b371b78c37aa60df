"""`racecheck run` on a terminal: rich colour and table; NO_COLOR: no colour; not a terminal: plain
text without any escape code; always the total time."""

from __future__ import annotations

import os
import pty
import re
import select
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = str(ROOT / "scenarios" / "examples")
COLOUR = re.compile(r"\x1b\[[0-9;]*(3[0-7]|9[0-7]|38;[0-9;]+)m")


def _on_a_terminal(*args: str, env: dict[str, str]) -> str:
    """Run the CLI with stdout and stderr on a pseudo-terminal; return everything it wrote."""
    leader, follower = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "racecheck.cli", *args], stdout=follower, stderr=follower,
                            stdin=subprocess.DEVNULL, env=env, close_fds=True)
    os.close(follower)
    chunks = []
    while True:
        ready, _, _ = select.select([leader], [], [], 120)
        if not ready:
            proc.kill()
            break
        try:
            data = os.read(leader, 65536)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    proc.wait(timeout=60)
    os.close(leader)
    return b"".join(chunks).decode("utf-8", "replace")


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR", "TERM")}
    return {**env, "PYTHONPATH": str(ROOT), "TERM": "xterm-256color", "COLUMNS": "160", **extra}


def test_terminal_gets_colour_and_a_rich_table() -> None:
    out = _on_a_terminal("run", EXAMPLES, env=_env())
    assert COLOUR.search(out), out
    assert "claim-fixed-passes" in out and "total time" in out
    assert "─" in out or "━" in out  # rich's table rule / progress bar, not the plain dashes


def test_no_color_on_a_terminal_has_no_colour_codes() -> None:
    out = _on_a_terminal("run", EXAMPLES, env=_env(NO_COLOR="1"))
    assert "claim-fixed-passes" in out and "total time" in out
    assert not COLOUR.search(out), repr(out[:2000])


def test_not_a_terminal_is_plain_text() -> None:
    proc = subprocess.run([sys.executable, "-m", "racecheck.cli", "run", EXAMPLES], capture_output=True,
                          text=True, env=_env(), timeout=300)
    assert proc.returncode == 0
    assert "\x1b" not in proc.stdout and "\x1b" not in proc.stderr
    assert re.search(r"^total time \d+\.\ds$", proc.stdout, flags=re.M)
    assert "-----  " in proc.stdout  # the plain table
