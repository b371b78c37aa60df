"""The built-in fault kinds, in the order the docs and the YAML schema list them.

A new kind: a module under ``racecheck/faults/kinds/`` (its constructor and its FaultKind), one
line here, and its section in docs/faults.md; ``racecheck.faults`` exports the constructor.
"""

from __future__ import annotations

from .kind import FaultKind, register
from .kinds import backend_down, clock, crash, delay, freeze, raised, scrub_env

REGISTRY: tuple[FaultKind, ...] = (
    crash.KIND,
    raised.DB_ERROR,
    raised.REDIS_ERROR,
    raised.ERROR,
    backend_down.KIND,
    delay.DELAY,
    delay.PAUSE,
    clock.KIND,
    scrub_env.KIND,
    freeze.KIND,
)

for _kind in REGISTRY:
    register(_kind)
