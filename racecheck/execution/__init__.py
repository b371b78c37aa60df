"""Trial executors: how one trial's N triggers run (threads, asyncio tasks, processes).

Every executor implements :class:`TrialExecutor`: it makes the trial's controller for a
controlled strategy and runs one trial, returning its events, the hung workers, their stacks
and the trial's runtime (the recovery step reuses its injector). ``Runner.run_trial`` looks
the run's mode up in the registry below instead of branching on it; the modules are imported
on first use (process mode pulls in multiprocessing, the process worker only ``trigger``).
The trigger body itself (arrive at ``start``, call the target, record ``start``/``end``/
``error``) is written once, in :mod:`racecheck.execution.trigger`.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from .. import _runtime
    from .. import history as h
    from ..faults import FaultInjector
    from ..runner import Runner
    from ..scheduling import Controller, Strategy
    from ..scheduling.async_controller import AsyncController

TrialOutcome = tuple["list[h.Event]", "list[int]", "dict[str, str]", "_runtime.Runtime"]


class TrialExecutor(Protocol):
    """One execution mode: the controller it needs and how it runs one trial."""

    def make_controller(self, runner: Runner, strategy: Strategy) -> Controller | AsyncController:
        """The trial's scheduling gate for a controlled ``strategy`` (its trial has begun)."""
        ...

    def run_trial(self, runner: Runner, index: int, injector: FaultInjector,
                  controller: Controller | AsyncController | None, strategy: Strategy | None) -> TrialOutcome:
        """Run trial ``index``: events, hung workers, their stacks, and the trial's runtime."""
        ...


# mode name -> (module, class) of its executor; imported on first use
_EXECUTORS: dict[str, tuple[str, str]] = {
    "threads": (".threads", "ThreadExecutor"),
    "asyncio": (".aio", "AsyncioExecutor"),
    "processes": (".processes", "ProcessExecutor"),
}
_loaded: dict[str, TrialExecutor] = {}
MODES = ("threads", "processes", "asyncio")  # every execution mode, in the documented order


def executor_for(mode: str) -> TrialExecutor:
    """The executor of ``mode`` (``threads``, ``asyncio``, ``processes``)."""
    got = _loaded.get(mode)
    if got is None:
        where = _EXECUTORS.get(mode)
        if where is None:
            from ..errors import ConfigError

            raise ConfigError(f"mode {mode!r} has no trial executor; use one of {', '.join(_EXECUTORS)}")
        cls: Any = getattr(importlib.import_module(where[0], __name__), where[1])
        got = _loaded[mode] = cls()
    return got


__all__ = ["MODES", "TrialExecutor", "TrialOutcome", "executor_for"]
