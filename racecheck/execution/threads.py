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
from collections.abc import Callable
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
from .one_cpu import pin_this_thread, start_threads_here, trial_cpu, unpin_this_thread
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
        return run_thread_trial(runner, index, gate, injector, runner.has_trial_after(index, strategy))


class _Crew:
    """The n fresh threads of one trial, started ahead of it: each waits for the trial's body.

    ``allowed``: the CPUs each thread takes back before it waits (its starter was pinned to one
    CPU, so that the starts were quick)."""

    def __init__(self, n: int, allowed: set[int] | None = None) -> None:
        self._go = threading.Event()
        self._body: Callable[[int], None] | None = None
        self._allowed = allowed
        self.threads = [threading.Thread(target=self._wait, args=(i,), name=f"racecheck-w{i}", daemon=True)
                        for i in range(n)]
        for t in self.threads:
            t.start()

    def _wait(self, i: int) -> None:
        if self._allowed is not None:
            unpin_this_thread(self._allowed)
        self._go.wait()
        if self._body is not None:
            self._body(i)

    def run(self, body: Callable[[int], None]) -> None:
        self._body = body
        self._go.set()

    def dismiss(self) -> None:
        self._go.set()  # no body: each thread returns at once


class SpareThreads:
    """Starts the next trial's threads while this trial is judged and the next one set up.

    A thread start costs about a quarter of a millisecond on a busy 2-core machine, mostly
    waiting for the new thread to be scheduled; eight of them were the largest part of a
    stress trial against a fast database reset. Every trial still gets threads that never
    ran anything (thread-local state is fresh per trial, as before).
    """

    def __init__(self, runner: Runner) -> None:
        self.n = runner.cfg.n
        self._next: _Crew | None = None
        self._maker: threading.Thread | None = None

    def take(self) -> _Crew:
        self._join()
        crew, self._next = self._next, None
        return crew if crew is not None else _Crew(self.n)

    def prepare_next(self) -> None:
        self._maker = threading.Thread(target=self._make, name="racecheck-prefetch", daemon=True)
        self._maker.start()

    def _make(self) -> None:
        # this maker thread ends here: pinning it for the starts changes no other thread
        self._next = _Crew(self.n, start_threads_here())

    def _join(self) -> None:
        if self._maker is not None:
            self._maker.join()
            self._maker = None

    def close(self) -> None:
        self._join()
        if self._next is not None:
            self._next.dismiss()
            self._next = None


def run_thread_trial(runner: Runner, index: int, controller: Controller | NoiseGate | None,
                     injector: FaultInjector, more: bool = False) -> TrialOutcome:
    cfg = runner.cfg
    fn = runner.callable_target
    sink = h.Sink()
    rt = _runtime.Runtime(mode="threads", sink=sink, injector=injector, gate=controller,
                          parent_call=runner.parent_call)
    saved_env, applied = apply_env_faults(injector)  # the process's environment: every worker sees these
    prepare = getattr(fn, "racecheck_prepare", None)
    # The crew's threads are all started and waiting, and one event releases them together:
    # a barrier is needed only behind a per-worker prepare step.
    barrier = threading.Barrier(cfg.n) if prepare is not None else None
    done = [threading.Event() for _ in range(cfg.n)]
    idents: dict[int, int] = {}
    cpu = trial_cpu() if isinstance(controller, Controller) else None

    def body(i: int) -> None:
        _runtime.set_worker(i)
        if cpu is not None:
            pin_this_thread(cpu)  # one worker moves at a time: handoffs stay on one CPU
        idents[i] = threading.get_ident()
        try:
            if prepare is not None and barrier is not None:
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

    spares = runner.pool(SpareThreads)
    crew = spares.take()
    threads = crew.threads
    _runtime.set_active(rt)
    try:
        crew.run(body)
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
    if more:
        spares.prepare_next()
    return sink.events(), hung, stacks, rt


__all__ = ["ThreadExecutor", "run_thread_trial"]
