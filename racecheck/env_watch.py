"""Which workers read an environment variable a ``scrub_env`` fault removed or changed.

A scrub is not a failure by itself: code that captured the value earlier is unaffected.
The failure is a worker *reading* the variable after the scrub (``os.environ[...]``,
``os.environ.get``, ``os.getenv``, ``in``): each such read by a worker is recorded as an
``env_read`` event (``missing=True`` when the variable was gone), which ``fail_closed``
counts as the worker meeting the fault.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from . import _runtime
from . import history as h
from .faults import Fault


def watched_names(faults: list[Fault] | tuple[Fault, ...]) -> dict[str, str | None]:
    """name -> the value a scrub sets it to (None: the scrub removes it)."""
    out: dict[str, str | None] = {}
    for f in faults:
        if f.action != "scrub_env":
            continue
        for name in f.params.get("names", []):
            out[str(name)] = None
        for name, value in f.params.get("set", {}).items():
            out[str(name)] = str(value)
    return out


def install_env_watch(faults: list[Fault] | tuple[Fault, ...]) -> Callable[[], None]:
    """Record workers' reads of scrubbed variables while they are scrubbed; returns the undo."""
    names = watched_names(faults)
    if not names:
        return lambda: None
    cls: Any = type(os.environ)
    original = cls.__getitem__

    def __getitem__(self: Any, key: Any) -> Any:
        try:
            value = original(self, key)
        except KeyError:
            if self is os.environ and key in names and names[key] is None:
                _note(str(key), True)
            raise
        if self is os.environ and key in names and names[key] is not None and value == names[key]:
            _note(str(key), False)
        return value

    cls.__getitem__ = __getitem__
    return lambda: setattr(cls, "__getitem__", original)


def _note(name: str, missing: bool) -> None:
    rt = _runtime.active()
    if rt is None or _runtime.current_worker() is None:
        return
    rt.record(h.ENV_READ, name, missing=missing)


def record_env_faults(rt: _runtime.Runtime, applied: list[tuple[str, Fault]]) -> None:
    """Put the env faults applied before the trigger (``(when, fault)``) into the calling worker's history."""
    for when, f in applied:
        rt.record(h.FAULT, f.action, None, at=when, phase=when, fault=f.describe())
