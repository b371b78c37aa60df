"""Thread-mode trials: N threads of this process released together by a barrier.

Free (optionally under the noise gate) or under the scheduling controller, which lets one
thread move between points at a time. A thread that crashed at a point is parked until the
run ends (``Runner.release_parked``); a thread still running after the timeout is reported
hung with its stack.
"""

from __future__ import annotations

import sys
import threading
import time
import traceback
from typing import TYPE_CHECKING

from .. import _runtime
from .. import history as h
from ..env_watch import record_env_faults
from ..faults import FaultInjector
from ..hangs import GRACE, still_running
from ..scheduling import Controller
from ..scheduling.async_controller import AsyncController
from ..scheduling.noise import NoiseGate
from .env import apply_env_faults, restore_env
from .trigger import run_trigger

if TYPE_CHECKING:
    from ..runner import Runner
    from ..scheduling import Strategy
    from . import TrialOutcome


class ThreadExecutor:
    """``mode="threads"``."""

    def make_controller(self, runner: Runner, strategy: Strategy) -> Controller:
        cfg = runner.cfg
        return Controller(strategy, cfg.n, quantum=cfg.quantum, fairness=cfg.fairness)

    def run_trial(self, runner: Runner, index: int, injector: FaultInjector,
                  controller: Controller | AsyncController | None, strategy: Strategy | None) -> TrialOutcome:
        assert not isinstance(controller, AsyncController)
        noise = runner.cfg.noise
        gate = controller if controller is not None else (
            NoiseGate(runner.seed, index, noise) if noise > 0 else None)
        return run_thread_trial(runner, index, gate, injector)


def run_thread_trial(runner: Runner, index: int, controller: Controller | NoiseGate | None,
                     injector: FaultInjector) -> TrialOutcome:
    cfg = runner.cfg
    fn = runner.callable_target
    sink = h.Sink()
    rt = _runtime.Runtime(mode="threads", sink=sink, injector=injector, gate=controller,
                          parent_call=runner.parent_call)
    saved_env, applied = apply_env_faults(injector)  # the process's environment: every worker sees these
    barrier = threading.Barrier(cfg.n)
    done = [threading.Event() for _ in range(cfg.n)]
    idents: dict[int, int] = {}

    prepare = getattr(fn, "racecheck_prepare", None)

    def body(i: int) -> None:
        _runtime.set_worker(i)
        idents[i] = threading.get_ident()
        try:
            if prepare is not None:
                try:
                    prepare(i)  # e.g. open a connection so that all requests leave together
                except Exception as exc:  # noqa: BLE001 - the trial reports that no body ran
                    rt.record(h.ERROR, **h.error_payload(exc), stage="prepare")
                    barrier.abort()  # the others must not wait for a worker that will never come
                    return
            try:
                barrier.wait(timeout=cfg.timeout)
            except threading.BrokenBarrierError:
                return
            record_env_faults(rt, applied)
            run_trigger(rt, i, controller, fn, lambda: runner.trigger_args(i), cfg.kwargs)
        finally:
            if controller is not None:
                controller.finish(i)
            done[i].set()

    _runtime.set_active(rt)
    try:
        threads = [threading.Thread(target=body, args=(i,), name=f"racecheck-w{i}", daemon=True)
                   for i in range(cfg.n)]
        for t in threads:
            t.start()
        deadline = time.monotonic() + cfg.timeout
        for i, ev in enumerate(done):
            while not ev.wait(0.05):
                if i in rt.crashed:
                    break
                if time.monotonic() > deadline:
                    break
        hung = [i for i in range(cfg.n) if not done[i].is_set() and i not in rt.crashed]
        stacks: dict[str, str] = {}
        if hung:
            frames = sys._current_frames()
            for i in hung:
                fr = frames.get(idents.get(i, -1))
                if fr is not None:
                    stacks[f"w{i}"] = "".join(traceback.format_stack(fr))
            if isinstance(controller, Controller):
                controller.close()
            for name in still_running([threads[i] for i in hung]):
                runner.trial_notes.append(
                    f"thread {name} was still running {GRACE}s after its trial ended: a trigger that never "
                    "returns keeps running (and using CPU) until the process exits")
        if rt.crashed:
            runner.park(rt)
    finally:
        _runtime.set_active(None)
        restore_env(saved_env)
    return sink.events(), hung, stacks, rt


__all__ = ["ThreadExecutor", "run_thread_trial"]
