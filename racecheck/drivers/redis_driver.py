"""redis-py and valkey-py instrumentation (sync and asyncio): each command is a point ``redis:<COMMAND args>``.

valkey-py is a fork of redis-py with the same client structure: :func:`instrument` is
given the client modules of one of them; ``redis`` and ``valkey`` each install it once.

Covered: ``Redis.execute_command`` (every command method goes through it), pipelines
(``redis:PIPELINE <cmd>; <cmd>``, one point when they are sent) and commands a
pipeline runs at once while WATCHing. A command that raised is recorded again with
``error=<type>`` (``fail_closed`` reads it). A worker's crash disconnects the clients
only that worker used; a client shared by several workers is left alone.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from typing import Any

from .. import _runtime
from .. import history as h
from . import calling, one_line, record_failure

_SHARED = -10**9  # owner marker of a client more than one worker used
_tasks: set[asyncio.Task[Any]] = set()


def _text(args: tuple[Any, ...]) -> str:
    parts = []
    for a in args:
        if isinstance(a, bytes):
            a = a.decode(errors="replace")
        parts.append(str(a))
    if parts:
        parts[0] = parts[0].upper()
    return one_line(" ".join(parts), 200)


def _disconnect(client: Any, rt: _runtime.Runtime, worker: int | None) -> None:
    owner = getattr(client, "_racecheck_owner", None)
    if owner is None or owner[0] is not rt or owner[1] != worker:
        return  # shared with other workers since: severing it would hit them too
    pool = getattr(client, "connection_pool", None)
    if pool is None:
        return
    result = pool.disconnect()
    if asyncio.iscoroutine(result):
        try:
            task = asyncio.get_running_loop().create_task(result)
        except RuntimeError:
            result.close()
            return
        _tasks.add(task)
        task.add_done_callback(_tasks.discard)


def _register(rt: _runtime.Runtime, client: Any) -> None:
    worker = _runtime.current_worker()
    owner = getattr(client, "_racecheck_owner", None)
    if owner is not None and owner[0] is rt:
        if owner[1] not in (worker, _SHARED):
            client._racecheck_owner = (rt, _SHARED)
        return
    try:
        client._racecheck_owner = (rt, worker)
    except AttributeError:
        return
    rt.register_resource(functools.partial(_disconnect, client, rt, worker))


def _in_run() -> _runtime.Runtime | None:
    rt = _runtime.active()
    if rt is None or _runtime.current_worker() is None:
        return None
    return rt


class _Command:
    """One command of a worker: its label, the client registered for severing, its after phase."""

    __slots__ = ("driver", "label", "rt", "text")

    def __init__(self, rt: _runtime.Runtime, driver: str, client: Any, text: str) -> None:
        _register(rt, client)
        self.rt, self.driver, self.text, self.label = rt, driver, text, "redis:" + text

    def failed(self, exc: BaseException) -> None:
        record_failure(self.rt, h.REDIS, self.label, "command", self.text, exc)

    def done(self, result: Any) -> Any:
        with calling(self.driver):
            self.rt.after_point(self.label)
        return result


def _pipeline_text(pipe: Any) -> str:
    return "PIPELINE " + "; ".join(_text(tuple(c[0])) for c in getattr(pipe, "command_stack", []))


def install() -> Callable[[], None]:
    try:
        import redis.asyncio.client
        import redis.client
    except ImportError:
        return lambda: None
    return instrument("redis", redis.client, redis.asyncio.client)


def instrument(driver: str, sync_mod: Any, async_mod: Any, client: str = "Redis") -> Callable[[], None]:
    """Patch the ``Redis`` and ``Pipeline`` classes of a redis-py-shaped library; returns the undo.

    ``driver`` is the registry name (a short ``redis_error`` name resolves in its modules);
    ``client`` the name of the client class (``Redis``, ``Valkey``).
    """
    saved: list[tuple[Any, str, Any]] = []

    def patch(cls: Any, name: str, make: Callable[[Any], Any]) -> None:
        original = cls.__dict__[name]
        saved.append((cls, name, original))
        setattr(cls, name, make(original))

    def sync_cmd(original: Any, describe: Callable[[Any, tuple[Any, ...]], str]) -> Any:
        @functools.wraps(original)
        def wrapper(self: Any, *args: Any, **options: Any) -> Any:
            rt = _in_run()
            if rt is None:
                return original(self, *args, **options)
            cmd = _Command(rt, driver, self, describe(self, args))
            with calling(driver):
                rt.at_point(cmd.label, h.REDIS, command=cmd.text)
            try:
                result = original(self, *args, **options)
            except Exception as exc:
                cmd.failed(exc)
                raise
            return cmd.done(result)

        return wrapper

    def async_cmd(original: Any, describe: Callable[[Any, tuple[Any, ...]], str]) -> Any:
        @functools.wraps(original)
        async def wrapper(self: Any, *args: Any, **options: Any) -> Any:
            rt = _in_run()
            if rt is None:
                return await original(self, *args, **options)
            cmd = _Command(rt, driver, self, describe(self, args))
            with calling(driver):
                await rt.at_point_async(cmd.label, h.REDIS, command=cmd.text)
            try:
                result = await original(self, *args, **options)
            except Exception as exc:
                cmd.failed(exc)
                raise
            return cmd.done(result)

        return wrapper

    def command(_self: Any, args: tuple[Any, ...]) -> str:
        return _text(args)

    def pipeline(self: Any, _args: tuple[Any, ...]) -> str:
        return _pipeline_text(self)

    wrappers: tuple[tuple[Any, Callable[..., Any]], ...] = (
        (sync_mod, sync_cmd), (async_mod, async_cmd))
    for mod, wrap in wrappers:
        patch(getattr(mod, client), "execute_command", functools.partial(wrap, describe=command))
        patch(mod.Pipeline, "immediate_execute_command", functools.partial(wrap, describe=command))
        patch(mod.Pipeline, "execute", functools.partial(wrap, describe=pipeline))

    def undo() -> None:
        for cls, name, original in reversed(saved):
            setattr(cls, name, original)

    return undo
