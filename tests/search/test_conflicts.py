"""Resources of steps, conflicts, and dfs's partial-order reduction (sound: conflicting races still found)."""

from __future__ import annotations

import racecheck
from racecheck.config import RunConfig
from racecheck.runner import Runner
from racecheck.scheduling.resources import access_of, conflicts
from racecheck.scheduling.strategies import DFS
from search import memtargets, targets


def test_sql_redis_and_unknown_resources() -> None:
    sel = access_of("sql:SELECT run_id FROM review_run WHERE id = 1")
    assert sel.resources == frozenset({"sql:review_run[id=1]"}) and not sel.write
    ins = access_of("sql:INSERT INTO review_run (worker_id, sha) VALUES (%s, %s)")
    assert ins.resources == frozenset({"sql:review_run"}) and ins.write
    assert access_of("redis:GET lease:s").resources == frozenset({"redis:lease:s"})
    assert access_of("redis:SET lease:s 1").write
    assert access_of("claim:checked").unknown and access_of("sleep:0.1").unknown and access_of("start").unknown


def test_conflicts_both_ways() -> None:
    assert conflicts("redis:GET a", "redis:SET a 1")
    assert not conflicts("redis:GET a", "redis:SET b 1")  # other key
    assert not conflicts("redis:GET a", "redis:GET a")  # two reads
    assert conflicts("sql:SELECT x FROM t", "sql:UPDATE t SET x = 1")
    assert not conflicts("sql:SELECT x FROM t", "sql:UPDATE u SET x = 1")
    assert conflicts("sql:COMMIT", "sql:SELECT x FROM t")
    assert conflicts("claim:checked", "redis:GET a")  # unknown conflicts with everything


def _exhaust(trigger, reduce: bool) -> tuple[int, bool]:  # noqa: ANN001
    """Run dfs (with or without the reduction) until exhausted; (interleavings run, exhausted)."""
    runner = Runner(RunConfig(target=trigger, n=2, trials=500, strategy="dfs", worker_args=lambda i: (i,),
                              setup=targets.reset_memory, instrument=("search.memtargets",)))
    dfs = DFS(2, reduce=reduce)
    count = 0
    with runner._instrumented():
        for i in range(500):
            runner.run_trial(i, dfs)
            count += 1
            if dfs.exhausted():
                break
    return count, dfs.exhausted()


def _independent(i: int) -> None:
    (memtargets.PAIR.bump_x if i == 0 else memtargets.PAIR.bump_y)()


def test_dfs_prunes_interleavings_of_independent_steps() -> None:
    """w0 touches only x, w1 only y: with the reduction dfs exhausts in far fewer interleavings."""
    reduced, done_r = _exhaust(_independent, True)
    full, done_f = _exhaust(_independent, False)
    assert done_r and done_f
    assert reduced < full


def test_dfs_reduction_keeps_conflicting_races() -> None:
    """Both workers update x (a lost update): the reduced search still finds it."""
    def both_x(i: int) -> None:
        memtargets.PAIR.bump_x()

    res = racecheck.run(both_x, n=2, trials=50, strategy="dfs", worker_args=lambda i: (i,),
                        setup=targets.reset_memory, instrument=["search.memtargets"],
                        invariants=[racecheck.custom(lambda h: memtargets.PAIR.x == 4 or f"x is {memtargets.PAIR.x}",
                                                     "four")])
    assert not res.ok


def test_redis_reads_and_pipelines() -> None:
    """LINDEX and friends read; a pipeline touches the union of its commands (MULTI/EXEC are markers)."""
    for cmd in ("LINDEX jobs 0", "LPOS jobs 3", "ZCARD z", "HLEN h", "WATCH jobs"):
        a = access_of("redis:" + cmd)
        assert not a.write and a.resources == frozenset({"redis:" + cmd.split()[1]}), cmd
    assert not conflicts("redis:LINDEX jobs 0", "redis:LINDEX jobs 0")
    assert conflicts("redis:LINDEX jobs 0", "redis:LREM jobs 1 1")
    pipe = access_of("redis:PIPELINE MULTI; LREM jobs 1 1; EXEC")
    assert pipe.write and pipe.resources == frozenset({"redis:jobs"})
    reads = access_of("redis:PIPELINE GET t; STRLEN u")
    assert not reads.write and reads.resources == frozenset({"redis:t", "redis:u"})
    assert access_of("redis:PIPELINE GET t; EVAL return 1 0").unknown
    assert not conflicts("redis:PIPELINE GET t; STRLEN t", "redis:SET other 1")


def test_advisory_locks_are_a_resource_of_their_own() -> None:
    """pg_advisory_*lock calls conflict with each other and with COMMIT (which releases xact locks), not with tables."""
    lock = "sql:SELECT pg_advisory_xact_lock(hashtext(%s))"
    assert access_of(lock) == access_of("sql:SELECT pg_try_advisory_lock(42)")
    assert access_of(lock).write and access_of(lock).resources == frozenset({"sql:advisory"})
    assert conflicts(lock, "sql:SELECT pg_advisory_unlock(1)")
    assert conflicts(lock, "sql:COMMIT")
    assert not conflicts(lock, "sql:SELECT id FROM runs WHERE key = %s")
    assert not conflicts(lock, "sql:INSERT INTO runs (key) VALUES (%s)")
    assert access_of("sql:SELECT pg_advisory_lock(1), pg_sleep(1)").unknown  # more than the lock: do not guess
    assert access_of("sql:SELECT pg_advisory_lock(hashtext(k)) FROM t").resources == frozenset({"sql:t"})
