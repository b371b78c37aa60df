"""The recovery step after a trial: ``recover()`` run once, bounded, as the recovery worker.

It runs as a thread-mode runtime of its own (with the trial's injector), between
``recover_begin`` and ``recover_end`` events that join the trial's history; a recovery that
raises is an ``error`` event of the recovery worker, one that overruns the timeout a trial error.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .. import _runtime
from .. import history as h
from ..hangs import bounded

if TYPE_CHECKING:
    from ..runner import Runner


def run_recovery(runner: Runner, rt: _runtime.Runtime) -> list[h.Event]:
    """Run ``runner.cfg.recover`` after a trial whose runtime was ``rt``; return its events."""
    sink = h.Sink()
    rrt = _runtime.Runtime(mode="threads", sink=sink, injector=rt.injector, gate=None,
                           parent_call=runner.parent_call)
    _runtime.set_active(rrt)
    token = _runtime.set_worker(_runtime.RECOVER_WORKER)
    recover = runner.cfg.recover
    assert recover is not None

    def step() -> None:
        _runtime.set_worker(_runtime.RECOVER_WORKER)  # the helper thread runs as the recovery step
        try:
            recover()
        except Exception as exc:  # noqa: BLE001 - a failing recovery is reported, not raised
            rrt.record(h.ERROR, **h.error_payload(exc))

    try:
        rrt.record(h.RECOVER_BEGIN)
        if err := bounded(step, runner.cfg.timeout, "recover()"):
            runner.trial_errors.append(err)
        rrt.record(h.RECOVER_END)
    finally:
        _runtime._worker.reset(token)
        _runtime.set_active(None)
    return sink.events()


__all__ = ["run_recovery"]
