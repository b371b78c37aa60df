"""The configuration of a run, validated once so every later step can trust it."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from . import verdict
from .drivers import DRIVERS
from .errors import ConfigError
from .execution import MODES
from .faults import Fault, kind_of
from .invariants import Invariant
from .spy import Spy
from .targets import refuse_generators


@dataclass
class RunConfig:
    """Every option of ``racecheck.run(target, **options)`` (and of ``race.run`` in pytest).

    Attributes:
        target: the trigger: a callable, or ``"module:function"`` (required for processes).
        n: how many simultaneous triggers (workers) per trial.
        trials: how many trials to run (each a fresh interleaving).
        mode: ``"threads"``, ``"processes"`` (spawned interpreters; crash = SIGKILL) or ``"asyncio"``.
        strategy: ``"stress"`` (free-running with noise), ``"random"``, ``"pct"``, ``"dfs"``
            (bounded exhaustive), ``"hypothesis"`` (shrinks to a minimal schedule) or ``"replay"``.
        seed: seed of the strategy and of probabilistic faults (default: random, printed).
        args: positional arguments of every trigger.
        kwargs: keyword arguments of every trigger.
        worker_args: ``worker_args(i) -> tuple``: per-worker positional arguments (replaces ``args``).
        setup: called before every trial (reset tables, flush keys).
        recover: a recovery step run after the workers (e.g. a reclaimer), as worker ``-1``.
        spies: ``racecheck.spy(...)`` objects: calls recorded as effects.
        faults: ``racecheck.crash(...)``, ``db_error(...)``, ...: injected at named points.
        invariants: checks over each trial's history (default: ``no_exceptions``).
        timeout: seconds a trial may take before it is reported as a hang (with stacks).
        stop_on_failure: stop at the first failing trial (``False``: run every trial).
        drivers: which drivers to instrument (``"psycopg"``, ``"redis"``).
        backends: named backends (``{"postgres": db}``) for ``backend_down`` and resets.
        name: the run's name in reports.
        depth: PCT's bug depth (priority change points per trial).
        max_preemptions: DFS's bound on preemptions per schedule.
        schedule: a schedule string (``"rc1:..."``) to follow (``strategy="replay"``).
        quantum: seconds a controlled worker may run between points before it is preempted.
        replay_hint: the replay command printed on failure; ``{schedule}`` is filled in.
        noise: stress only: probability of yielding at a point (0 turns it off).
        fairness: controlled strategies only: a waiting worker passed over this many times
            runs a short burst (0: off).
        start_method: processes only: ``"auto"`` (fork from a warm template when safe),
            ``"fork"`` or ``"spawn"``.
        virtual_time: controlled strategies only: ``time.sleep`` is a point and clocks are
            per-worker virtual.
        instrument: modules whose every line (run by a worker) is a point.
    """

    target: Callable[..., Any] | str
    n: int = 8
    trials: int = 50
    mode: str = "threads"
    strategy: str = "stress"
    seed: int | None = None
    args: tuple[Any, ...] = ()
    kwargs: dict[str, Any] = field(default_factory=dict)
    worker_args: Callable[[int], tuple[Any, ...]] | None = None
    setup: Callable[[], Any] | None = None
    recover: Callable[[], Any] | None = None
    spies: list[Spy] = field(default_factory=list)
    faults: list[Fault] = field(default_factory=list)
    invariants: list[Invariant] | None = None
    timeout: float = 30.0
    stop_on_failure: bool = True
    drivers: tuple[str, ...] = DRIVERS
    backends: dict[str, Any] = field(default_factory=dict)
    name: str = ""
    depth: int = 3
    max_preemptions: int = 2
    schedule: str | None = None
    quantum: float | None = None
    replay_hint: str = ""
    noise: float = 0.5  # stress only: probability of yielding at a point (0 turns it off)
    fairness: int = 16  # controlled only: a waiting worker passed over this many times runs a short burst (0: off)
    start_method: str = "auto"  # processes only: "auto" (fork from a warm template when safe), "fork", "spawn"
    virtual_time: bool = True  # controlled only: time.sleep is a point and clocks are per-worker virtual
    instrument: tuple[str, ...] = ()  # modules whose every line (run by a worker) is a point

    def __post_init__(self) -> None:
        from .validate import check_config

        check_config(self)  # types and ranges of every option, before the first trial
        if self.mode not in MODES:
            raise ConfigError(f"mode {self.mode!r} is not one of {', '.join(MODES)}")
        if self.start_method not in ("auto", "fork", "spawn"):
            raise ConfigError(f"start_method {self.start_method!r} is not one of auto, fork, spawn")
        if not isinstance(self.n, int) or self.n < 1:
            raise ConfigError(f"n (number of triggers) must be an integer >= 1, got {self.n!r}")
        if not isinstance(self.trials, int) or self.trials < 1:
            raise ConfigError(f"trials must be an integer >= 1, got {self.trials!r}")
        if self.timeout <= 0:
            raise ConfigError(f"timeout must be > 0 seconds, got {self.timeout!r}")
        if self.mode == "processes" and not isinstance(self.target, str):
            raise ConfigError(
                "mode 'processes' needs the target as an importable 'module:function' string, "
                f"got {self.target!r}; move it to a module and pass its path"
            )
        for f in self.faults:  # a kind that cannot apply in this mode (freeze outside processes)
            if isinstance(f, Fault):
                kind_of(f.action).check_mode(self.mode)
        if self.schedule and self.strategy == "stress":
            self.strategy = "replay"
        if self.seed is None and self.schedule and self.strategy == "replay":
            from .scheduling.schedule import (
                Schedule,  # the recorded run's seed, so seeded faults match
            )

            self.seed = Schedule.decode(self.schedule).seed
        if self.seed is None:
            self.seed = random.SystemRandom().randrange(1, 2**31)
        if not self.name:
            t = self.target
            self.name = t if isinstance(t, str) else getattr(t, "__qualname__", repr(t))
        if isinstance(self.instrument, str):
            self.instrument = (self.instrument,)
        self.instrument = tuple(self.instrument)
        if not isinstance(self.target, str):
            refuse_generators(self.target, self.name)
        verdict.validate(self)
