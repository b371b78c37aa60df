"""Watchdog: ``python -I .../racecheck/backends/watchdog.py PARENT_PID SESSION_DIR PIPE_FD``.

Started by :class:`racecheck.backends.cleanup.Session` in its own session
(process group). It blocks on a pipe whose write end only the parent holds
and also polls its parent pid. When the parent dies (even by SIGKILL) it
reads ``SESSION_DIR/manifest.json`` and kills the servers listed there,
drops the databases racecheck created on foreign servers, and removes the
temp dirs. A ``q`` on the pipe means the parent cleaned up itself: exit. A line
``u["masked url", "real url"]`` tells it the password of a foreign server URL, which
the manifest (0600) holds masked: the password stays in memory.

It runs as a script with ``-I`` and loads ``cleanup.py`` by path, so it
never imports the rest of racecheck (whatever state that is in).
"""

from __future__ import annotations

import json
import os
import select
import signal
import sys
from pathlib import Path
from types import ModuleType


def _cleanup_module() -> ModuleType:
    mod = sys.modules.get("racecheck.backends.cleanup")
    if mod is not None:
        return mod
    import importlib.util

    path = Path(__file__).with_name("cleanup.py")
    spec = importlib.util.spec_from_file_location("_racecheck_cleanup", path)
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _parent_gone(parent: int) -> bool:
    if os.getppid() != parent:
        return True  # we were reparented: the parent died
    return not _cleanup_module().proc_alive(parent)


def watch(parent: int, session_dir: Path, fd: int, poll: float = 0.1) -> int:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C in the terminal is for pytest
    urls: dict[str, str] = {}
    buf = b""
    while True:
        readable, _, _ = select.select([fd], [], [], poll)
        if readable:
            data = os.read(fd, 65536)
            if not data:
                break  # EOF: every copy of the write end is closed
            buf += data
            while buf:
                if buf.startswith(b"q"):
                    return 0
                if not buf.startswith(b"u") or b"\n" not in buf:
                    break
                line, buf = buf.split(b"\n", 1)
                try:
                    masked, real = json.loads(line[1:])
                    urls[str(masked)] = str(real)
                except (ValueError, TypeError):
                    pass
        if _parent_gone(parent):
            break
    cleanup = _cleanup_module()
    try:
        manifest = json.loads((session_dir / "manifest.json").read_text())
    except (OSError, ValueError):
        manifest = {}
    cleanup.cleanup_manifest(manifest, wait=5.0, urls=urls)
    cleanup.rmtree(session_dir)
    return 0


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    return watch(int(args[0]), Path(args[1]), int(args[2]))


if __name__ == "__main__":
    sys.exit(main())
