"""Run server processes as an unprivileged user when we are root, and tie them to our life.

``pg_ctl``/``postgres`` refuse to run as root. When euid is 0 racecheck runs
them as the system user ``racecheck`` (created with ``useradd --system`` if
absent; ``nobody`` if that fails). Children get ``PR_SET_PDEATHSIG(SIGKILL)``
(set *after* the uid change, which would clear it) so they die with the
thread that started them.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import pwd
import shutil
import signal
import subprocess
import threading
from collections.abc import Callable
from dataclasses import dataclass

_PR_SET_PDEATHSIG = 1
_USER_NAME = os.environ.get("RACECHECK_SERVER_USER", "racecheck")


@dataclass(frozen=True)
class RunAs:
    name: str
    uid: int
    gid: int


_cached: RunAs | None = None
_lock = threading.Lock()


def server_user() -> RunAs | None:
    """The user to run servers as: None when not root (run as ourselves)."""
    global _cached
    if os.geteuid() != 0:
        return None
    with _lock:
        if _cached is not None:
            return _cached
        for attempt in range(2):
            try:
                pw = pwd.getpwnam(_USER_NAME)
                _cached = RunAs(pw.pw_name, pw.pw_uid, pw.pw_gid)
                return _cached
            except KeyError:
                pass
            if attempt == 0 and shutil.which("useradd"):
                # concurrent xdist workers may race here; the loser re-reads
                subprocess.run(
                    ["useradd", "--system", "--no-create-home", "--home-dir", "/nonexistent",
                     "--shell", "/usr/sbin/nologin", _USER_NAME],
                    capture_output=True, check=False,
                )
        pw = pwd.getpwnam("nobody")
        _cached = RunAs(pw.pw_name, pw.pw_uid, pw.pw_gid)
        return _cached


def chown_for_server(path: str | os.PathLike[str]) -> None:
    user = server_user()
    if user is not None:
        os.chown(path, user.uid, user.gid)


def _set_pdeathsig() -> None:
    with contextlib.suppress(Exception):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


def preexec(tie_to_parent: bool = True) -> Callable[[], None]:
    """A ``preexec_fn``: drop to the server user (if root), then set the parent-death signal.

    PDEATHSIG fires when the *thread* that forked dies, so it is only set when
    called from the main thread (whose death is the process's death).
    """
    user = server_user()
    tie = tie_to_parent and threading.current_thread() is threading.main_thread()

    def fn() -> None:
        if user is not None:
            os.setgroups([])
            os.setgid(user.gid)
            os.setuid(user.uid)
        if tie:
            _set_pdeathsig()

    return fn


def server_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    env["LC_ALL"] = "C"
    env["LANG"] = "C"
    user = server_user()
    if user is not None:
        env["HOME"] = "/"
        env["USER"] = env["LOGNAME"] = user.name
    if extra:
        env.update(extra)
    return env
