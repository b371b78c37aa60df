"""racecheck: find concurrency bugs in code that claims, locks, dedups and dispatches work.

The public API lives here; everything else is internal.
"""

from __future__ import annotations

from . import faults, invariants
from ._runtime import RECOVER_WORKER, apoint, current_worker, effect, log, point, section
from .errors import (
    ConfigError,
    DidNotReproduce,
    Inconclusive,
    InfrastructureError,
    RacecheckError,
    RunErrored,
    WorkerCrashed,
)
from .faults import (
    Fault,
    backend_down,
    clock,
    crash,
    db_error,
    delay,
    freeze,
    pause,
    redis_error,
    scrub_env,
)
from .history import Event, History
from .invariants import (
    Violation,
    at_least_once,
    at_most_once,
    custom,
    exactly_once,
    fail_closed,
    fencing,
    mutual_exclusion,
    no_exceptions,
    no_stuck,
)
from .result import RunResult, TrialRecord
from .runner import ReplayResult, replay, run
from .scheduling import Schedule
from .spy import Spy, spy

__version__ = "0.2.0"

__all__ = [
    "RECOVER_WORKER",
    "ConfigError",
    "DidNotReproduce",
    "Inconclusive",
    "RunErrored",
    "Event",
    "Fault",
    "History",
    "InfrastructureError",
    "RacecheckError",
    "ReplayResult",
    "RunResult",
    "Schedule",
    "Spy",
    "TrialRecord",
    "Violation",
    "WorkerCrashed",
    "__version__",
    "apoint",
    "at_least_once",
    "at_most_once",
    "backend_down",
    "clock",
    "crash",
    "current_worker",
    "custom",
    "db_error",
    "delay",
    "effect",
    "exactly_once",
    "fail_closed",
    "faults",
    "fencing",
    "freeze",
    "invariants",
    "log",
    "mutual_exclusion",
    "no_exceptions",
    "no_stuck",
    "pause",
    "point",
    "redis_error",
    "replay",
    "run",
    "scrub_env",
    "section",
    "spy",
]
