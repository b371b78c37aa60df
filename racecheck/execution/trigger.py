"""The trigger body, written once: arrive at ``start``, call the target, record how it ended.

Thread workers and process workers call :func:`run_trigger`; asyncio tasks call its twin
:func:`run_trigger_async` (the target is awaited, a cancelled task unwinds, a task that crashed
at an async point records nothing more). ``args`` is called inside the recorded region, so an
argument factory that raises is the worker's ``error``, as before.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Protocol

from .. import _runtime
from .. import history as h
from ..errors import WorkerCrashed
from ..targets import settle

if TYPE_CHECKING:
    from ..scheduling.async_controller import AsyncController


class StartGate(Protocol):
    def arrive(self, worker: int, label: str) -> None: ...


def run_trigger(rt: _runtime.Runtime, worker: int, gate: StartGate | None, fn: Callable[..., Any],
                args: Callable[[], tuple[Any, ...]], kwargs: Mapping[str, Any]) -> None:
    """One trigger: ``start``, then ``end`` with its result or ``error``; a crash records nothing."""
    if gate is not None:
        gate.arrive(worker, "start")
    rt.record(h.START)
    try:
        res = settle(fn(*args(), **kwargs))
        rt.record(h.END, result=h.short_repr(res))
    except WorkerCrashed:
        return
    except BaseException as exc:  # noqa: BLE001 - every trigger failure is history
        rt.record(h.ERROR, **h.error_payload(exc))


async def run_trigger_async(rt: _runtime.Runtime, worker: int, controller: AsyncController | None,
                            fn: Callable[..., Any], args: Callable[[], tuple[Any, ...]],
                            kwargs: Mapping[str, Any]) -> None:
    """The asyncio twin of :func:`run_trigger`."""
    if controller is not None:
        await controller.arrive_async(worker, "start")
    rt.record(h.START)
    try:
        res = await fn(*args(), **kwargs)
        rt.record(h.END, result=h.short_repr(res))
    except WorkerCrashed:
        return
    except BaseException as exc:  # noqa: BLE001 - every trigger failure is history
        if isinstance(exc, asyncio.CancelledError):
            raise
        if worker not in rt.crashed:
            rt.record(h.ERROR, **h.error_payload(exc))


__all__ = ["run_trigger", "run_trigger_async"]
