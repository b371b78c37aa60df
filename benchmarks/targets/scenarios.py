"""The scenarios the detection benchmark runs: one buggy target, its fixed twins, and how to judge a trial.

Each scenario is provisioned by a context manager (it owns its backend for the
duration) and gives both racecheck's view (spies + invariants) and a hand-written
judge (``found()``) for the baselines that do not use racecheck.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import racecheck

from . import dispatcher, infra


@dataclass
class Scenario:
    name: str
    backend: str
    buggy: Callable[..., Any]
    fixed: dict[str, Callable[..., Any]]
    setup: Callable[[], None]
    found: Callable[[], bool]
    spies: list[Any]
    invariants: list[Any]
    run_kwargs: dict[str, Any] = field(default_factory=dict)
    frontrun: dict[str, str] | None = None  # variant -> frontrun_dispatch.py variant name
    url: str = ""
    note: str = ""


@contextlib.contextmanager
def check_then_insert(n: int) -> Iterator[Scenario]:
    """The check-then-insert dispatcher on a real Postgres database, ``n`` pooled connections."""
    with infra.postgres(dispatcher.SCHEMA, dispatcher.TABLES) as pg:
        dispatcher.configure(pg.url, max(n, 2))

        def setup() -> None:
            pg.reset()
            dispatcher.clear()

        try:
            yield Scenario(
                name="check-then-insert (Postgres)",
                backend="postgres",
                buggy=dispatcher.dispatch_buggy,
                fixed={"advisory lock": dispatcher.dispatch_advisory,
                       "unique index + ON CONFLICT": dispatcher.dispatch_unique},
                setup=setup,
                found=lambda: dispatcher.duplicates() > 0,
                spies=[racecheck.spy("benchmarks.targets.dispatcher:spawn", key="key")],
                invariants=[racecheck.at_most_once("spawn"), racecheck.no_exceptions()],
                run_kwargs={"worker_args": lambda i: (i,)},
                frontrun={"buggy": "buggy-returning", "buggy, INSERT without RETURNING": "buggy-plain",
                          "advisory lock": "advisory", "unique index + ON CONFLICT": "unique"},
                url=pg.url,
                note="SELECT by key, spawn (spied), INSERT with no constraint; fixed twins: "
                     "pg_advisory_xact_lock, or unique index + INSERT ... ON CONFLICT DO NOTHING RETURNING.",
            )
        finally:
            dispatcher.close()


@contextlib.contextmanager
def check_then_insert_connect(n: int) -> Iterator[Scenario]:
    """The same dispatcher written the usual way: every trigger opens its own connection first."""
    with check_then_insert(n) as base:
        base.name = "check-then-insert, connection per trigger (Postgres)"
        base.buggy = dispatcher.dispatch_buggy_connect
        base.fixed = {"unique index + ON CONFLICT": dispatcher.dispatch_unique_connect}
        base.frontrun = {"buggy": "buggy-connect"}
        base.note = ("As above, but each trigger runs `psycopg.connect()` before its SELECT, as hand-written "
                     "handlers do: connect time (milliseconds, jittery) comes before the race window.")
        yield base


SCENARIOS: list[Callable[[int], contextlib.AbstractContextManager[Scenario]]] = [check_then_insert, check_then_insert_connect]
