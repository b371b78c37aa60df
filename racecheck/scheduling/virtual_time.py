"""Virtual time under controlled strategies: the scheduler owns ``sleep`` and the clocks.

Inside a trigger run by a controlled strategy (random, pct, dfs, replay, hypothesis),
``time.sleep(s)`` is a point labelled ``sleep:<s>``: the worker waits there for the
scheduler like at any other point, then its *virtual offset* grows by ``s`` instead of
the thread sleeping. ``time.time``/``monotonic``/``perf_counter`` (and their ``_ns``
forms) and ``datetime.datetime.now``/``utcnow`` return real time plus that offset, so a
trigger that measures its own sleep sees it pass. Steps separated by a sleep can then
be interleaved at will, in microseconds, whatever the sleep's length.

Only calls made from user code by a worker of the run are virtual. The caller is looked
at (one frame up): racecheck itself (the controller's quanta, the runner's deadlines,
history timestamps), the standard library and installed packages (driver timeouts,
socket waits) keep real time. Every other thread keeps real time too.

Each worker has its own offset: virtual time is the worker's local time, not a shared
clock that orders wake-ups (which would re-impose the timing the search wants to
ignore). It composes with the ``clock`` fault: a clock shift is added on top of the
offset for ``time.time`` and ``datetime.now``.

``asyncio.sleep(s)`` with ``s > 0``, awaited from user code by a task of a controlled run
(``mode="asyncio"``, or a coroutine in a thread), is the same: an async point
``sleep:<s>`` (the task awaits its turn, the others run) that advances the task's offset;
``asyncio.sleep(0)`` stays a plain yield. In asyncio mode ``time.sleep`` stays real (it
blocks the loop, which the trial reports); the clocks are virtual as above. A name bound
before the run (``from asyncio import sleep``) keeps the real function.

Servers keep their own clocks: a virtual sleep past a Redis TTL does not expire the key
(see docs/search.md for what to do instead).
"""

from __future__ import annotations

import asyncio
import datetime as _dt
import os
import sys
import sysconfig
import threading
import time
from collections.abc import Callable
from typing import Any

from .. import _runtime
from .. import history as h

_real: dict[str, Callable[..., Any]] = {
    "sleep": time.sleep,
    "time": time.time,
    "time_ns": time.time_ns,
    "monotonic": time.monotonic,
    "monotonic_ns": time.monotonic_ns,
    "perf_counter": time.perf_counter,
    "perf_counter_ns": time.perf_counter_ns,
}
_real_datetime = _dt.datetime
real_sleep = time.sleep

_lock = threading.Lock()
_offsets: dict[int, float] = {}
_offsets_rt: list[Any] = [None]  # the Runtime the offsets belong to (a new trial starts at zero)
_owned_cache: dict[str, bool] = {}
_PKG_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_LIB_DIRS = tuple(sorted({p for k in ("stdlib", "platstdlib", "purelib", "platlib")
                          if (p := sysconfig.get_paths().get(k))}))


def _user_code(filename: str) -> bool:
    """True for a frame of user code (not racecheck, not the standard library, not a package)."""
    owned = _owned_cache.get(filename)
    if owned is None:
        path = os.path.abspath(filename) if not filename.startswith("<") else filename
        owned = not (path.startswith(_PKG_DIR + os.sep) or path.startswith(_LIB_DIRS) or path.startswith("<frozen"))
        _owned_cache[filename] = owned
    return owned


def _controlled_worker(depth: int) -> tuple[Any, int] | None:
    """(runtime, worker) when the caller ``depth`` frames up is user code of a controlled worker."""
    rt = _runtime.active()
    if rt is None or rt.gate is None:
        return None
    w = _runtime.current_worker()
    if w is None or w < 0:
        return None
    if not _user_code(sys._getframe(depth + 1).f_code.co_filename):
        return None
    return rt, w


def offset(rt: Any, worker: int) -> float:
    """Seconds the worker's virtual clock is ahead of the real one (its virtual sleeps so far)."""
    with _lock:
        if _offsets_rt[0] is not rt:
            return 0.0
        return _offsets.get(worker, 0.0)


def _advance(rt: Any, worker: int, seconds: float) -> None:
    with _lock:
        if _offsets_rt[0] is not rt:
            _offsets.clear()
            _offsets_rt[0] = rt
        _offsets[worker] = _offsets.get(worker, 0.0) + seconds


def virtual_sleep(seconds: float) -> None:
    got = _controlled_worker(1)
    if got is None:
        _prev["sleep"](seconds)
        return
    if seconds < 0:
        raise ValueError("sleep length must be non-negative")
    rt, w = got
    rt.at_point(f"sleep:{seconds:g}", h.POINT, seconds=seconds, virtual=True)
    _advance(rt, w, float(seconds))


_real_asleep = asyncio.sleep


async def virtual_asleep(delay: float, result: Any = None) -> Any:
    """``asyncio.sleep`` while virtual time is installed: a point that advances the task's clock."""
    got = _controlled_worker(1) if delay > 0 else None
    if got is None:
        return await _real_asleep(delay, result)
    rt, w = got
    await rt.at_point_async(f"sleep:{delay:g}", h.POINT, seconds=delay, virtual=True)
    _advance(rt, w, float(delay))
    return result


def _clock(name: str, ns: bool) -> Callable[[], Any]:
    def now() -> Any:
        got = _controlled_worker(1)
        base = _prev[name]()
        if got is None:
            return base
        rt, w = got
        extra = offset(rt, w)
        if ns:
            return base + int(extra * 1e9)
        return base + extra

    now.__name__ = name
    now.__qualname__ = name
    return now


def _virtual_epoch() -> float | None:
    """The virtual ``time.time()`` of the calling worker (two frames up), or None for real time."""
    got = _controlled_worker(2)
    if got is None:
        return None
    rt, w = got
    return _real["time"]() + offset(rt, w) + rt.clock_shift()


class _DatetimeMeta(type):
    def __instancecheck__(cls, obj: object) -> bool:
        return isinstance(obj, _real_datetime)

    def __subclasscheck__(cls, sub: type) -> bool:
        return issubclass(sub, _real_datetime)


class VirtualDatetime(_real_datetime, metaclass=_DatetimeMeta):
    """``datetime.datetime`` while virtual time is installed: ``now``/``utcnow`` follow the worker's clock."""

    def __new__(cls, *args: Any, **kwargs: Any) -> _dt.datetime:  # type: ignore[misc]
        return _real_datetime(*args, **kwargs)

    @classmethod
    def now(cls, tz: _dt.tzinfo | None = None) -> _dt.datetime:  # type: ignore[override]
        t = _virtual_epoch()
        return _real_datetime.now(tz) if t is None else _real_datetime.fromtimestamp(t, tz)

    @classmethod
    def utcnow(cls) -> _dt.datetime:  # type: ignore[override]
        t = _virtual_epoch()
        if t is None:
            return _real_datetime.utcnow()
        return _real_datetime.fromtimestamp(t, _dt.UTC).replace(tzinfo=None)


_prev: dict[str, Callable[..., Any]] = dict(_real)
_installed = [0]


def install(real_sleep: bool = False) -> Callable[[], None]:
    """Patch ``time``, ``datetime`` and ``asyncio.sleep`` for the run; returns the undo.

    ``real_sleep`` leaves ``time.sleep`` alone (asyncio mode: it blocks the loop, really).
    """
    if _installed[0]:
        return lambda: None
    names = [n for n in _real if not (real_sleep and n == "sleep")]
    saved = {name: getattr(time, name) for name in names}
    saved_dt, saved_asleep = _dt.datetime, asyncio.sleep
    _prev.update(saved)  # e.g. the clock fault's shifted time.time: virtual time adds to it
    for name in names:
        setattr(time, name, virtual_sleep if name == "sleep" else _clock(name, name.endswith("_ns")))
    _dt.datetime = VirtualDatetime  # type: ignore[misc]
    asyncio.sleep = virtual_asleep  # type: ignore[assignment]
    _installed[0] = 1
    with _lock:
        _offsets.clear()
        _offsets_rt[0] = None

    def undo() -> None:
        for name, fn in saved.items():
            setattr(time, name, fn)
        _dt.datetime = saved_dt  # type: ignore[misc]
        asyncio.sleep = saved_asleep  # type: ignore[assignment]
        _prev.update(_real)
        _installed[0] = 0

    return undo


def install_for(strategy: str, mode: str, enabled: bool = True) -> Callable[[], None]:
    """Install virtual time when the run's strategy controls the schedule (any mode)."""
    from .strategies import is_controlled

    if not enabled or not is_controlled(strategy):
        return lambda: None
    return install(real_sleep=mode == "asyncio")
