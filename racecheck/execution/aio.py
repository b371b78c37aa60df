"""One asyncio trial: N trigger tasks on one fresh event loop, free or under the asyncio gate.

Under a controlled strategy every task first arrives at the ``start`` point of the
:class:`~racecheck.scheduling.async_controller.AsyncController`, which then lets one task
move between points at a time. A task that crashed at an async point is parked (its
``finally`` blocks do not run, as in a killed process) until the trial is over; it is then
cancelled and unwinds as nobody, so nothing it does lands in the history.
"""

from __future__ import annotations

import asyncio
import sys
import threading
import traceback
from typing import TYPE_CHECKING

from .. import _runtime
from .. import history as h
from ..env_watch import record_env_faults
from ..faults import FaultInjector
from ..hangs import GRACE
from ..scheduling import Controller
from ..scheduling.async_controller import AsyncController, task_frames
from .env import apply_env_faults, restore_env
from .trigger import run_trigger_async

if TYPE_CHECKING:
    from ..runner import Runner
    from ..scheduling import Strategy
    from . import TrialOutcome


class AsyncioExecutor:
    """``mode="asyncio"``."""

    def make_controller(self, runner: Runner, strategy: Strategy) -> AsyncController:
        cfg = runner.cfg
        return AsyncController(strategy, cfg.n, fairness=cfg.fairness, force_after=cfg.quantum or 0.02)

    def run_trial(self, runner: Runner, index: int, injector: FaultInjector,
                  controller: Controller | AsyncController | None, strategy: Strategy | None) -> TrialOutcome:
        assert not isinstance(controller, Controller)
        return run_asyncio_trial(runner, injector, controller)


def run_asyncio_trial(runner: Runner, injector: FaultInjector, controller: AsyncController | None
                      ) -> TrialOutcome:
    cfg = runner.cfg
    fn = runner.callable_target
    sink = h.Sink()
    rt = _runtime.Runtime(mode="asyncio", sink=sink, injector=injector, gate=controller,
                          parent_call=runner.parent_call)
    hung: list[int] = []
    stacks: dict[str, str] = {}

    async def body(i: int, barrier: asyncio.Barrier, settled: asyncio.Event) -> None:
        _runtime.set_worker(i)
        try:
            await barrier.wait()
            record_env_faults(rt, applied)
            await run_trigger_async(rt, i, controller, fn, lambda: runner.trigger_args(i), cfg.kwargs)
        finally:
            if controller is not None:
                controller.finish(i)
            settled.set()

    async def main() -> None:
        barrier = asyncio.Barrier(cfg.n)
        settled = [asyncio.Event() for _ in range(cfg.n)]
        rt.on_park = lambda w: settled[w].set()
        tasks = [asyncio.create_task(body(i, barrier, settled[i]), name=f"racecheck-w{i}")
                 for i in range(cfg.n)]

        async def all_settled() -> None:
            for ev in settled:
                await ev.wait()

        try:
            await asyncio.wait_for(all_settled(), timeout=cfg.timeout)
        except TimeoutError:
            for i, t in enumerate(tasks):
                if not t.done() and i not in rt.crashed:
                    hung.append(i)
                    stacks[f"w{i}"] = "".join(
                        "".join(traceback.format_stack(f, limit=1)) for f in task_frames(t)[:30])
        if controller is not None:
            controller.close()
        for t in tasks:
            if not t.done():
                t.cancel()  # hung, or parked by a crash: unwinds as nobody
        await asyncio.gather(*tasks, return_exceptions=True)

    saved_env, applied = apply_env_faults(injector)  # the process's environment: every worker sees these
    _runtime.set_active(rt)
    loop_thread = threading.Thread(target=asyncio.run, args=(main(),), name="racecheck-loop", daemon=True)
    try:
        # A trigger that blocks the event loop (time.sleep, a sync driver) stops the loop's own
        # timeout from firing: this thread's join is the watchdog that notices.
        loop_thread.start()
        loop_thread.join(cfg.timeout + 2 * GRACE)
        if loop_thread.is_alive():
            ended = {e.worker for e in sink.events() if e.kind in (h.END, h.ERROR)}
            hung[:] = [i for i in range(cfg.n) if i not in ended]
            fr = sys._current_frames().get(loop_thread.ident or -1)
            if fr is not None:
                stacks["event loop"] = "".join(traceback.format_stack(fr))
            runner.trial_notes.append(f"the event loop was blocked for over {cfg.timeout}s (a trigger "
                                      "called blocking code without await); its thread keeps running")
    finally:
        _runtime.set_active(None)
        restore_env(saved_env)
    return sink.events(), hung, stacks, rt


__all__ = ["AsyncioExecutor", "run_asyncio_trial"]
