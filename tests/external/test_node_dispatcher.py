"""The Node.js dispatcher (examples/node-dispatcher, incident 004) tested from outside on real Postgres."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import racecheck
from racecheck.external import EffectSink, HttpTrigger, Service, SinkFault, sql_check

REVIEWS = ["r1", "r2"]
STUCK = "SELECT id FROM code_reviews WHERE status = 'queued' AND dispatched_at IS NULL"


@contextmanager
def dispatcher(node_dir: Path, pg_url: str, sink: EffectSink, variant: str) -> Iterator[Service]:
    with Service(["node", "server.js"], cwd=str(node_dir), ready="/health",
                 env={"DATABASE_URL": pg_url, "REVIEWER_URL": sink.url, "DISPATCH_VARIANT": variant,
                      "DISPATCH_TIMEOUT_MS": "2000"}) as svc:
        yield svc


def pending_reviews(pg_url: str) -> Callable[[], None]:
    def setup() -> None:
        import psycopg

        with psycopg.connect(pg_url, autocommit=True) as c:
            c.execute("DELETE FROM code_reviews")
            c.execute("INSERT INTO code_reviews (id) SELECT unnest(%s::text[])", (REVIEWS,))

    return setup


def test_buggy_node_dispatcher_dispatches_a_review_twice(node_dispatcher: Path, pg_url: str, sink: EffectSink) -> None:
    """Dispatch-then-mark lets simultaneous dispatch requests both send a review: exactly_once breaks."""
    with dispatcher(node_dispatcher, pg_url, sink, "buggy") as svc:
        res = racecheck.run(HttpTrigger(f"{svc.url}/dispatch"), n=4, trials=10, setup=pending_reviews(pg_url),
                            invariants=[racecheck.exactly_once("review", keys=REVIEWS)])
    assert not res.ok
    v = res.first_failure.violations[0]
    assert v.invariant == "exactly_once" and v.keys[0] in REVIEWS and len(set(v.workers)) >= 2


def test_fixed_node_dispatcher_dispatches_each_review_once(node_dispatcher: Path, pg_url: str,
                                                           sink: EffectSink) -> None:
    """The atomic claim sends every review exactly once under the same simultaneous requests."""
    with dispatcher(node_dispatcher, pg_url, sink, "fixed") as svc:
        res = racecheck.run(HttpTrigger(f"{svc.url}/dispatch"), n=4, trials=10, setup=pending_reviews(pg_url),
                            invariants=[racecheck.exactly_once("review", keys=REVIEWS), sql_check(pg_url, STUCK)])
    res.assert_ok()
    assert res.trials_run == 10


def test_mark_first_dispatcher_strands_a_review_when_the_reviewer_fails(node_dispatcher: Path, pg_url: str,
                                                                        sink: EffectSink) -> None:
    """With the reviewer failing once, mark-queued-then-dispatch leaves a row queued that no later cycle sends."""
    sink.faults = (SinkFault(status=503, calls=(1,)),)
    with dispatcher(node_dispatcher, pg_url, sink, "stuck") as svc:
        trigger = HttpTrigger(f"{svc.url}/dispatch")
        res = racecheck.run(trigger, n=1, trials=3, setup=pending_reviews(pg_url), recover=trigger,
                            invariants=[sql_check(pg_url, STUCK, name="stuck_reviews"),
                                        racecheck.at_least_once("review", keys=REVIEWS)])
    assert not res.ok
    assert {v.invariant for v in res.first_failure.violations} == {"stuck_reviews", "at_least_once"}


def test_fixed_dispatcher_retries_a_failed_dispatch_on_the_next_cycle(node_dispatcher: Path, pg_url: str,
                                                                      sink: EffectSink) -> None:
    """The fixed claim reverts a definite failure to pending, so the recovery cycle sends it: nothing stuck."""
    sink.faults = (SinkFault(status=503, calls=(1,)),)
    with dispatcher(node_dispatcher, pg_url, sink, "fixed") as svc:
        trigger = HttpTrigger(f"{svc.url}/dispatch")
        res = racecheck.run(trigger, n=2, trials=3, setup=pending_reviews(pg_url), recover=trigger,
                            invariants=[sql_check(pg_url, STUCK, name="stuck_reviews"),
                                        racecheck.exactly_once("review", keys=REVIEWS)])
    res.assert_ok()
    assert any(r.status == "failed" for r in res.trials[0].history.effects("review"))
