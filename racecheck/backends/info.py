"""Which provider and server version a run used, for every output (terminal, JSON, JUnit, HTML).

``IN_USE`` holds the servers provided in this process (kind -> info), updated by the provider
chain; ``handles_info`` reads the servers behind the database handles a scenario ran with.
"""

from __future__ import annotations

import threading
from typing import Any

IN_USE: dict[str, dict[str, Any]] = {}
_lock = threading.Lock()


def server_info(server: Any) -> dict[str, Any]:
    """``{"provider", "version", "emulated"}`` of a provided server."""
    return {"provider": str(getattr(server, "provider", "?")), "version": str(getattr(server, "version", "?")),
            "emulated": bool(getattr(server, "emulated", False))}


def note_provided(kind: str, server: Any) -> None:
    """Record that ``server`` now provides ``kind`` in this process."""
    with _lock:
        IN_USE[kind] = server_info(server)


def in_use() -> dict[str, dict[str, Any]]:
    """The servers provided in this process so far, by kind."""
    with _lock:
        return {k: dict(v) for k, v in IN_USE.items()}


def handles_info(handles: dict[str, Any] | None) -> dict[str, dict[str, Any]]:
    """Provider and version of the server behind each database handle (``PostgresDB``/``RedisDB``)."""
    out = {}
    for kind, handle in (handles or {}).items():
        server = getattr(handle, "server", None)
        if server is not None:
            out[kind] = server_info(server)
    return out


def backends_text(infos: dict[str, dict[str, Any]] | None) -> str:
    """``postgres: PostgreSQL 15.4 (local), redis: Redis 7.0.15 (local, EMULATED)``; "" when none."""
    parts = []
    for kind in sorted(infos or {}):
        i = (infos or {})[kind]
        tags = ", ".join([i.get("provider", "?")] + (["EMULATED"] if i.get("emulated") else []))
        parts.append(f"{kind}: {i.get('version', '?')} ({tags})")
    return ", ".join(parts)


def merge_infos(many: list[dict[str, dict[str, Any]] | None]) -> dict[str, dict[str, Any]]:
    """The union of several runs' backends (the first seen per kind and version)."""
    out: dict[str, dict[str, Any]] = {}
    for infos in many:
        for kind, i in (infos or {}).items():
            out.setdefault(kind, i)
    return out
