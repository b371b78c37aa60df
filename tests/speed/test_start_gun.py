"""The workers of a process-mode trial start together, once all are ready, and none starts when one failed."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import racecheck


def test_a_worker_whose_setup_failed_keeps_the_others_from_starting(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """Worker setup (here: importing the target) failed in one worker: the other, ready and waiting,
    is told at once and exits without running its trigger (not after the trial timeout)."""
    monkeypatch.setenv("RACECHECK_GUN_DIR", str(tmp_path))
    res = racecheck.run("speed.first_importer_only:work", n=2, trials=1, mode="processes", timeout=5,
                        start_method="spawn")
    tr = res.trials[0]
    assert not tr.hung, tr.stacks
    errors = [e.payload.get("message", "") for e in tr.history if e.kind == "error"]
    assert len(errors) == 1 and "worker setup failed" in errors[0], errors
    assert not list(tmp_path.glob("ran-*"))  # the worker that set up never ran its trigger
    assert not res.ok


@pytest.mark.parametrize("start_method", ["auto", "spawn"])
def test_every_worker_runs_once_all_are_ready(start_method: str) -> None:
    res = racecheck.run("speed.warm_targets:count_calls", n=5, trials=3, mode="processes", timeout=60,
                        worker_args=lambda i: (i,), start_method=start_method)
    res.assert_ok()
    assert all(len([e for e in tr.history if e.kind == "end"]) == 5 for tr in res.trials)
    assert res.worker_start.startswith("fork" if start_method == "auto" else "spawn")
    assert os.getpid() not in {e.pid for tr in res.trials for e in tr.history if e.kind == "end"}


@pytest.mark.parametrize("start_method", ["auto", "spawn"])
def test_arguments_that_cannot_be_pickled_are_a_config_error(start_method: str) -> None:
    from racecheck.errors import ConfigError

    with pytest.raises(ConfigError, match="cannot be pickled"):
        racecheck.run("speed.warm_targets:count_calls", n=2, trials=1, mode="processes", timeout=60,
                      worker_args=lambda i: (lambda: i,), start_method=start_method)


def test_a_worker_whose_exit_status_comes_right_behind_the_fork_reply_is_seen_to_exit() -> None:
    """The template's reply and a worker's exit status can arrive back to back (a worker whose setup
    failed exits at once): the runner must register the worker before it reads the next message, or
    the exit is lost and the trial waits out its timeout."""
    import itertools
    import socket
    import threading

    from racecheck import _warm
    from racecheck._zygote import recv_msg, send_msg

    ours, theirs = socket.socketpair()
    tpl = object.__new__(_warm.Template)  # the runner's side only, against a scripted template
    tpl.files, tpl._status, tpl._gone, tpl._failed = {}, None, False, False
    tpl._lock = threading.Lock()
    tpl._changed = threading.Condition(tpl._lock)
    tpl._workers, tpl._replies, tpl._ids, tpl.sock = {}, {}, itertools.count(1), ours
    tpl._reader = threading.Thread(target=tpl._read, daemon=True)
    tpl._reader.start()

    def scripted_template() -> None:
        got = recv_msg(theirs)
        assert got is not None
        gid = got[0][1]
        for fd in got[1]:
            os.close(fd)
        send_msg(theirs, ("forked", gid, [424242], ""))  # and the exit right behind it
        send_msg(theirs, ("exit", 424242, 0))

    t = threading.Thread(target=scripted_template)
    t.start()
    try:
        r, w = os.pipe()
        (worker,) = tpl.fork({}, ["spec"], [r], timeout=10)
        os.close(r)
        os.close(w)
        worker.join(10)
        assert not worker.is_alive() and worker.exitcode == 0
    finally:
        t.join(10)
        ours.shutdown(socket.SHUT_RDWR)
        tpl._reader.join(10)
        ours.close()
        theirs.close()
