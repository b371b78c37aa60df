"""The ``http`` trigger: N simultaneous requests to a service written in any language.

Each worker opens its connection in ``racecheck_prepare`` (before the barrier), so after
the barrier only the request bytes leave: the N requests reach the server together. The
request carries ``X-Racecheck-Worker`` so a service that propagates it to its own calls
lets the effect sink attribute effects to workers.
"""

from __future__ import annotations

import http.client
import json as jsonlib
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


class HttpTrigger:
    """A callable target sending one HTTP request per worker; pass it to ``racecheck.run``.

    ``ok`` lists accepted statuses (default: anything below 500); another status raises
    :class:`HttpStatusError`, which the runner records as the worker's error.
    """

    def __init__(self, url: str, method: str = "POST", body: str | None = None, json: Any = None,
                 headers: dict[str, str] | None = None, timeout: float = 10.0,
                 ok: tuple[int, ...] | list[int] | None = None) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ConfigError(f"http trigger url {url!r} must be an absolute http:// or https:// URL")
        method = method.upper()
        if method not in METHODS:
            raise ConfigError(f"http trigger method {method!r} is not one of {', '.join(METHODS)}")
        if body is not None and json is not None:
            raise ConfigError("http trigger takes 'body' or 'json', not both")
        if timeout <= 0:
            raise ConfigError(f"http trigger timeout must be > 0 seconds, got {timeout!r}")
        self.url = url
        self.method = method
        self.scheme = parts.scheme
        self.host = parts.hostname
        self.port = parts.port or (443 if parts.scheme == "https" else 80)
        self.target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
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

    def _connect(self) -> http.client.HTTPConnection:
        cls = http.client.HTTPSConnection if self.scheme == "https" else http.client.HTTPConnection
        conn = cls(self.host, self.port, timeout=self.timeout)
        conn.connect()
        return conn

    def racecheck_prepare(self, worker: int) -> None:
        """Open this worker's connection before the barrier, so the requests leave together."""
        try:
            conn = self._connect()
        except OSError as exc:  # raised again after the barrier, where the runner records it
            self._local.error = exc
            return
        self._local.conn = conn
        rt = _runtime.active()
        if rt is not None:
            rt.register_resource(conn.close)  # a crashed worker's request is cut off

    def __call__(self) -> HttpResponse:
        worker = _runtime.current_worker()
        error, self._local.error = getattr(self._local, "error", None), None
        if error is not None:
            raise error
        conn = getattr(self._local, "conn", None) or self._connect()
        self._local.conn = None
        target = expand(self.target, worker)
        headers = {k: expand(v, worker) for k, v in self.headers.items()}
        if worker is not None:
            headers[WORKER_HEADER] = str(worker)
        body = expand(self.body, worker).encode() if self.body is not None else None
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
