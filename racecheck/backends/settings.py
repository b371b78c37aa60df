"""Up-front checks before any server is started: the driver racecheck needs is importable, and every
RACECHECK_* setting that names a file or folder points at something usable.

A setting that points at nothing is an error, never silently skipped: a user who set
``RACECHECK_PG_BINDIR`` means that server, not whichever one the chain would find next.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable
from pathlib import Path

from .errors import NoBackendError

# the Python module racecheck itself needs to control a server of each kind, and the extra bringing it
DRIVERS = {"postgres": ("psycopg", "postgres"), "redis": ("redis", "redis")}


class BadSettingError(NoBackendError):
    """A RACECHECK_* setting or a missing driver makes every provider of a kind unusable."""


def _pg_bindir(value: str) -> str | None:
    d = Path(value)
    missing = [exe for exe in ("postgres", "initdb") if not os.access(d / exe, os.X_OK)]
    if not d.is_dir():
        return "is not a directory"
    return f"has no executable {' or '.join(missing)}" if missing else None


def _executable(value: str) -> str | None:
    if not os.path.exists(value):
        return "does not exist"
    return None if os.access(value, os.X_OK) and os.path.isfile(value) else "is not an executable file"


# (setting, kind it applies to, check returning what is wrong or None, what to set it to)
PATH_SETTINGS: list[tuple[str, str, Callable[[str], str | None], str]] = [
    ("RACECHECK_PG_BINDIR", "postgres", _pg_bindir,
     "a PostgreSQL bin directory holding postgres and initdb (e.g. /usr/lib/postgresql/15/bin)"),
    ("RACECHECK_REDIS_SERVER", "redis", _executable, "the path of a redis-server or valkey-server binary"),
]


def setting_errors(kind: str | None = None) -> list[str]:
    """One sentence per RACECHECK_* path setting (for ``kind``, or all) that points at nothing usable."""
    out = []
    for name, k, check, expected in PATH_SETTINGS:
        value = os.environ.get(name)
        if value is None or (kind is not None and k != kind):
            continue
        wrong = check(value) if value.strip() else "is empty"
        if wrong:
            out.append(f"{name}={value} {wrong}: set it to {expected}, or unset it")
    return out


def driver_error(kind: str) -> str | None:
    """The install line when the driver racecheck needs for ``kind`` is not importable, else None."""
    module, extra = DRIVERS[kind]
    try:
        importlib.import_module(module)
        return None
    except ImportError:
        pass
    return (f"racecheck needs the Python package {module!r} to run {kind} and it is not installed: "
            f"pip install 'racecheck[{extra}]'")


def check_before_start(kind: str) -> None:
    """Raise BadSettingError (one sentence per problem) before a provider of ``kind`` starts anything."""
    problems = [p for p in [driver_error(kind), *setting_errors(kind)] if p]
    if problems:
        raise BadSettingError("; ".join(problems) + ".")
