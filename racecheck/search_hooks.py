"""What a run installs for search: virtual time (controlled strategies) and ``instrument`` tracing.

Called once per run by the runner, so the runner holds one line for both. A process worker
installs the same two parts itself (``_worker``): virtual time with the rest of its setup
(once per trial in the warm template), tracing in each worker process.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def search_options(cfg: Any) -> dict[str, Any]:
    """The picklable part of the config a worker process needs to install the same hooks."""
    return {"strategy": cfg.strategy, "virtual_time": cfg.virtual_time, "instrument": tuple(cfg.instrument)}


def install_search(cfg: Any, mode: str | None = None) -> Callable[[], None]:
    """Install virtual time and instrumentation as ``cfg`` (a RunConfig or search_options dict) asks."""
    opts = cfg if isinstance(cfg, dict) else search_options(cfg)
    mode = str(mode or getattr(cfg, "mode", "threads"))
    from .instrument import install_instrument
    from .scheduling.virtual_time import install_for

    undo: list[Callable[[], None]] = []

    def undo_all() -> None:
        while undo:
            undo.pop()()

    try:
        undo.append(install_for(opts["strategy"], mode, opts["virtual_time"]))
        undo.append(install_instrument(opts["instrument"], mode))
    except BaseException:
        undo_all()  # e.g. an instrument module that does not import: virtual time must not stay
        raise
    return undo_all
