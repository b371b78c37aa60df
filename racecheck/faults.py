"""Faults: what to do when a worker reaches a matching point.

A fault names a point (a glob over point labels such as ``spawn_reviewer:after``,
``sql:UPDATE*queued*`` or ``redis:SET*``), which workers, which occurrence and an
action. Specs are plain picklable values so they travel to worker processes; the
exception classes they raise are looked up by name when they fire, so this module
imports no driver.
"""

from __future__ import annotations

import fnmatch
import importlib
import os
import random
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from . import history as h
from .drivers import error_modules, fault_actions
from .errors import ConfigError

if TYPE_CHECKING:
    from ._runtime import Runtime

ACTIONS = (
    "crash",
    "db_error",
    "redis_error",
    "error",
    "backend_down",
    "delay",
    "pause",
    "clock",
    "scrub_env",
    "freeze",
)
SCRUB_WHEN = ("start", "after_import", "before_trigger", "point")

# Actions that raise a named error; a short name is looked up in the modules the driver
# registry gives (the driver at the point first), "error" in builtins.
_ERROR_ACTIONS = (*fault_actions(), "error")


def _error_modules(action: str) -> tuple[str, ...]:
    return ("builtins",) if action == "error" else error_modules(action)


@dataclass(frozen=True)
class Fault:
    """One fault. Build it with the helpers below (``crash``, ``db_error``, ...)."""

    action: str
    at: str = "*"
    workers: tuple[int, ...] | None = None  # None: every worker
    nth: int | None = 1  # fire on the nth matching occurrence per worker (1-based)
    every: bool = False  # fire on every matching occurrence
    probability: float | None = None  # fire with this seeded probability per occurrence
    after: bool = False  # fire after the statement/call completed (ambiguous write)
    params: dict[str, Any] = field(default_factory=dict)
    optional: bool = False  # may legitimately never fire: a run where it did not is still conclusive

    def __post_init__(self) -> None:
        if self.action not in ACTIONS:
            raise ConfigError(
                f"unknown fault action {self.action!r}; use one of {', '.join(ACTIONS)}"
            )
        if self.nth is not None and self.nth < 1:
            raise ConfigError(f"fault {self.action} at {self.at!r}: nth must be >= 1, got {self.nth}")
        if self.probability is not None and not 0.0 <= self.probability <= 1.0:
            raise ConfigError(
                f"fault {self.action} at {self.at!r}: probability must be within 0..1, got {self.probability}"
            )
        validate_glob(self.at, f"fault {self.action}")
        if self.action in _ERROR_ACTIONS and self.params.get("error"):
            resolve_error(self.action, str(self.params["error"]))  # a typo fails here, not mid-trial

    def describe(self) -> str:
        who = "all workers" if self.workers is None else "worker " + ",".join(map(str, self.workers))
        when = "every time" if self.every else (f"p={self.probability}" if self.probability is not None else f"occurrence {self.nth}")
        return f"{self.action} at {self.at!r}{' (after)' if self.after else ''}, {who}, {when}"

    def matches(self, label: str, phase: str) -> bool:
        at = self.at.lower()
        lab = label.lower()
        if self.after:
            if phase == "after":
                return fnmatch.fnmatchcase(lab, at)
            return ":" not in at and fnmatch.fnmatchcase(lab, at + ":after")
        if phase != "before":
            return False
        if fnmatch.fnmatchcase(lab, at):
            return True
        return ":" not in at and (fnmatch.fnmatchcase(lab, at + ":before") or fnmatch.fnmatchcase(lab, at + ":enter"))


def validate_glob(pattern: str, what: str) -> None:
    """Reject point globs that can never match (empty, unbalanced brackets)."""
    if not isinstance(pattern, str) or not pattern.strip():
        raise ConfigError(f"{what}: the point pattern is empty; give a glob such as 'sql:UPDATE*'")
    depth = 0
    for ch in pattern:
        if ch == "[":
            depth += 1
        elif ch == "]" and depth:
            depth -= 1
    if depth:
        raise ConfigError(f"{what}: point pattern {pattern!r} has an unclosed '['; close it or escape it as '[[]'")


def _workers(worker: int | list[int] | tuple[int, ...] | None) -> tuple[int, ...] | None:
    if worker is None:
        return None
    if isinstance(worker, int):
        return (worker,)
    return tuple(int(w) for w in worker)


def _common(
    action: str,
    at: str,
    worker: int | list[int] | None,
    nth: int | None,
    every: bool,
    p: float | None,
    after: bool = False,
    optional: bool = False,
    **params: Any,
) -> Fault:
    if every or p is not None:
        nth = None
    return Fault(action, at, _workers(worker), nth, every, p, after, params, optional)


def crash(at: str, *, worker: int | list[int] | None = None, nth: int = 1, every: bool = False,
          p: float | None = None, after: bool = False, optional: bool = False) -> Fault:
    """Kill the worker at the point: SIGKILL in process mode, park and sever connections in thread mode.

    Args:
        at: the point (a glob: ``"claim"``, ``"sql:insert*"``, ``"redis:SET*"``, a spy's name).
        worker: only in this worker (or these workers); ``None``: any worker.
        nth: fire at the nth time the point is reached in a worker (1 = the first).
        every: fire every time from the nth on, not just once.
        p: fire with this probability each time instead (seeded: replayable).
        after: fire after the statement or call at the point completed, not before it.
        optional: the run may pass without this fault firing (else a fault that never
            fired makes the run inconclusive).
    """
    return _common("crash", at, worker, nth, every, p, after, optional)


def db_error(at: str = "sql:*", error: str = "OperationalError", *, after_commit: bool = False,
             message: str | None = None, worker: int | list[int] | None = None, nth: int = 1,
             every: bool = False, p: float | None = None, optional: bool = False) -> Fault:
    """Fail a matching SQL statement before it is sent, or after it committed (``after_commit``: ack lost).

    Args:
        at: the statement glob (``"sql:*"``, ``"sql:insert into review_run*"``, ``"sql:COMMIT"``).
        error: the psycopg exception class name (``OperationalError``, ``SerializationFailure``, ...).
        after_commit: the statement took effect but the client sees the error (an ambiguous write).
        message: the exception's message.
        worker: only in this worker (or these workers); ``None``: any worker.
        nth: fire at the nth time the point is reached in a worker (1 = the first).
        every: fire every time from the nth on, not just once.
        p: fire with this probability each time instead (seeded: replayable).
        optional: the run may pass without this fault firing (else a fault that never
            fired makes the run inconclusive).
    """
    return _common("db_error", at, worker, nth, every, p, after_commit, optional, error=error, message=message)


def redis_error(at: str = "redis:*", error: str = "ConnectionError", *, message: str | None = None,
                worker: int | list[int] | None = None, nth: int = 1, every: bool = False,
                p: float | None = None, after: bool = False, optional: bool = False) -> Fault:
    """Fail a matching Redis command with a redis-py exception.

    Args:
        at: the command glob (``"redis:*"``, ``"redis:SET*"``).
        error: the redis-py exception class name (``ConnectionError``, ``TimeoutError``, ...).
        message: the exception's message.
        worker: only in this worker (or these workers); ``None``: any worker.
        nth: fire at the nth time the point is reached in a worker (1 = the first).
        every: fire every time from the nth on, not just once.
        p: fire with this probability each time instead (seeded: replayable).
        after: fire after the statement or call at the point completed, not before it.
        optional: the run may pass without this fault firing (else a fault that never
            fired makes the run inconclusive).
    """
    return _common("redis_error", at, worker, nth, every, p, after, optional, error=error, message=message)


def error(at: str, error: str = "RuntimeError", *, message: str | None = None,
          worker: int | list[int] | None = None, nth: int = 1, every: bool = False,
          p: float | None = None, after: bool = False, optional: bool = False) -> Fault:
    """Raise an exception (a builtin name or a dotted path) at the point.

    Args:
        at: the point glob.
        error: the exception: a builtin name (``"TimeoutError"``) or ``"package.module.Class"``.
        message: the exception's message.
        worker: only in this worker (or these workers); ``None``: any worker.
        nth: fire at the nth time the point is reached in a worker (1 = the first).
        every: fire every time from the nth on, not just once.
        p: fire with this probability each time instead (seeded: replayable).
        after: fire after the statement or call at the point completed, not before it.
        optional: the run may pass without this fault firing (else a fault that never
            fired makes the run inconclusive).
    """
    return _common("error", at, worker, nth, every, p, after, optional, error=error, message=message)


def backend_down(at: str, backend: str = "redis", *, how: str = "kill", duration: float = 0.0,
                 worker: int | list[int] | None = None, nth: int = 1, every: bool = False,
                 p: float | None = None, after: bool = False, optional: bool = False) -> Fault:
    """Kill the backend's client connections (``how='kill'``) or stop it for ``duration`` s (``how='stop'``).

    Args:
        at: the point glob where the outage starts.
        backend: ``"postgres"`` or ``"redis"`` (a backend handed to the run with ``backends=``).
        how: ``"kill"`` (drop every client connection) or ``"stop"`` (the server is down).
        duration: seconds the server stays stopped (``how='stop'``).
        worker: only in this worker (or these workers); ``None``: any worker.
        nth: fire at the nth time the point is reached in a worker (1 = the first).
        every: fire every time from the nth on, not just once.
        p: fire with this probability each time instead (seeded: replayable).
        after: fire after the statement or call at the point completed, not before it.
        optional: the run may pass without this fault firing (else a fault that never
            fired makes the run inconclusive).
    """
    if how not in ("kill", "stop"):
        raise ConfigError(f"backend_down: how must be 'kill' or 'stop', got {how!r}")
    return _common("backend_down", at, worker, nth, every, p, after, optional, backend=backend, how=how,
                   duration=duration)


def delay(at: str, seconds: float, *, worker: int | list[int] | None = None, nth: int = 1,
          every: bool = False, p: float | None = None, after: bool = False, optional: bool = False) -> Fault:
    """Sleep at the point (e.g. hold a lease past its TTL).

    Recorded as a ``fault`` event when the point is reached; the command the worker sends next
    is recorded when it is sent, after the sleep.

    Args:
        at: the point glob.
        seconds: how long the worker sleeps.
        worker: only in this worker (or these workers); ``None``: any worker.
        nth: fire at the nth time the point is reached in a worker (1 = the first).
        every: fire every time from the nth on, not just once.
        p: fire with this probability each time instead (seeded: replayable).
        after: fire after the statement or call at the point completed, not before it.
        optional: the run may pass without this fault firing (else a fault that never
            fired makes the run inconclusive).
    """
    return _common("delay", at, worker, nth, every, p, after, optional, seconds=seconds)


pause = delay


def clock(at: str, shift: float, *, worker: int | list[int] | None = None, nth: int = 1,
          every: bool = False, p: float | None = None, after: bool = False, optional: bool = False) -> Fault:
    """Shift ``time.time()`` as the worker sees it by ``shift`` seconds from the point on.

    Args:
        at: the point glob.
        shift: seconds added to the worker's clock (negative: back in time).
        worker: only in this worker (or these workers); ``None``: any worker.
        nth: fire at the nth time the point is reached in a worker (1 = the first).
        every: fire every time from the nth on, not just once.
        p: fire with this probability each time instead (seeded: replayable).
        after: fire after the statement or call at the point completed, not before it.
        optional: the run may pass without this fault firing (else a fault that never
            fired makes the run inconclusive).
    """
    return _common("clock", at, worker, nth, every, p, after, optional, shift=shift)


def freeze(at: str, seconds: float, *, worker: int | list[int] | None = None, nth: int = 1,
           every: bool = False, p: float | None = None, after: bool = False, optional: bool = False) -> Fault:
    """Stop the whole worker process (SIGSTOP, every thread) for ``seconds``; mode 'processes' only.

    Args:
        at: the point glob.
        seconds: how long the process stays stopped before SIGCONT.
        worker: only in this worker (or these workers); ``None``: any worker.
        nth: fire at the nth time the point is reached in a worker (1 = the first).
        every: fire every time from the nth on, not just once.
        p: fire with this probability each time instead (seeded: replayable).
        after: fire after the statement or call at the point completed, not before it.
        optional: the run may pass without this fault firing (else a fault that never
            fired makes the run inconclusive).
    """
    return _common("freeze", at, worker, nth, every, p, after, optional, seconds=seconds)


def scrub_env(names: list[str] | tuple[str, ...] = (), *, set: dict[str, str] | None = None,  # noqa: A002
              when: str = "before_trigger", at: str = "*", worker: int | list[int] | None = None,
              optional: bool = False) -> Fault:
    """Remove (``names``) or change (``set``) environment variables at process start, after import,
    before the trigger, or at a point (``when='point'`` with ``at``).

    Args:
        names: variables to remove.
        set: variables to set (name -> value).
        when: ``"start"`` (process start), ``"after_import"``, ``"before_trigger"`` or ``"point"``.
        at: the point glob when ``when='point'``.
        worker: only in this worker (or these workers).
        optional: the run may pass without this fault firing (else a fault that never
            fired makes the run inconclusive).
    """
    if when not in SCRUB_WHEN:
        raise ConfigError(f"scrub_env: when must be one of {', '.join(SCRUB_WHEN)}, got {when!r}")
    return _common("scrub_env", at, worker, 1, False, None, False, optional,
                   names=list(names), set=dict(set or {}), when=when)


def resolve_error(action: str, name: str) -> type[BaseException]:
    """Find the exception class a fault raises: a short name in the action's modules or a dotted path."""
    candidates = []
    if "." in name:
        mod, _, attr = name.rpartition(".")
        candidates.append((mod, attr))
    modules = _error_modules(action)
    suffixes = ("", "Error") if action != "error" and not name.endswith("Error") else ("",)
    candidates += [(mod, name + s) for mod in modules for s in suffixes]  # asyncpg: UniqueViolationError
    for mod, attr in candidates:
        try:
            obj = getattr(importlib.import_module(mod), attr, None)
        except ImportError:
            continue
        if isinstance(obj, type) and issubclass(obj, BaseException):
            return obj
    where = ", ".join(modules)
    raise ConfigError(f"fault {action}: no exception class {name!r} in {where}; give a class name from there or a dotted path")


def apply_env(fault: Fault) -> None:
    for name in fault.params.get("names", []):
        os.environ.pop(name, None)
    for name, value in fault.params.get("set", {}).items():
        os.environ[name] = value


class FaultInjector:
    """Decides, per worker and occurrence, whether each fault fires, and carries out its action."""

    def __init__(self, faults: list[Fault] | tuple[Fault, ...], seed: int, trial: int) -> None:
        self.faults = list(faults)
        self.seed = seed
        self.trial = trial
        self._counts: dict[tuple[int, int], int] = {}
        self._rngs: dict[tuple[int, int], random.Random] = {}
        self._lock = threading.Lock()
        # Set by Hypothesis search and by replay: who decides probabilistic faults instead of the seed.
        self.decide: Callable[[int, int], bool] | None = None
        self.decisions: list[int] = []
        self.point_faults = [
            (i, f) for i, f in enumerate(self.faults)
            if not (f.action == "scrub_env" and f.params.get("when") != "point")
        ]

    def env_faults(self, when: str, worker: int | None) -> list[Fault]:
        return [
            f for f in self.faults
            if f.action == "scrub_env" and f.params.get("when") == when
            and (f.workers is None or worker is None or worker in f.workers)
        ]

    def _should_fire(self, idx: int, fault: Fault, worker: int) -> bool:
        with self._lock:
            n = self._counts.get((idx, worker), 0) + 1
            self._counts[(idx, worker)] = n
            if fault.every:
                return True
            if fault.probability is not None and self.decide is not None:
                # Hypothesis (or a replayed schedule) chooses; every choice is logged for the schedule.
                fire = bool(self.decide(idx, worker))
                self.decisions.append(int(fire))
                return fire
            if fault.probability is not None:
                rng = self._rngs.get((idx, worker))
                if rng is None:
                    rng = random.Random(f"{self.seed}:{self.trial}:{worker}:{idx}")
                    self._rngs[(idx, worker)] = rng
                return rng.random() < fault.probability
            return n == fault.nth

    def decide_for_worker(self, idx: int, worker: int) -> bool:
        """A probabilistic fault's decision asked by a worker process: made and logged here.

        Hypothesis (or a replayed ``f`` field) decides when set, else the same seeded draw
        the worker would have made; either way the decision joins the schedule string.
        """
        fault = self.faults[idx]
        with self._lock:
            if self.decide is not None:
                fire = bool(self.decide(idx, worker))
            else:
                rng = self._rngs.get((idx, worker))
                if rng is None:
                    rng = random.Random(f"{self.seed}:{self.trial}:{worker}:{idx}")
                    self._rngs[(idx, worker)] = rng
                fire = rng.random() < float(fault.probability or 0.0)
            self.decisions.append(int(fire))
        return fire

    def fire(self, rt: Runtime, worker: int, label: str, phase: str) -> None:
        for idx, fault in self.point_faults:
            if fault.workers is None and worker < 0:
                continue  # the recovery step is faulted only when named explicitly (worker -1)
            if fault.workers is not None and worker not in fault.workers:
                continue
            if not fault.matches(label, phase):
                continue
            if not self._should_fire(idx, fault, worker):
                continue
            rt.record(h.FAULT, fault.action, None, at=label, phase=phase, fault=fault.describe(), index=idx,
                      **{k: v for k, v in fault.params.items() if k in ("error", "how", "seconds", "shift", "backend")})
            self._act(rt, worker, label, fault)

    def _act(self, rt: Runtime, worker: int, label: str, fault: Fault) -> None:
        action = fault.action
        apply = _APPLY.get(action)
        if apply is not None:
            apply(rt, worker, label, fault)
        elif action == "crash":
            rt.crash(worker, label)
        elif action in ("db_error", "redis_error", "error"):
            cls = resolve_error(action, fault.params.get("error") or "RuntimeError")
            msg = fault.params.get("message") or f"racecheck injected {cls.__name__} at {label}"
            raise cls(msg)
        elif action in ("delay", "pause"):
            rt.fault_sleep(float(fault.params.get("seconds", 0.0)))
        elif action == "clock":
            rt.shift_clock(worker, float(fault.params.get("shift", 0.0)))
        elif action == "scrub_env":
            apply_env(fault)
        elif action == "backend_down":
            if rt.parent_call is None:
                raise ConfigError("backend_down needs the runner to know the backend; pass backends={...} to run()")
            # The backend handle's own admin statements/commands (pg_terminate_backend, CLIENT KILL)
            # run as nobody: they are not the worker's history, points or connections.
            from . import _runtime

            token = _runtime.set_worker(None)
            try:
                rt.parent_call("backend_down", dict(fault.params))
            finally:
                _runtime._worker.reset(token)


def _apply_freeze(rt: Runtime, worker: int, label: str, fault: Fault) -> None:
    from .process_freeze import apply_freeze

    apply_freeze(rt, worker, label, fault)


# Fault kinds applied by their own function (new kinds register here).
_APPLY: dict[str, Callable[[Runtime, int, str, Fault], None]] = {"freeze": _apply_freeze}
