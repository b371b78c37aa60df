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
    args: Callable[[int], tuple[Any, ...]] = lambda i: (i,)
    fixed_setup: dict[str, Callable[[], None]] = field(default_factory=dict)


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


@contextlib.contextmanager
def incident_000(n: int) -> Iterator[Scenario]:
    """Seed incident 000 (scenarios/incidents/s000_trigger.py): read run, spawn reviewer, insert run."""
    import os
    import sys
    from pathlib import Path

    scen = str(Path(__file__).resolve().parents[2] / "scenarios")
    if scen not in sys.path:
        sys.path.insert(0, scen)
    from incidents import s000_trigger as m

    with infra.postgres("SELECT 1", ()) as pg:
        saved = os.environ.get("DATABASE_URL")
        os.environ["DATABASE_URL"] = pg.url
        try:
            def unique_runs(history: Any) -> str | None:
                dups = m.duplicate_runs()
                return f"duplicate review runs recorded: {dups}" if dups else None

            yield Scenario(
                name="incident 000: review trigger check-then-act (Postgres)",
                backend="postgres",
                buggy=m.trigger_buggy,
                fixed={"keyed mutex + unique index + fallback": m.trigger_fixed},
                setup=lambda: m.setup(),
                fixed_setup={"keyed mutex + unique index + fallback": lambda: m.setup_fixed()},
                found=lambda: bool(m.duplicate_runs()),
                spies=[racecheck.spy("incidents.s000_trigger:spawn_reviewer", key="session_id,sha")],
                invariants=[racecheck.exactly_once("spawn_reviewer"), racecheck.custom(unique_runs, "unique_runs"),
                            racecheck.no_exceptions()],
                args=lambda i: (),
                url=pg.url,
                note="`incidents.s000_trigger.trigger_buggy` as written by the incident engineer: each trigger "
                     "opens its own connection, reads the run for (session, sha), spawns a reviewer, inserts; "
                     "the judge for the hand-written loops is `duplicate_runs()`. Fixed: `trigger_fixed`.",
            )
        finally:
            if saved is None:
                os.environ.pop("DATABASE_URL", None)
            else:
                os.environ["DATABASE_URL"] = saved


SCENARIOS: list[Callable[[int], contextlib.AbstractContextManager[Scenario]]] = [check_then_insert, check_then_insert_connect, incident_000]


# What frontrun 0.7 can and cannot express of each seed incident. Judged from its API in
# site-packages (explore / explore_processes: setup, workers, invariant, count, clock;
# no fault-injection, crash, server-control or environment hooks — grep finds none).
FRONTRUN_EXPRESSIBILITY: list[tuple[str, str, str]] = [
    ("000 check-then-act trigger", "yes (buggy pair)",
     "Threads doing SELECT then INSERT: DPOR at SQL granularity finds it (measured above on the same shape). "
     "Not the migration half: 'the unique-index build wedges startup on existing duplicates' needs seeded "
     "bad data and a startup failure to be judged, which an invariant over final state can do, but two "
     "daemons racing the index build under an advisory lock block inside Postgres — the same unmanaged "
     "blocking that makes its run on our advisory-lock twin inconclusive."),
    ("001 groomer run lock (stale reclaim, release by token)", "partly",
     "The two-groomers race is SQL and expressible. The second-order bugs need a holder that stalls past "
     "the 30-minute TTL while still working: clock='virtual' can advance time, but it cannot pause one "
     "worker in a chosen place while the other reclaims, nor crash a holder so its lock is left stale."),
    ("002 review dedup across processes (Map vs SET NX; REDIS_URL scrub)", "partly",
     "Multi-process dedup: explore_processes / execution='process' can run two processes contending on Redis, "
     "so the per-process Map bug is expressible. The follow-up bug (a worker scrubs REDIS_URL at start-up, "
     "the lazy client reads it later, every claim fails closed) needs environment scrubbing at a chosen "
     "moment and a Redis error path; frontrun has no hook for either. Fail-closed on a Redis outage "
     "needs the server down mid-run: no outage fault."),
    ("003 lease on increment + TTL steal (split-brain, swallowed retry exhaustion)", "partly",
     "The split-brain (acquire publishes the timestamp after the counter; a contender steals with a stale one) "
     "is an ordering of Redis commands plus time: expressible with clock='explored'. The retry loop that "
     "silently succeeds after exhausting attempts needs the store to fail writes (injected errors): not "
     "expressible."),
    ("004 pending-review dispatch (crash between steps, failed write, clobbered live state)", "no (core bug)",
     "The founding bug is a crash between 'set queued' and 'dispatch' leaving a review stuck forever; "
     "the reviewer's follow-ups need a DB write failure that leaves a live review looking stale. frontrun "
     "has no crash or failed-write fault and judges only the final state of completed workers, so a "
     "killed worker and a recovery pass cannot be modelled. The duplicate-claim part (UPDATE ... WHERE "
     "status='pending' RETURNING) alone is expressible."),
]
