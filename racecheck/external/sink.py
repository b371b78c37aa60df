"""The effect sink: a loopback HTTP server that a system under test calls instead of its real side effect.

Start it around a run (``with EffectSink() as sink:``), hand ``sink.url`` to the system
(e.g. ``REVIEWER_URL``), and every request becomes an effect in the active trial's history:
``effect_begin`` when it arrives, ``effect_end`` when it is answered (``ok`` False for an
injected error status), nothing more when it hangs, so a hung call is *indeterminate*.
The worker is read from the ``X-Racecheck-Worker`` header when the system propagates it.
"""

from __future__ import annotations

import fnmatch
import itertools
import json
import socket
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from .. import _runtime
from .. import history as h
from ..errors import ConfigError

WORKER_HEADER = "X-Racecheck-Worker"
KEY_SOURCES = ("path", "body", "query", "header")


@dataclass(frozen=True)
class SinkFault:
    """How the sink misbehaves for matching calls: answer late, with an error, or never.

    ``path`` is a glob over the request path; ``key`` a glob over the effect key; ``calls``
    the 1-based call numbers (counted per trial and its recovery step, over matching calls) it applies to, all
    when empty. ``ambiguous`` makes an error status still count as a done effect (the work
    happened, the acknowledgement was lost).
    """

    path: str = "*"
    key: str | None = None
    calls: tuple[int, ...] = ()
    delay: float = 0.0
    status: int | None = None
    hang: bool = False
    ambiguous: bool = False

    def __post_init__(self) -> None:
        if self.delay < 0:
            raise ConfigError(f"sink fault delay must be >= 0 seconds, got {self.delay!r}")
        if self.status is not None and not 100 <= int(self.status) <= 599:
            raise ConfigError(f"sink fault status must be an HTTP status 100-599, got {self.status!r}")
        if any(int(c) < 1 for c in self.calls):
            raise ConfigError(f"sink fault calls are 1-based call numbers, got {list(self.calls)!r}")


@dataclass
class SinkCall:
    """One request the sink received (kept for inspection, across trials)."""

    call: int
    method: str
    path: str
    effect: str
    key: str | None
    worker: int | None
    body: str
    status: int | None = None  # None while unanswered (hung)
    faults: list[str] = field(default_factory=list)


def parse_key_spec(spec: str) -> tuple[str, str]:
    """``path`` | ``path:<segment index>`` | ``body`` | ``body:<json.field>`` | ``query:<name>`` | ``header:<name>``."""
    source, _, arg = spec.partition(":")
    if source not in KEY_SOURCES:
        raise ConfigError(f"sink key {spec!r} must start with one of {', '.join(KEY_SOURCES)} (e.g. 'path' or 'body:review_id')")
    if source in ("query", "header") and not arg:
        raise ConfigError(f"sink key {spec!r} needs a name after the colon, e.g. '{source}:id'")
    if source == "path" and arg and not arg.lstrip("-").isdigit():
        raise ConfigError(f"sink key {spec!r}: the part after 'path:' is a segment index such as 1 or -1")
    return source, arg


RUNNING: set[EffectSink] = set()  # started sinks: effects may come by any path name (racecheck.verdict)


class EffectSink:
    """A loopback HTTP server on a free port whose every call is an effect; use as a context manager."""

    def __init__(self, effect: str | None = None, key: str = "path", faults: list[SinkFault] | tuple[SinkFault, ...] = (),
                 host: str = "127.0.0.1") -> None:
        self.effect = effect
        self.key_source, self.key_arg = parse_key_spec(key)
        self.faults = tuple(faults)
        self.host = host
        self.calls: list[SinkCall] = []
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._closing = threading.Event()
        self._trial_rt: object | None = None
        self._matched: dict[int, int] = {}  # fault index -> matching calls seen this trial
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._conns: set[Any] = set()  # open client sockets, shut down on stop (idle keep-alives)

    # -- lifetime ----------------------------------------------------------------------
    @property
    def url(self) -> str:
        if self._server is None:
            raise ConfigError("the effect sink is not started; use it as 'with EffectSink() as sink:'")
        return f"http://{self.host}:{self._server.server_address[1]}"

    def start(self) -> EffectSink:
        sink = self

        class Handler(_Handler):
            owner = sink

        server = ThreadingHTTPServer((self.host, 0), Handler)
        server.daemon_threads = False  # server_close() joins the handler threads
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="racecheck-effect-sink", daemon=True)
        self._thread.start()
        RUNNING.add(self)
        return self

    def stop(self) -> None:
        server, self._server = self._server, None
        RUNNING.discard(self)
        if server is None:
            return
        self._closing.set()  # releases hung calls
        server.shutdown()
        with self._lock:
            conns = list(self._conns)
        for sock in conns:  # wake handler threads blocked reading an idle keep-alive connection
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        server.server_close()  # joins the handler threads
        if self._thread is not None:
            self._thread.join(5)
            self._thread = None

    def __enter__(self) -> EffectSink:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- per call ------------------------------------------------------------------------
    def effect_name(self, path: str) -> str:
        if self.effect:
            return self.effect
        segments = [s for s in path.split("/") if s]
        return segments[0] if segments else "effect"

    def effect_key(self, path: str, query: str, body: bytes, headers: Any) -> str | None:
        src, arg = self.key_source, self.key_arg
        if src == "path":
            segments = [s for s in path.split("/") if s]
            if arg:
                i = int(arg)
                return segments[i] if -len(segments) <= i < len(segments) else None
            rest = segments[1:] if not self.effect else segments
            return "/".join(rest) or None
        if src == "query":
            vals = parse_qs(query).get(arg)
            return vals[0] if vals else None
        if src == "header":
            v = headers.get(arg)
            return None if v is None else str(v)
        text = body.decode("utf-8", "replace")
        if not arg:
            return text or None
        try:
            value: Any = json.loads(text)
            for part in arg.split("."):
                value = value[part]
        except (ValueError, KeyError, IndexError, TypeError):
            return None
        return h.key_text(value)

    def _faults_for(self, path: str, key: str | None) -> list[SinkFault]:
        with self._lock:
            rt = _runtime.active()
            # A trial and its recovery step share one fault injector (their runtimes differ).
            trial = getattr(rt, "injector", None) or rt
            if trial is not self._trial_rt:  # a new trial: call numbers restart
                self._trial_rt = trial
                self._matched.clear()
            out = []
            for i, f in enumerate(self.faults):
                if not fnmatch.fnmatchcase(path, f.path):
                    continue
                if f.key is not None and (key is None or not fnmatch.fnmatchcase(key, f.key)):
                    continue
                n = self._matched[i] = self._matched.get(i, 0) + 1
                if not f.calls or n in f.calls:
                    out.append(f)
            return out

    def _hang(self, rt: object) -> None:
        """Never answer: wait until the sink stops or the trial that made the call is over."""
        while not self._closing.wait(0.05):
            if _runtime.active() is not rt:
                return


class _Handler(BaseHTTPRequestHandler):
    owner: EffectSink
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - silence stderr access logs
        return

    def setup(self) -> None:
        super().setup()
        with self.owner._lock:
            self.owner._conns.add(self.connection)
        if self.owner._closing.is_set():  # accepted as the sink stops: do not wait long for a request
            self.connection.settimeout(0.5)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            with self.owner._lock:
                self.owner._conns.discard(self.connection)

    def _handle(self) -> None:
        sink = self.owner
        parts = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length > 0 else b""
        name = sink.effect_name(parts.path)
        key = sink.effect_key(parts.path, parts.query, body, self.headers)
        worker = _worker_of(self.headers.get(WORKER_HEADER))
        call = next(sink._ids)
        rec = SinkCall(call, self.command, parts.path, name, key, worker, body[:500].decode("utf-8", "replace"))
        with sink._lock:
            sink.calls.append(rec)
        rt = _runtime.active()
        faults = sink._faults_for(parts.path, key)
        rec.faults = [_describe(f) for f in faults]
        payload: dict[str, Any] = {"call": f"sink{call}", "method": self.command, "path": parts.path, "source": "sink"}
        _runtime.record_external(h.EFFECT_BEGIN, name, key, worker, **payload)
        for f in faults:
            _runtime.record_external(h.FAULT, "sink", key, worker, at=parts.path, fault=_describe(f))
        if any(f.hang for f in faults):
            _runtime.record_external(h.HANG, name, key, worker, call=payload["call"], path=parts.path)
            sink._hang(rt)
            self.close_connection = True
            return
        delay = sum(f.delay for f in faults)
        if delay:
            time.sleep(delay)
        status = next((int(f.status) for f in faults if f.status is not None), 200)
        ok = status < 300 or any(f.ambiguous for f in faults if f.status is not None)
        rec.status = status
        # Recorded before answering: once the caller has its answer the trial may end.
        if _runtime.active() is rt:
            _runtime.record_external(h.EFFECT_END, name, key, worker, call=payload["call"], ok=ok, status=status)
        self._answer(status, {"ok": status < 300, "call": call, "effect": name, "key": key})

    def _answer(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except OSError:  # the caller gave up (timed out); the effect still happened
            self.close_connection = True

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _handle


def _worker_of(value: str | None) -> int | None:
    if value is None:
        return None
    try:
        return int(value)
    except ValueError:
        return None


def _describe(f: SinkFault) -> str:
    if f.hang:
        return "hang"
    parts = []
    if f.delay:
        parts.append(f"delay {f.delay}s")
    if f.status is not None:
        parts.append(f"status {f.status}" + (" (ambiguous)" if f.ambiguous else ""))
    return ", ".join(parts) or "none"
