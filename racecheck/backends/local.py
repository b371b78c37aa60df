"""Find local server binaries: Postgres bin dirs and redis-server / valkey-server."""

from __future__ import annotations

import glob
import os
import re
import shutil
import subprocess
from pathlib import Path


def _is_pg_bindir(d: Path) -> bool:
    return all(os.access(d / exe, os.X_OK) for exe in ("postgres", "initdb"))


def _version_key(p: str) -> tuple[int, ...]:
    m = re.search(r"/(\d+(?:\.\d+)*)/bin$", p)
    return tuple(int(x) for x in m.group(1).split(".")) if m else (0,)


def pg_bindir_candidates() -> list[tuple[Path | None, str]]:
    """(bindir or None, how it was looked for) in search order; None = not found there."""
    out: list[tuple[Path | None, str]] = []
    env = os.environ.get("RACECHECK_PG_BINDIR")
    if env:
        out.append((Path(env) if _is_pg_bindir(Path(env)) else None, f"RACECHECK_PG_BINDIR={env}"))
    pg_config = shutil.which("pg_config")
    if pg_config:
        try:
            bindir = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True,
                                    timeout=5, check=False).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            bindir = ""
        ok = bool(bindir) and _is_pg_bindir(Path(bindir))
        out.append((Path(bindir) if ok else None,
                    "pg_config --bindir" if ok else f"pg_config --bindir ({bindir or 'nothing'}: no server there)"))
    else:
        out.append((None, "pg_config --bindir (no pg_config on PATH)"))
    dirs = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=_version_key, reverse=True)
    found = [Path(d) for d in dirs if _is_pg_bindir(Path(d))]
    out.append((found[0] if found else None, "/usr/lib/postgresql/*/bin"))
    pg = shutil.which("postgres")
    path_dir = Path(pg).parent if pg else None
    out.append((path_dir if path_dir and _is_pg_bindir(path_dir) else None, "postgres on PATH"))
    return out


def find_pg_bindir() -> tuple[Path | None, str]:
    """The first local Postgres bin dir with postgres+initdb, and a reason text."""
    tried = []
    for d, how in pg_bindir_candidates():
        if d is not None:
            return d, f"{d} (via {how})"
        tried.append(how)
    return None, "no postgres/initdb found via " + ", ".join(tried)


def find_redis_binary() -> tuple[Path | None, str]:
    env = os.environ.get("RACECHECK_REDIS_SERVER")
    if env:
        if os.access(env, os.X_OK):
            return Path(env), f"{env} (via RACECHECK_REDIS_SERVER)"
        return None, f"RACECHECK_REDIS_SERVER={env} is not executable"
    for name in ("redis-server", "valkey-server"):
        p = shutil.which(name)
        if p:
            return Path(p), f"{p} (on PATH)"
    return None, "neither redis-server nor valkey-server on PATH"
