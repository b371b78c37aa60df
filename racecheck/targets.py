"""What a trigger must be for its body to run: a function, a coroutine function, not a generator."""

from __future__ import annotations

import asyncio
import inspect
from typing import Any

from .errors import ConfigError


def refuse_generators(fn: Any, name: str) -> None:
    """A generator function's body never runs when it is called: refuse it before any trial."""
    if inspect.isgeneratorfunction(fn) or inspect.isasyncgenfunction(fn):
        raise ConfigError(f"target {name} is a generator function: calling it runs none of its body; "
                          "make it a plain function (or wrap it: lambda: list(gen()))")


def settle(value: Any) -> Any:
    """Run what a thread- or process-mode trigger returned if its body has not run yet.

    A coroutine (an ``async def`` target) runs to completion on a fresh event loop in the
    worker's thread; a generator is refused, since none of its body would run.
    """
    if asyncio.iscoroutine(value):
        return asyncio.run(value)
    if inspect.isgenerator(value) or inspect.isasyncgen(value):
        raise ConfigError("the target returned a generator: none of its body ran; make it a plain function")
    return value
