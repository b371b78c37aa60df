"""Every error racecheck raises derives from RacecheckError, so ``except RacecheckError`` catches them all."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import racecheck
from racecheck.errors import RacecheckError

# Not racecheck failures: control-flow unwinders, the outcomes a user's HTTP/command trigger
# records in the history, the pytest failure of a scenario that broke its ``expect``, the
# verdicts ``assert_ok()`` raises (AssertionErrors: a test outcome, not a racecheck fault) and
# the pytest warning of an unread inconclusive verdict.
NOT_RACECHECK_ERRORS = {
    "racecheck.errors.Inconclusive",
    "racecheck.errors.RunErrored",
    "racecheck.pytest_options.InconclusiveWarning",
    "racecheck.errors.WorkerCrashed",
    "racecheck.hypothesis_search._Found",
    "racecheck.external.http.HttpStatusError",
    "racecheck.external.command.CommandFailed",
    "racecheck.scenario.pytest_collect.ScenarioFailed",
}


def _racecheck_exceptions() -> list[type[BaseException]]:
    found = []
    for info in pkgutil.walk_packages(racecheck.__path__, "racecheck."):
        if info.name.endswith("__main__"):
            continue
        module = importlib.import_module(info.name)
        for _, obj in inspect.getmembers(module, inspect.isclass):
            if issubclass(obj, BaseException) and obj.__module__ == info.name:
                found.append(obj)
    return found


def test_every_racecheck_exception_has_the_one_root() -> None:
    classes = _racecheck_exceptions()
    names = {f"{c.__module__}.{c.__qualname__}" for c in classes}
    assert {"racecheck.backends.errors.BackendError", "racecheck.scenario.loader.ScenarioError",
            "racecheck.external.service.ServiceError"} <= names
    stray = sorted(n for c, n in ((c, f"{c.__module__}.{c.__qualname__}") for c in classes)
                   if not issubclass(c, RacecheckError) and n not in NOT_RACECHECK_ERRORS)
    assert stray == []
