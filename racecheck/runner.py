"""The trial runner: N triggers released together, repeated for many trials.

Threads, spawned processes and asyncio tasks share one loop: set up, run the trial
(the mode's executor in ``racecheck.execution``), recover, check invariants. Every trial is bounded by a timeout; a trigger that hangs is
reported with its stack and ends the run instead of hanging CI.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from . import _runtime, replay_lines, verdict
from . import history as h
from .config import RunConfig
from .drivers import install_drivers
from .env_watch import install_env_watch
from .errors import ConfigError, DidNotReproduce
from .execution import executor_for
from .execution.outages import BackendOutages
from .execution.recovery import run_recovery
from .explain import explain_trial
from .faults import FaultInjector
from .hangs import (
    before_the_hang,
    bounded,
    check_invariants,
    hang_violation,
    proven_cycle,
)
from .invariants import NoExceptions
from .result import RunResult, TrialRecord
from .scheduling import Controller, Replay, Schedule, Strategy, make_strategy
from .scheduling.async_controller import AsyncController
from .search_hooks import install_search
from .spy import install_spies, load_callable
from .targets import refuse_generators
from .validate import check_keywords

_run_lock = threading.Lock()


def run(target: Callable[..., Any] | str, **options: Any) -> RunResult:
    """Run ``target`` as N simultaneous triggers for many trials and check the invariants.

    Every option (``n``, ``trials``, ``strategy``, ``kwargs``, ``worker_args``, ``recover``,
    ``timeout``, ``stop_on_failure``, ``noise``, ``fairness``, ...) is described on
    [RunConfig][racecheck.config.RunConfig]. Returns a [RunResult][racecheck.result.RunResult].
    """
    check_keywords(options, RunConfig)
    cfg = RunConfig(target=target, **options)
    return Runner(cfg).run()


def replay(target: Callable[..., Any] | str, schedule: str, *, times: int = 10, **options: Any) -> ReplayResult:
    """Replay a recorded schedule ``times`` times; raise DidNotReproduce if it never fails again."""
    check_keywords(options, RunConfig)
    sched = Schedule.decode(schedule)
    bare = not options
    if bare:  # the printed line ``racecheck.replay(target, 'rc1:...')``: the run's own options
        options = replay_lines.options_for(schedule)
    unknown = bare and not options
    options.update(n=sched.n, seed=sched.seed, strategy="replay", schedule=schedule, trials=1)
    hits = 0
    last: RunResult | None = None
    for _ in range(times):
        cfg = RunConfig(target=target, **options)
        runner = Runner(cfg)
        res = runner.run()
        if not res.ok:
            hits += 1
            last = res
    out = ReplayResult(schedule, hits, times, last)
    if hits == 0:
        raise DidNotReproduce(
            f"schedule {schedule} did not reproduce in {times} replays: fixed, or timing-dependent"
            + ("; no run in this process recorded it, so it replayed without the run's options: pass its "
               "invariants, faults, setup, args as keywords" if unknown else "")
        )
    return out


class ReplayResult:
    def __init__(self, schedule: str, reproduced: int, times: int, result: RunResult | None) -> None:
        self.schedule, self.reproduced, self.times, self.result = schedule, reproduced, times, result

    def __str__(self) -> str:
        return f"reproduced {self.reproduced}/{self.times}"


class Runner:
    def __init__(self, cfg: RunConfig) -> None:
        self.cfg = cfg
        # a replayed schedule runs as the trial it recorded (its seeded fault draws depend on it)
        self.first_trial = Schedule.decode(cfg.schedule).trial if cfg.schedule and cfg.strategy == "replay" else 0
        self.seed = int(cfg.seed or 0)
        self._outages = BackendOutages()
        self._parked: list[_runtime.Runtime] = []
        self._pool: Any = None
        self.worker_start = ""  # processes: how the workers started (set by the process pool)
        self.fault_decider: Callable[[int, int], bool] | None = None  # Hypothesis decides faults
        self.trial_injector: FaultInjector | None = None  # the running trial's (process workers ask it)

    def pool(self, make: Callable[[Runner], Any]) -> Any:
        """The run's workers-to-be (``make(self)`` on first use), closed when the run ends."""
        if self._pool is None:
            self._pool = make(self)
        return self._pool

    def process_pool(self) -> Any:
        from .execution.processes import ProcessPool

        return self.pool(ProcessPool)

    def close_pool(self) -> None:
        if self._pool is not None:
            self._pool.close()
            self._pool = None

    # -- public ------------------------------------------------------------------------
    def run(self) -> RunResult:
        cfg = self.cfg
        if cfg.strategy == "hypothesis":
            from .hypothesis_search import run_with_hypothesis

            return run_with_hypothesis(self)
        strategy = make_strategy(cfg.strategy, seed=self.seed, depth=cfg.depth,
                                 max_preemptions=cfg.max_preemptions, schedule=cfg.schedule)
        trials: list[TrialRecord] = []
        t_start = time.monotonic()
        exhausted = False
        aborted = None
        with self._instrumented():
            for i in range(self.first_trial, self.first_trial + cfg.trials):
                trial = self.run_trial(i, strategy)
                trials.append(trial)
                if trial.hung or trial.errors:
                    aborted = (trial.violations[0].invariant if trial.violations else "hang") if trial.hung else "error"
                    break
                if trial.violations and cfg.stop_on_failure:
                    break
                if strategy is not None and strategy.exhausted():
                    exhausted = True
                    break
        return self.result(trials, time.monotonic() - t_start, exhausted, aborted)

    def result(self, trials: list[TrialRecord], elapsed: float, exhausted: bool, aborted: str | None) -> RunResult:
        cfg = self.cfg
        replay_lines.remember(cfg, [t.schedule for t in trials if t.schedule and t.violations])
        res = RunResult(cfg.name, cfg.n, cfg.mode, cfg.strategy, self.seed, trials, cfg.trials, elapsed,
                        exhausted, aborted, cfg.replay_hint or replay_lines.python_hint(cfg.target))
        res.worker_start = self.worker_start
        return verdict.judge(cfg, res)

    # -- instrumentation lifetime --------------------------------------------------------
    def _instrumented(self) -> _Instrumented:
        return _Instrumented(self)

    # -- one trial -----------------------------------------------------------------------
    def run_trial(self, index: int, strategy: Strategy | None) -> TrialRecord:
        cfg = self.cfg
        self.trial_notes: list[str] = []
        self.trial_errors: list[str] = []
        if cfg.setup is not None and (err := bounded(cfg.setup, cfg.timeout, "setup()")):
            now = time.monotonic_ns()
            return TrialRecord(index, h.History(), now, now, errors=[f"trial {index + 1}: {err}"])
        executor = executor_for(cfg.mode)
        controller: Controller | AsyncController | None = None
        if strategy is not None:
            strategy.begin_trial(index, cfg.n)
            controller = executor.make_controller(self, strategy)
        injector = FaultInjector(cfg.faults, self.seed, index)
        if self.fault_decider is not None:
            injector.decide = self.fault_decider
        elif isinstance(strategy, Replay) and strategy.schedule.faults:
            recorded = iter(strategy.schedule.faults)
            injector.decide = lambda idx, worker: bool(next(recorded, 0))
        t0 = time.monotonic_ns()
        self.trial_injector = injector
        try:
            events, hung, stacks, rt = executor.run_trial(self, index, injector, controller, strategy)
        finally:
            if controller is not None:
                controller.close()
            if strategy is not None:
                strategy.end_trial()
        self._outages.restore()
        if not hung and cfg.recover is not None:
            events += run_recovery(self, rt)
        t_end = time.monotonic_ns()
        schedule = None
        if controller is not None:
            schedule = Schedule(cfg.n, self.seed, index, tuple(controller.choices),
                                tuple(injector.decisions)).encode()
        if events:
            t0 = min(e.t for e in events)  # time zero is the first event, not process spawn
        trial = TrialRecord(index, h.History(events), t0, t_end, schedule, [], bool(hung), stacks,
                            self.trial_errors, self.trial_notes)
        invariants = cfg.invariants if cfg.invariants is not None else [NoExceptions()]
        if hung:
            trial.violations.append(hang_violation(hung, cfg.timeout, proven_cycle(cfg.backends)))
            before_the_hang(trial, invariants)
            return trial
        check_invariants(trial, invariants)
        explain_trial(trial)
        verdict.note_trial(cfg, trial)
        return trial

    def has_trial_after(self, index: int, strategy: Strategy | None) -> bool:
        """Whether a trial may follow trial ``index`` (the executors start its workers ahead)."""
        return index + 1 < self.first_trial + self.cfg.trials and not (
            strategy is not None and strategy.exhausted())

    def trigger_args(self, worker: int) -> tuple[Any, ...]:
        if self.cfg.worker_args is not None:
            return tuple(self.cfg.worker_args(worker))
        return tuple(self.cfg.args)

    @property
    def callable_target(self) -> Callable[..., Any]:
        t = self.cfg.target
        fn = load_callable(t) if isinstance(t, str) else t
        refuse_generators(fn, self.cfg.name)
        return fn

    # -- actions the workers ask the runner to carry out ----------------------------------
    def parent_call(self, action: str, params: dict[str, Any]) -> Any:
        if action == "decide" and self.trial_injector is not None:  # a worker process's fault decision
            return self.trial_injector.decide_for_worker(int(params["idx"]), int(params["worker"]))
        if action == "freeze":
            from .process_freeze import freeze_process

            return freeze_process(params)
        if action != "backend_down":
            raise ConfigError(f"unknown runner action {action!r}")
        return self._outages.backend_down(self.cfg.backends, params)

    def park(self, rt: _runtime.Runtime) -> None:
        """Keep a trial's runtime whose crashed threads wait, parked, until the run ends."""
        self._parked.append(rt)

    def release_parked(self) -> None:
        for rt in self._parked:
            rt.trial_over.set()
        self._parked.clear()


class _Instrumented:
    """Spies, drivers, the clock and the log handler are installed for the whole run."""

    def __init__(self, runner: Runner) -> None:
        self.runner = runner
        self.undo: list[Callable[[], None]] = []

    def __enter__(self) -> _Instrumented:
        if not _run_lock.acquire(blocking=False):
            raise ConfigError("a racecheck run is already active in this process; runs cannot nest")
        try:
            cfg = self.runner.cfg
            self.undo.append(install_drivers(cfg.drivers))
            self.undo.append(install_spies(cfg.spies))
            self.undo.append(_runtime.install_log_handler())
            self.undo.append(install_env_watch(cfg.faults))
            if any(f.action == "clock" for f in cfg.faults):
                self.undo.append(_runtime.patch_clock())
            self.undo.append(install_search(cfg))
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            for u in reversed(self.undo):
                u()
            self.runner.release_parked()
            self.runner.close_pool()
        finally:
            _run_lock.release()


__all__ = ["ReplayResult", "Runner", "run", "replay", "DidNotReproduce"]
