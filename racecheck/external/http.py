"""The ``http`` trigger: N simultaneous requests to a service written in any language.

Each worker opens its connection in ``racecheck_prepare`` (before the barrier), so after
the barrier only the request bytes leave: the N requests reach the server together. The
request carries ``X-Racecheck-Worker`` so a service that propagates it to its own calls
lets the effect sink attribute effects to workers.
"""

from __future__ import annotations

import http.client
import json as jsonlib
import os
import re
import threading
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from .. import _runtime
from ..errors import ConfigError
from .sink import WORKER_HEADER

HTTP = "http"  # event kind of one request/response seen by a worker
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD")


class HttpStatusError(Exception):
    """The service answered a status the trigger does not accept."""


@dataclass(frozen=True)
class HttpResponse:
    status: int
    body: str

    def __repr__(self) -> str:
        text = self.body if len(self.body) <= 120 else self.body[:119] + "…"
        return f"HTTP {self.status} {text}"


def expand(text: str, worker: int | None) -> str:
    """Replace ``{worker}`` in ``text`` (other braces, as in JSON, are left alone)."""
    return text.replace("{worker}", "" if worker is None else str(worker))


_ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


def expand_env(text: str, what: str) -> str:
    """Replace ``${NAME}`` with the environment variable NAME (e.g. a service URL the run started)."""

    def sub(m: re.Match[str]) -> str:
        value = os.environ.get(m.group(1))
        if value is None:
            raise ConfigError(f"{what} uses ${{{m.group(1)}}} but the environment variable {m.group(1)} is not set; "
                              "set it, or start the service that provides it")
        return value

    return _ENV_REF.sub(sub, text)


def _endpoint(url: str) -> tuple[str, str, int, str]:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"http trigger url {url!r} must be an absolute http:// or https:// URL")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return parts.scheme, parts.hostname, port, (parts.path or "/") + (f"?{parts.query}" if parts.query else "")


class HttpTrigger:
    """A callable target sending one HTTP request per worker; pass it to ``racecheck.run``.

    ``ok`` lists accepted statuses (default: anything below 500); another status raises
    :class:`HttpStatusError`, which the runner records as the worker's error.
    """

    def __init__(self, url: str, method: str = "POST", body: str | None = None, json: Any = None,
                 headers: dict[str, str] | None = None, timeout: float = 10.0,
                 ok: tuple[int, ...] | list[int] | None = None) -> None:
        method = method.upper()
        if method not in METHODS:
            raise ConfigError(f"http trigger method {method!r} is not one of {', '.join(METHODS)}")
        if body is not None and json is not None:
            raise ConfigError("http trigger takes 'body' or 'json', not both")
        if timeout <= 0:
            raise ConfigError(f"http trigger timeout must be > 0 seconds, got {timeout!r}")
        if "${" not in url:
            _endpoint(url)  # refuse a bad URL now; one naming ${VARS} is checked when the run has them
        self.url = url
        self.method = method
        self.body = jsonlib.dumps(json) if json is not None else body
        self.headers = dict(headers or {})
        if json is not None:
            self.headers.setdefault("Content-Type", "application/json")
        self.timeout = timeout
        self.ok = tuple(int(s) for s in ok) if ok is not None else None
        self.__qualname__ = f"http {self.method} {url}"
        self._local = threading.local()

    def __repr__(self) -> str:
        return f"HttpTrigger({self.method} {self.url})"

    def _connect(self) -> tuple[http.client.HTTPConnection, str]:
        scheme, host, port, target = _endpoint(expand_env(self.url, "http trigger url"))
        cls = http.client.HTTPSConnection if scheme == "https" else http.client.HTTPConnection
        conn = cls(host, port, timeout=self.timeout)
        conn.connect()
        return conn, target

    def racecheck_prepare(self, worker: int) -> None:
        """Open this worker's connection before the barrier, so the requests leave together."""
        try:
            conn, target = self._connect()
        except (OSError, ConfigError) as exc:  # raised again after the barrier, where the runner records it
            self._local.error = exc
            return
        self._local.conn = (conn, target)
        rt = _runtime.active()
        if rt is not None:
            rt.register_resource(conn.close)  # a crashed worker's request is cut off

    def __call__(self) -> HttpResponse:
        worker = _runtime.current_worker()
        error, self._local.error = getattr(self._local, "error", None), None
        if error is not None:
            raise error
        conn, target = getattr(self._local, "conn", None) or self._connect()
        self._local.conn = None
        target = expand(target, worker)
        headers = {k: expand(expand_env(v, "http trigger header"), worker) for k, v in self.headers.items()}
        if worker is not None:
            headers[WORKER_HEADER] = str(worker)
        body = expand(expand_env(self.body, "http trigger body"), worker).encode() if self.body is not None else None
        rt = _runtime.active()
        t0 = time.monotonic()
        try:
            conn.request(self.method, target, body=body, headers=headers)
            resp = conn.getresponse()
            text = resp.read().decode("utf-8", "replace")
        except OSError as exc:
            if rt is not None:
                rt.record(HTTP, f"{self.method} {target}", error=f"{type(exc).__name__}: {exc}",
                          ms=round((time.monotonic() - t0) * 1000, 1))
            raise
        finally:
            conn.close()
        if rt is not None:
            rt.record(HTTP, f"{self.method} {target}", status=resp.status, body=text[:300],
                      ms=round((time.monotonic() - t0) * 1000, 1))
        accepted = resp.status in self.ok if self.ok is not None else resp.status < 500
        if not accepted:
            raise HttpStatusError(f"{self.method} {target} answered {resp.status}: {text[:200]}")
        return HttpResponse(resp.status, text)


def http_trigger(url: str, **options: Any) -> HttpTrigger:
    """Build an :class:`HttpTrigger` (``method``, ``body`` or ``json``, ``headers``, ``timeout``, ``ok``)."""
    return HttpTrigger(url, **options)
