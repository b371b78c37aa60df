"""The reused daemon threads behind the process workers' pipe servers and bounded()."""

from __future__ import annotations

import threading

from racecheck.daemon_pool import DaemonPool
from racecheck.hangs import bounded


def test_a_thread_is_reused_once_its_call_returned_but_never_while_it_is_stuck() -> None:
    pool = DaemonPool("racecheck-test-pool")
    seen: list[int] = []
    release = threading.Event()
    try:
        assert pool.submit(lambda: seen.append(threading.get_ident())).wait(10)
        assert pool.submit(lambda: seen.append(threading.get_ident())).wait(10)
        assert seen[0] == seen[1]  # the idle thread took the second call
        holder: list[int] = []
        stuck = pool.submit(lambda: (holder.append(threading.get_ident()), release.wait()))  # holds its thread
        assert pool.submit(lambda: seen.append(threading.get_ident())).wait(10)  # not queued behind it
        assert seen[2] != holder[0] and not stuck.is_set()
        threads = [t for t in threading.enumerate() if t.name == "racecheck-test-pool"]
        assert all(t.daemon for t in threads) and len(threads) == 2
    finally:
        release.set()
        pool.close()
    for t in [t for t in threading.enumerate() if t.name == "racecheck-test-pool"]:
        t.join(10)
        assert not t.is_alive()


def test_bounded_after_a_call_that_timed_out_still_runs_and_reports() -> None:
    release = threading.Event()
    try:
        assert "did not finish within the trial timeout" in (bounded(release.wait, 0.05, "setup()") or "")
        assert bounded(lambda: None, 10, "setup()") is None
        assert bounded(lambda: 1 / 0, 10, "recover()") == "recover() raised ZeroDivisionError: division by zero"
    finally:
        release.set()
