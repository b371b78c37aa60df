"""The replay line printed for a failing trial of the Python API, and what makes it run as printed.

``racecheck.run`` from Python prints ``racecheck.replay(<target>, '<schedule>')``: the
target as an importable ``'module:function'`` string when it is one (or its name when it
lives in ``__main__`` or a function body). The options of the run that recorded a
schedule (invariants, faults, setup, args, ...) are remembered in this process, so the
printed call replays with them; in another process pass the same options as keywords.
Pytest prints its ``--racecheck-replay`` line and scenarios the CLI form instead.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from dataclasses import fields
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .config import RunConfig

_KEEP = 64  # schedules remembered per process
_recent: OrderedDict[str, dict[str, Any]] = OrderedDict()
_NOT_REPLAYED = ("target", "n", "seed", "strategy", "schedule", "trials", "replay_hint")


def target_expr(target: Callable[..., Any] | str) -> str:
    """The first argument of the printed ``racecheck.replay(...)`` call."""
    if isinstance(target, str):
        return repr(target)
    module = getattr(target, "__module__", None)
    qualname = str(getattr(target, "__qualname__", None) or getattr(target, "__name__", "target"))
    if not module or module == "__main__" or "<locals>" in qualname:
        return qualname.rpartition("<locals>.")[2]
    return repr(f"{module}:{qualname}")


def python_hint(target: Callable[..., Any] | str) -> str:
    """A ``replay_hint`` template (``{schedule}`` is filled in) for a run started from Python."""
    return "racecheck.replay(" + target_expr(target).replace("{", "{{").replace("}", "}}") + ", '{schedule}')"


def remember(cfg: RunConfig, schedules: list[str]) -> None:
    """Keep the run's options for the schedules it printed, so the printed replay call uses them."""
    opts = {f.name: getattr(cfg, f.name) for f in fields(cfg) if f.name not in _NOT_REPLAYED}
    for s in schedules:
        _recent[s] = opts
        _recent.move_to_end(s)
    while len(_recent) > _KEEP:
        _recent.popitem(last=False)


def options_for(schedule: str) -> dict[str, Any]:
    """The options of the run in this process that recorded ``schedule`` ({} when none did)."""
    return dict(_recent.get(schedule.strip(), {}))
