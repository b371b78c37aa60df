"""The scenarios the detection benchmark runs: one buggy target, its fixed twins, and how to judge a trial.

Each scenario is provisioned by a context manager (it owns its backend for the
duration) and gives both racecheck's view (spies + invariants) and a hand-written
judge (``found()``) for the baselines that do not use racecheck.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import racecheck

from . import dispatcher, infra, narrow


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
    trials: int | None = None  # per-run trial budget T (None: the benchmark's default)
    fp_trials: int | None = None  # stress false-positive budget (None: the benchmark's default)
    frontrun_script: str = "frontrun_dispatch.py"
    frontrun_na: str = ""  # why frontrun was not run, when it was not


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


# -- narrow race windows ------------------------------------------------------------------------


@contextlib.contextmanager
def narrow_memory(n: int) -> Iterator[Scenario]:
    """In-memory check-then-act: dict lookup, point, dict set; the window is a few bytecodes."""
    yield Scenario(
        name="narrow: in-memory check-then-act (dict lookup, then set)",
        backend="memory",
        buggy=narrow.claim_memory_buggy,
        fixed={"dict.setdefault": narrow.claim_memory_fixed},
        setup=narrow.clear,
        found=lambda: narrow.duplicates() > 0,
        spies=[racecheck.spy("benchmarks.targets.narrow:spawn", key="key")],
        invariants=[racecheck.at_most_once("spawn"), racecheck.no_exceptions()],
        frontrun={"buggy": "memory", "buggy, attribute instead of dict key": "memory-attr",
                  "dict.setdefault": "memory-fixed"},
        frontrun_script="frontrun_narrow.py",
        url="-",
        note="`if key in d: return; racecheck.point(...); d[key] = w; spawn(key)`. Outside a run the point is "
             "a no-op: the hand-written loops race a window of a few bytecodes against a 5 ms GIL switch "
             "interval. Fixed twin: `d.setdefault(key, w)`.",
    )


@contextlib.contextmanager
def narrow_pg(n: int) -> Iterator[Scenario]:
    """Postgres claim: 20–50 ms unrelated work, then SELECT and UPDATE as two statements at READ COMMITTED."""
    with infra.postgres(narrow.PG_SCHEMA, narrow.PG_TABLES) as pg:
        import psycopg

        admin = psycopg.connect(pg.url, autocommit=True)
        narrow.configure_pg(pg.url, max(n, 2))

        def setup() -> None:
            narrow.reset_pg(admin)
            narrow.clear()

        try:
            yield Scenario(
                name="narrow: Postgres claim after 20–50 ms of unrelated work (READ COMMITTED)",
                backend="postgres",
                buggy=narrow.claim_pg_buggy,
                fixed={"UPDATE ... WHERE owner IS NULL RETURNING": narrow.claim_pg_fixed},
                setup=setup,
                found=lambda: narrow.duplicates() > 0,
                spies=[racecheck.spy("benchmarks.targets.narrow:spawn", key="key")],
                invariants=[racecheck.at_most_once("spawn"), racecheck.no_exceptions()],
                trials=50,
                fp_trials=100,
                frontrun={"buggy": "pg", "UPDATE ... WHERE owner IS NULL RETURNING": "pg-fixed"},
                frontrun_script="frontrun_narrow.py",
                url=pg.url,
                note="Each trigger sleeps a random 20–50 ms (unrelated work), then in one transaction "
                     "`SELECT owner` and, if NULL, `UPDATE jobs SET owner = w` (no guard) and spawns. The window "
                     "is the holder's SELECT→COMMIT (about three round trips) against a 30 ms spread of arrival "
                     "times. Fixed twin: `UPDATE ... WHERE owner IS NULL RETURNING id`.",
            )
        finally:
            narrow.close_pg()
            admin.close()


def _scenarios_path() -> None:
    import sys
    from pathlib import Path

    scen = str(Path(__file__).resolve().parents[2] / "scenarios")
    if scen not in sys.path:
        sys.path.insert(0, scen)


class _Counter:
    """Counts calls of a module function by key (the hand-written loops' judge); racecheck's spy wraps it."""

    def __init__(self, mod: Any, attr: str, key: Callable[..., Any]) -> None:
        import functools

        self.mod, self.attr, self.orig = mod, attr, getattr(mod, attr)
        self.calls: list[Any] = []
        self.lock = threading.Lock()

        @functools.wraps(self.orig)
        def counted(*a: Any, **k: Any) -> Any:
            with self.lock:
                self.calls.append(key(*a, **k))
            return self.orig(*a, **k)

        setattr(mod, attr, counted)

    def clear(self) -> None:
        with self.lock:
            self.calls.clear()

    def duplicated(self) -> bool:
        with self.lock:
            return len(self.calls) > len(set(self.calls))

    def restore(self) -> None:
        setattr(self.mod, self.attr, self.orig)


@contextlib.contextmanager
def _env(name: str, value: str) -> Iterator[None]:
    import os

    saved = os.environ.get(name)
    os.environ[name] = value
    try:
        yield
    finally:
        if saved is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = saved


@contextlib.contextmanager
def incident_003_lease(n: int) -> Iterator[Scenario]:
    """Incident 003's increment lease, split brain, with no delay fault: needs a three-step ordering."""
    _scenarios_path()
    from incidents import s003_lease as m

    with infra.redis() as rd, _env("REDIS_URL", rd.url):
        c = _Counter(m, "run_side_effect", lambda session_id, fence=0: session_id)

        def setup() -> None:
            m.setup()
            c.clear()

        try:
            yield Scenario(
                name="incident 003: lease split brain, no delay fault (Redis)",
                backend="redis",
                buggy=m.on_approval_buggy,
                fixed={"SET NX PX + token + fenced write": m.on_approval_fixed},
                setup=setup,
                found=c.duplicated,
                trials=30,
                spies=[racecheck.spy("incidents.s003_lease:run_side_effect", key="session_id")],
                invariants=[racecheck.at_most_once("run_side_effect"), racecheck.mutual_exclusion("turn"),
                            racecheck.no_exceptions()],
                args=lambda i: (),
                fp_trials=200,
                url=rd.url,
                frontrun_na="not run (no driver; needs Redis under its wrapper, see the table below)",
                note="`incidents.s003_lease.on_approval_buggy` (seed `003-lease-split-brain-random-buggy`, without "
                     "the `delay` faults of the other seed): holder INCR → contender INCR, GET stale `lease_at`, "
                     "steal → holder publishes its timestamp; and the contender must reach the parked turn before "
                     "the holder marks it done. Judge for the loops: `run_side_effect` called twice.",
            )
        finally:
            c.restore()


@contextlib.contextmanager
def incident_001_groomer(n: int) -> Iterator[Scenario]:
    """Incident 001: two groomer runs with no run lock pick and groom the same issue (Postgres)."""
    _scenarios_path()
    from incidents import s001_groomer as m

    with infra.postgres("SELECT 1", ()) as pg, _env("DATABASE_URL", pg.url):
        c = _Counter(m, "groom_issue", lambda issue_id: issue_id)

        def setup() -> None:
            m.setup()
            c.clear()

        try:
            yield Scenario(
                name="incident 001: groomer with no run lock (Postgres)",
                backend="postgres",
                buggy=m.run_groomer_buggy,
                fixed={"first-writer-wins lock row": m.run_groomer_fixed},
                setup=setup,
                found=c.duplicated,
                spies=[racecheck.spy("incidents.s001_groomer:groom_issue", key="issue_id")],
                invariants=[racecheck.at_most_once("groom_issue"), racecheck.no_exceptions()],
                args=lambda i: (),
                fp_trials=200,
                url=pg.url,
                frontrun_na="not run (no driver; SQL-only, expressible)",
                note="`incidents.s001_groomer.run_groomer_buggy` (seed `001-groomer-buggy`): connect, SELECT the first "
                     "ungroomed issue, groom it, UPDATE. Judge for the loops: `groom_issue` called twice for one issue.",
            )
        finally:
            c.restore()


@contextlib.contextmanager
def incident_004_dispatchers(n: int) -> Iterator[Scenario]:
    """Incident 004: concurrent dispatchers read the same pending review and both dispatch it (Postgres)."""
    _scenarios_path()
    from incidents import s004_dispatch as m

    with infra.postgres("SELECT 1", ()) as pg, _env("DATABASE_URL", pg.url):
        c = _Counter(m, "dispatch", lambda review_id, url=None, guard=True: review_id)

        def setup() -> None:
            m.setup()
            c.clear()

        try:
            yield Scenario(
                name="incident 004: concurrent dispatchers (Postgres)",
                backend="postgres",
                buggy=m.dispatch_pending_buggy,
                fixed={"atomic claim + guarded worker": m.dispatch_pending_fixed},
                setup=setup,
                found=c.duplicated,
                spies=[racecheck.spy("incidents.s004_dispatch:dispatch", key="review_id"),
                       racecheck.spy("incidents.s004_dispatch:run_review", key="review_id")],
                invariants=[racecheck.at_most_once("dispatch"), racecheck.at_most_once("run_review"),
                            racecheck.no_exceptions()],
                args=lambda i: (),
                fp_trials=100,
                url=pg.url,
                frontrun_na="not run (no driver; the duplicate claim alone is SQL and expressible)",
                note="`incidents.s004_dispatch.dispatch_pending_buggy` (seed `004-concurrent-dispatchers-buggy`, "
                     "3 pending reviews): SELECT pending ids, then per review UPDATE queued and dispatch (the "
                     "worker connects, records state, runs the review). Judge for the loops: `dispatch` called "
                     "twice for one review.",
            )
        finally:
            c.restore()


SCENARIOS: list[Callable[[int], contextlib.AbstractContextManager[Scenario]]] = [
    check_then_insert, check_then_insert_connect, incident_000,
    narrow_memory, narrow_pg, incident_003_lease, incident_001_groomer, incident_004_dispatchers]

# Trigger counts where a scenario differs from the benchmark's default (2, 8): the seeds' N.
SCENARIO_NS: dict[str, tuple[int, ...]] = {"incident_003_lease": (2,), "incident_001_groomer": (2, 4),
                                           "incident_004_dispatchers": (3,)}


# -- incidents that need a fault only racecheck has -------------------------------------------------


@dataclass
class FaultScenario:
    """A seed scenario (scenarios/seeds/*.race.yaml) whose bug shows only under a racecheck fault or mode."""

    name: str
    seed: str
    backend: str  # "postgres" | "redis"
    target: Any  # callable, or "module:function" in process mode
    n: int
    trials: int
    setup: Callable[[], None]
    spies: list[Any]
    faults: list[Any]
    invariants: list[Any]
    needs: str  # the fault or mode the baselines lack
    why_baselines: str
    why_frontrun: str
    mode: str = "threads"
    kwargs: dict[str, Any] = field(default_factory=dict)
    recover: Callable[[], Any] | None = None


def fault_scenarios() -> list[FaultScenario]:
    """The remaining buggy seed scenarios, as their tests in tests/seeds/ run them."""
    _scenarios_path()
    from incidents import s001_groomer as m1
    from incidents import s002_dedup as m2
    from incidents import s003_lease as m3
    from incidents import s004_dispatch as m4

    hand = ("the hand-written loops have no way to pause one trigger at a chosen statement while "
            "shifting its clock")
    return [
        FaultScenario(
            "001 tokenless release after a stale reclaim", "001-tokenless-release-buggy", "postgres",
            m1.run_groomer_tokenless_release, 3, 10, lambda: m1.setup(),
            [racecheck.spy("incidents.s001_groomer:groom_issue", key="issue_id")],
            [racecheck.delay("sql:SELECT sync_run_id*", 0.25, worker=1),
             racecheck.clock("sql:SELECT sync_run_id*", 3600, worker=1),
             racecheck.delay("groomer:release", 0.5, worker=0),
             racecheck.delay("groom_issue:after", 0.8, worker=1),
             racecheck.delay("sql:SELECT sync_run_id*", 0.75, worker=2)],
            [racecheck.mutual_exclusion("groomer"), racecheck.no_exceptions()],
            "delay + clock at chosen points", hand,
            "clock='virtual' advances time for everyone; it cannot stall one worker past the TTL at a chosen point"),
        FaultScenario(
            "002 per-process dedup map across processes", "002-memory-dedup-processes-buggy", "redis",
            "incidents.s002_dedup:dispatch_memory", 2, 10, lambda: m2.setup(),
            [racecheck.spy("incidents.s002_dedup:dispatch_review", key="pr,sha")], [],
            [racecheck.at_most_once("dispatch_review")],
            "processes", "the loops here are threads in one process, which share the map and never see the bug "
            "(a hand-written multiprocessing harness with a cross-process judge would)",
            "expressible with explore_processes in principle; no driver written", mode="processes"),
        FaultScenario(
            "002 Redis error treated as not-a-duplicate (fail open)", "002-redis-error-fail-open-buggy", "redis",
            m2.dispatch_redis_fail_open, 4, 10, lambda: m2.setup(),
            [racecheck.spy("incidents.s002_dedup:dispatch_review", key="pr,sha")],
            [racecheck.redis_error("redis:SET*", worker=0)], [racecheck.fail_closed("dispatch_review")],
            "redis_error", "a Redis error must be injected into one claim", "no fault injection"),
        FaultScenario(
            "002 REDIS_URL scrubbed after import; lazy client fails closed", "002-env-scrub-lazy-url-buggy",
            "redis", "incidents.s002_dedup:dispatch_redis_lazy", 2, 10, lambda: m2.setup(),
            [racecheck.spy("incidents.s002_dedup:dispatch_review", key="pr,sha")],
            [racecheck.scrub_env(["REDIS_URL"], when="after_import")],
            [racecheck.at_least_once("dispatch_review"), racecheck.at_most_once("dispatch_review")],
            "scrub_env + processes", "the environment must change inside worker processes after import",
            "no environment hook", mode="processes"),
        FaultScenario(
            "003 retry loop swallows exhaustion (holder crashed)", "003-retry-exhaustion-silent-buggy", "redis",
            m3.on_approval_fixed_lease_silent_retry, 2, 10, lambda: m3.setup(),
            [racecheck.spy("incidents.s003_lease:run_side_effect", key="session_id")],
            [racecheck.crash("run_side_effect:before")], [racecheck.custom(m3.no_silent_drop, "no_silent_drop")],
            "crash", "a lease holder must die holding the lease", "no crash fault",
            kwargs={"attempts": 10}),
        FaultScenario(
            "004 crash between 'queued' and dispatch: review stuck", "004-queue-before-dispatch-crash-buggy",
            "postgres", m4.dispatch_pending_buggy, 1, 10, lambda: m4.setup(),
            [racecheck.spy("incidents.s004_dispatch:dispatch", key="review_id")],
            [racecheck.crash("dispatch:before", worker=0)],
            [racecheck.no_stuck(lambda: m4.stuck_reviews())],
            "crash + recover", "a dispatcher must die between two steps, then the next cycle run",
            "no crash fault; judges only completed workers", recover=lambda: m4.recover_buggy()),
        FaultScenario(
            "004 failed 'running' write; reclaim runs a live review twice", "004-reclaim-live-review-buggy",
            "postgres", m4.dispatch_pending_claim, 1, 10, lambda: m4.setup_one(),
            [racecheck.spy("incidents.s004_dispatch:dispatch", key="review_id"),
             racecheck.spy("incidents.s004_dispatch:run_review", key="review_id")],
            [racecheck.db_error("sql:UPDATE code_reviews SET status = 'running'*", worker=0)],
            [racecheck.at_most_once("run_review"), racecheck.no_stuck(lambda: m4.stuck_reviews())],
            "db_error + recover", "one UPDATE must fail while the review goes on", "no failed-write fault",
            recover=lambda: m4.recover_claim()),
    ]
