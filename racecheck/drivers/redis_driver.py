"""redis-py instrumentation (sync and asyncio): each command is a point named ``redis:<COMMAND args>``."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from .. import _runtime
from .. import history as h
from . import one_line


def _text(args: tuple[Any, ...]) -> str:
    parts = []
    for a in args:
        if isinstance(a, bytes):
            a = a.decode(errors="replace")
        parts.append(str(a))
    if parts:
        parts[0] = parts[0].upper()
    return one_line(" ".join(parts), 200)


def _register(rt: _runtime.Runtime, client: Any) -> None:
    if getattr(client, "_racecheck_registered", None) is rt:
        return
    try:
        client._racecheck_registered = rt
    except AttributeError:
        return
    pool = getattr(client, "connection_pool", None)
    if pool is not None:
        rt.register_resource(pool.disconnect)


def install() -> Callable[[], None]:
    try:
        import redis
        import redis.asyncio
    except ImportError:
        return lambda: None

    saved: list[tuple[Any, str, Any]] = []

    def patch(cls: Any, name: str, make: Callable[[Any], Any]) -> None:
        original = cls.__dict__[name]
        saved.append((cls, name, original))
        setattr(cls, name, make(original))

    def sync_cmd(original: Any) -> Any:
        @functools.wraps(original)
        def execute_command(self: Any, *args: Any, **options: Any) -> Any:
            rt = _runtime.active()
            if rt is None or _runtime.current_worker() is None:
                return original(self, *args, **options)
            _register(rt, self)
            text = _text(args)
            label = "redis:" + text
            rt.at_point(label, h.REDIS, command=text)
            result = original(self, *args, **options)
            rt.after_point(label)
            return result

        return execute_command

    def async_cmd(original: Any) -> Any:
        @functools.wraps(original)
        async def execute_command(self: Any, *args: Any, **options: Any) -> Any:
            rt = _runtime.active()
            if rt is None or _runtime.current_worker() is None:
                return await original(self, *args, **options)
            _register(rt, self)
            text = _text(args)
            label = "redis:" + text
            rt.at_point(label, h.REDIS, command=text)
            result = await original(self, *args, **options)
            rt.after_point(label)
            return result

        return execute_command

    def sync_pipe(original: Any) -> Any:
        @functools.wraps(original)
        def execute(self: Any, *args: Any, **kwargs: Any) -> Any:
            rt = _runtime.active()
            if rt is None or _runtime.current_worker() is None:
                return original(self, *args, **kwargs)
            _register(rt, self)
            cmds = "; ".join(_text(c[0]) for c in getattr(self, "command_stack", []))
            label = "redis:PIPELINE " + cmds
            rt.at_point(label, h.REDIS, command="PIPELINE " + cmds)
            result = original(self, *args, **kwargs)
            rt.after_point(label)
            return result

        return execute

    patch(redis.client.Redis, "execute_command", sync_cmd)
    patch(redis.client.Pipeline, "execute", sync_pipe)
    patch(redis.asyncio.client.Redis, "execute_command", async_cmd)

    def undo() -> None:
        for cls, name, original in reversed(saved):
            setattr(cls, name, original)

    return undo
