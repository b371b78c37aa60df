"""What the runner says about a trial that did not finish, and the bounded calls around a trial.

A trial that timed out is a *deadlock* only when a wait cycle is proven: today by
PostgreSQL (``pg_blocking_pids`` among the backends of the run's database); a set of
workers the controller saw blocked is not proof (they may wait on a socket, a sleep or
a lock held outside the run), so that is a *hang*. ``setup()``, ``recover()`` and the
invariants run bounded: one that raises or outlives the trial timeout becomes an entry
in ``TrialRecord.errors`` naming it, instead of a traceback or a run that never ends.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from .daemon_pool import DaemonPool
from .invariants import Violation

if TYPE_CHECKING:
    from .result import TrialRecord

GRACE = 1.0  # seconds a worker thread may take to unwind after its trial ended


_HELPERS = DaemonPool("racecheck-helper")  # a helper whose call did not return is never reused


def bounded(fn: Callable[[], Any], timeout: float, what: str) -> str | None:
    """Run ``fn`` in a helper thread for at most ``timeout`` s; the error text, or None when it returned.

    The helper thread is reused by the next call (a thread start per trial's ``setup()`` cost
    more than a fast database reset), unless this call did not return in time.
    """
    failure: list[str] = []

    def body() -> None:
        threading.current_thread().name = f"racecheck-{what.split('(')[0]}"
        try:
            fn()
        except BaseException as exc:  # noqa: BLE001 - reported as the run's error
            failure.append(f"{what} raised {type(exc).__name__}: {exc}")

    if not _HELPERS.submit(body).wait(timeout):
        return (f"{what} did not finish within the trial timeout ({timeout}s); make it return, "
                "or raise the run's timeout=")
    return failure[0] if failure else None


def check_invariants(trial: TrialRecord, invariants: Iterable[Any]) -> None:
    """Run each invariant over the trial; one that raises is an error naming it and the trial."""
    for invariant in invariants:
        name = getattr(invariant, "name", type(invariant).__name__)
        try:
            trial.violations.extend(invariant.check(trial))
        except Exception as exc:  # noqa: BLE001 - a broken check is racecheck's error, not the target's
            trial.errors.append(f"invariant {name!r} raised {type(exc).__name__}: {exc} in trial "
                                f"{trial.index + 1}; fix the check (it receives the trial's history)")


def before_the_hang(trial: TrialRecord, invariants: Iterable[Any]) -> None:
    """Check a hung trial's partial history: what broke before the hang is still reported.

    Only safety violations count there: a "never happened" (an effect a hung worker did not
    get to) is the hang's consequence, already reported as the hang.
    """
    hang = list(trial.violations)
    trial.violations = []
    check_invariants(trial, invariants)
    kept = [Violation(v.invariant, f"{v.message} (before the hang)", v.keys, v.workers, v.times, v.certain)
            for v in trial.violations if "never happened" not in v.message]
    trial.violations = hang + kept


def proven_cycle(backends: dict[str, Any]) -> list[int] | None:
    """Backend pids in a PostgreSQL wait cycle in one of the run's databases, or None if none is proven."""
    for handle in backends.values():
        url = getattr(handle, "url", None)
        if not isinstance(url, str) or not url.startswith(("postgres://", "postgresql://")):
            continue
        try:
            cycle = _pg_cycle(url)
        except Exception:  # noqa: BLE001 - no proof, then: it stays a hang
            continue
        if cycle:
            return cycle
    return None


def _pg_cycle(url: str) -> list[int] | None:
    import psycopg

    from . import _runtime

    token = _runtime.set_worker(None)  # the query is racecheck's, not a worker's
    try:
        with psycopg.connect(url, autocommit=True, connect_timeout=3) as conn:
            rows = conn.execute(
                "SELECT pid, pg_blocking_pids(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()").fetchall()
    finally:
        _runtime._worker.reset(token)
    waits = {int(pid): [int(b) for b in blockers or []] for pid, blockers in rows}
    return find_cycle(waits)


def find_cycle(waits: dict[int, list[int]]) -> list[int] | None:
    """A cycle in a waits-for graph (node -> nodes it waits for), or None."""
    state: dict[int, int] = {}  # 1: on the path, 2: done
    path: list[int] = []

    def visit(n: int) -> list[int] | None:
        state[n] = 1
        path.append(n)
        for m in waits.get(n, []):
            if state.get(m) == 1:
                return path[path.index(m):]
            if m not in state and (c := visit(m)):
                return c
        path.pop()
        state[n] = 2
        return None

    for n in list(waits):
        if n not in state and (c := visit(n)):
            return c
    return None


def hang_violation(hung: list[int], timeout: float, cycle: list[int] | None) -> Violation:
    who = ", ".join(f"w{w}" for w in hung)
    if cycle:
        return Violation("deadlock", f"worker(s) {who} did not finish within {timeout}s: PostgreSQL backends "
                         f"{', '.join(map(str, cycle))} wait for each other in a cycle; stacks below", (), tuple(hung))
    return Violation("hang", f"worker(s) {who} did not finish within {timeout}s (no wait cycle proven: "
                     "a lock, a socket or a loop that never returns); stacks below", (), tuple(hung))


def still_running(threads: Iterable[threading.Thread], grace: float = GRACE) -> list[str]:
    """Names of worker threads still alive ``grace`` s after their trial ended (they cannot be stopped)."""
    alive = [t for t in threads if t.is_alive()]
    for t in alive:
        t.join(grace / max(1, len(alive)))
    return [t.name for t in alive if t.is_alive()]
