"""A sink and the services that call it, started and stopped together around a run."""

from __future__ import annotations

from contextlib import ExitStack
from typing import Any

from .service import Service
from .sink import EffectSink


def expand_vars(text: str, values: dict[str, str]) -> str:
    """Replace ``{name}`` for each known name (``{sink_url}``, ``{service_url}``, ...); other braces stay."""
    for k, v in values.items():
        text = text.replace("{" + k + "}", v)
    return text


class Stack:
    """Starts the sink first (services get ``{sink_url}`` in their env), then each service; stops in reverse.

    ``values`` holds what a scenario may refer to: ``sink_url``, and ``service_url`` /
    ``<name>_url`` for each started service, plus anything passed in.
    """

    def __init__(self, sink: EffectSink | None = None, services: dict[str, Service] | None = None,
                 values: dict[str, str] | None = None) -> None:
        self.sink = sink
        self.services = dict(services or {})
        self.values: dict[str, str] = dict(values or {})
        self._stack = ExitStack()

    def __enter__(self) -> Stack:
        try:
            if self.sink is not None:
                self._stack.enter_context(self.sink)
                self.values["sink_url"] = self.sink.url
            for name, svc in self.services.items():
                svc.env = {k: expand_vars(v, self.values) for k, v in svc.env.items()}
                self._stack.enter_context(svc)
                self.values[f"{name}_url"] = svc.url
                self.values.setdefault("service_url", svc.url)
        except BaseException:
            self._stack.close()
            raise
        return self

    def __exit__(self, *exc: Any) -> None:
        self._stack.close()
