"""``backend_down`` carried out on the runner's side: connections killed, or a server stopped.

A stopped server is restarted by a timer after the fault's ``duration`` or, at the latest,
when the trial ends (:meth:`BackendOutages.restore`), so the next trial starts with every
backend up.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

from ..errors import ConfigError


class BackendOutages:
    """The servers a trial's ``backend_down`` faults stopped, and their restart timers."""

    def __init__(self) -> None:
        self._down: list[Any] = []
        self._timers: list[threading.Timer] = []

    def backend_down(self, backends: Mapping[str, Any], params: dict[str, Any]) -> Any:
        name = params.get("backend", "redis")
        handle = backends.get(name)
        if handle is None:
            raise ConfigError(
                f"fault backend_down names backend {name!r} but the run has "
                f"{', '.join(backends) or 'no backends'}; pass backends={{{name!r}: handle}}"
            )
        server = handle if hasattr(handle, "stop") else getattr(handle, "server", handle)
        if params.get("how") == "stop":
            handle = server
            handle.stop()
            self._down.append(handle)
            duration = float(params.get("duration") or 0.0)
            if duration > 0:
                timer = threading.Timer(duration, self._restart, args=(handle,))
                timer.daemon = True
                self._timers.append(timer)
                timer.start()
        else:
            return handle.kill_connections()
        return None

    def _restart(self, handle: Any) -> None:
        if handle in self._down:
            self._down.remove(handle)
            handle.start()

    def restore(self) -> None:
        """Cancel the restart timers and start every server still down."""
        for timer in self._timers:
            timer.cancel()
        self._timers.clear()
        while self._down:
            self._down.pop().start()


__all__ = ["BackendOutages"]
