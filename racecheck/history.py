"""The history (ledger) of a trial: append-only events, safe across processes.

A worker process appends one JSON line per event with a single ``os.write`` on an
``O_APPEND`` descriptor, so the events of a process that was SIGKILLed survive.
"""

from __future__ import annotations

import json
import os
import threading
import time
import traceback
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field, is_dataclass
from json.encoder import c_make_encoder, encode_basestring_ascii  # type: ignore[attr-defined]
from typing import Any

# Event kinds recorded by racecheck itself.
START = "start"  # trigger entered its body
END = "end"  # trigger returned
ERROR = "error"  # trigger raised
POINT = "point"
EFFECT = "effect"  # explicit, complete effect
EFFECT_BEGIN = "effect_begin"  # spied call started
EFFECT_END = "effect_end"  # spied call returned (payload ok=True) or raised (ok=False)
SECTION_BEGIN = "section_begin"
SECTION_END = "section_end"
SQL = "sql"
REDIS = "redis"
FAULT = "fault"
CRASH = "crash"
HANG = "hang"
LOG = "log"
RECOVER_BEGIN = "recover_begin"
RECOVER_END = "recover_end"
SCHEDULE = "schedule"
ENV_READ = "env_read"  # a worker read a variable a scrub_env fault removed or changed


def key_text(key: Any) -> str | None:
    """Normalise an effect key to text: tuples and lists join with commas."""
    if key is None:
        return None
    if isinstance(key, tuple | list):
        return ",".join(str(k) for k in key)
    return str(key)


@dataclass(frozen=True)
class Event:
    """One thing that happened in a trial."""

    worker: int | None
    pid: int
    t: int  # time.monotonic_ns(); CLOCK_MONOTONIC is shared by all processes on Linux
    kind: str
    name: str = ""
    key: str | None = None
    payload: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> str:
        # The same text as json.dumps(asdict(self)), without asdict's deep copy of every field
        # (the first event of a forked worker paid 0.4 ms for it).
        fields = {"worker": self.worker, "pid": self.pid, "t": self.t, "kind": self.kind, "name": self.name,
                  "key": self.key, "payload": self.payload}
        return _to_text(fields)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Event:
        return cls(
            worker=data.get("worker"),
            pid=int(data.get("pid", 0)),
            t=int(data["t"]),
            kind=str(data["kind"]),
            name=str(data.get("name", "")),
            key=data.get("key"),
            payload=dict(data.get("payload") or {}),
        )


def _json_default(value: Any) -> Any:
    if is_dataclass(value) and not isinstance(value, type):
        return asdict(value)
    return repr(value)


_ENCODER = json.JSONEncoder(default=_json_default, separators=(",", ":"))
# The C encoder JSONEncoder.encode builds on every call, built once: the same text, without the
# Python frames and closures per event. It keeps no circular-reference marks (they would be shared by
# the threads writing events), so a payload that contains itself fails with RecursionError.
_C_ENCODE = (c_make_encoder(None, _json_default, encode_basestring_ascii, None, ":", ",", False, False, True)
             if c_make_encoder is not None else None)


def _to_text(fields: dict[str, Any]) -> str:
    if _C_ENCODE is None:  # a Python without the _json accelerator
        return _ENCODER.encode(fields)
    return "".join(_C_ENCODE(fields, 0))


_PID = os.getpid()
# The real clock, taken at import: virtual time patches time.monotonic_ns during a run, and its
# patched clock gives racecheck's own frames the real time only after inspecting the caller.
_monotonic_ns = time.monotonic_ns


def _refresh_pid() -> None:
    global _PID
    _PID = os.getpid()


os.register_at_fork(after_in_child=_refresh_pid)  # spawned workers import afresh anyway


def make_event(
    worker: int | None, kind: str, name: str = "", key: Any = None, **payload: Any
) -> Event:
    return Event(worker, _PID, _monotonic_ns(), kind, name, key_text(key), payload)


def error_payload(exc: BaseException) -> dict[str, Any]:
    """What an ``error`` event carries: the exception's qualified type, message and traceback."""
    t = type(exc)
    name = t.__qualname__ if t.__module__ in ("builtins", "__main__") else f"{t.__module__}.{t.__qualname__}"
    tb = "".join(traceback.format_exception(exc))[-4000:]
    return {"type": name, "message": str(exc)[:500], "traceback": tb}


def short_repr(value: Any, limit: int = 200) -> str:
    """A trigger's return value as recorded in its ``end`` event."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def open_events(path: str) -> int:
    """A descriptor appending to the JSONL events file at ``path`` (created if missing)."""
    return os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)


class Sink:
    """Where a process writes its events: a list in memory, a JSONL file, or both."""

    def __init__(self, path: str | None = None, fd: int | None = None) -> None:
        """In memory; or appending to the JSONL file at ``path``, or to ``fd`` (opened with O_APPEND,
        which the sink then owns)."""
        self._events: list[Event] = []
        self._lock = threading.Lock()
        self._fd: int | None = fd
        if path is not None and fd is None:
            self._fd = open_events(path)

    def write(self, event: Event) -> None:
        if self._fd is not None:
            # One write per event: a line is never torn by a kill between two writes.
            os.write(self._fd, (event.to_json() + "\n").encode())
            return
        with self._lock:
            self._events.append(event)

    def events(self) -> list[Event]:
        with self._lock:
            return list(self._events)

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


def read_jsonl(path: str) -> list[Event]:
    """Read a JSONL event file; a torn last line (impossible with one write, but cheap to guard) is skipped."""
    out: list[Event] = []
    try:
        with open(path, encoding="utf-8") as fh:
            for line in fh:
                line = line.strip()
                if not line:
                    continue
                try:
                    out.append(Event.from_dict(json.loads(line)))
                except (ValueError, KeyError):
                    continue
    except FileNotFoundError:
        pass
    return out


class History:
    """The ordered events of one trial, with a small query API."""

    def __init__(self, events: Iterable[Event] = ()) -> None:
        self._events = sorted(events, key=lambda e: e.t)

    def __iter__(self) -> Iterator[Event]:
        return iter(self._events)

    def __len__(self) -> int:
        return len(self._events)

    def __getitem__(self, i: int) -> Event:
        return self._events[i]

    @property
    def events(self) -> list[Event]:
        return list(self._events)

    def filter(
        self,
        kind: str | Iterable[str] | None = None,
        name: str | None = None,
        key: Any = None,
        worker: int | None = None,
        where: Callable[[Event], bool] | None = None,
    ) -> list[Event]:
        """Events matching every given criterion, in time order."""
        kinds = {kind} if isinstance(kind, str) else (set(kind) if kind is not None else None)
        k = key_text(key)
        return [
            e
            for e in self._events
            if (kinds is None or e.kind in kinds)
            and (name is None or e.name == name)
            and (k is None or e.key == k)
            and (worker is None or e.worker == worker)
            and (where is None or where(e))
        ]

    def workers(self) -> list[int]:
        return sorted({e.worker for e in self._events if e.worker is not None})

    def effects(self, name: str | None = None) -> list[EffectRecord]:
        """Every effect, explicit or spied, with its outcome: done, failed or indeterminate."""
        return effect_records(self, name)

    def crashed_workers(self) -> set[int]:
        return {e.worker for e in self._events if e.kind == CRASH and e.worker is not None}

    def to_dicts(self) -> list[dict[str, Any]]:
        return [asdict(e) for e in self._events]


@dataclass(frozen=True)
class EffectRecord:
    """One effect: ``status`` is "done", "failed" (the call raised) or "indeterminate" (begun, no end seen)."""

    name: str
    key: str | None
    worker: int | None
    begin: int
    end: int | None
    status: str


def effect_records(history: History, name: str | None = None) -> list[EffectRecord]:
    out: list[EffectRecord] = []
    open_calls: dict[Any, Event] = {}
    for e in history:
        if name is not None and e.name != name:
            continue
        if e.kind == EFFECT:
            out.append(EffectRecord(e.name, e.key, e.worker, e.t, e.t, "done"))
        elif e.kind == EFFECT_BEGIN:
            open_calls[(e.pid, e.worker, e.payload.get("call"))] = e
        elif e.kind == EFFECT_END:
            b = open_calls.pop((e.pid, e.worker, e.payload.get("call")), None)
            if b is None:
                continue
            status = "done" if e.payload.get("ok", True) else "failed"
            out.append(EffectRecord(b.name, b.key, b.worker, b.t, e.t, status))
    for b in open_calls.values():
        out.append(EffectRecord(b.name, b.key, b.worker, b.t, None, "indeterminate"))
    out.sort(key=lambda r: r.begin)
    return out
