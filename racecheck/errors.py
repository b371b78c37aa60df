"""Every error racecheck raises derives from RacecheckError; each message names the thing and the fix."""

from __future__ import annotations


class RacecheckError(Exception):
    """Root of racecheck's own errors."""


class ConfigError(RacecheckError):
    """A run, fault, spy or invariant was configured wrongly (exit code 2 in the CLI)."""


class InfrastructureError(RacecheckError):
    """No backend could be provided or a worker process could not start (exit code 3 in the CLI)."""


class DidNotReproduce(RacecheckError):
    """A replayed schedule ran K times and never showed the violation it was recorded with."""


class WorkerCrashed(BaseException):
    """Unwinds a thread-mode worker parked by a crash fault once its run is over.

    A BaseException so that ordinary ``except Exception`` handlers in user code do not
    swallow it.
    """


class Inconclusive(AssertionError):
    """``assert_ok()`` on a run that found no violation but could not have shown one (see docs/verdicts.md)."""


class RunErrored(Inconclusive):
    """``assert_ok()`` on a run in which racecheck itself failed (an invariant or setup() raised)."""
