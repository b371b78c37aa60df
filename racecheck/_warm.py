"""Worker processes forked from a warm template: an interpreter with the target imported.

The runner starts the template (``racecheck._zygote``) with one end of a socket pair and
asks it for a whole trial's workers in one message: the workers' specs, the trial's start
pipe and each worker's pipe end. The template forks them, reaps them and reports each exit
status back on the socket, which a reader thread here hands to the :class:`Worker` objects
(``pid``, ``is_alive``, ``join``, ``kill``, ``exitcode``, as a ``multiprocessing.Process``).

Starting a template costs an interpreter start and the imports of racecheck, the target and
the drivers' libraries the runner uses: several bare interpreter starts. A run that ends
hands its template back (:func:`release`) and the next run of the same target takes it
(:func:`acquire`) when nothing it was made from changed: the target, the modules, sys.path,
the working directory, the environment, and the mtime of every source file it imported
outside the standard library and installed packages. The template never ran a trigger, so
its workers start from the module as imported, exactly as a new template's would. One
template is kept, only for runs on the main thread (a template gets SIGTERM when the thread
that started it ends); it is stopped when another one is kept and at exit. It dies with the
runner, taking its workers and the runs' directories with it.
"""

from __future__ import annotations

import atexit
import itertools
import json
import os
import pickle
import signal
import socket
import subprocess
import sys
import threading
from typing import Any

from ._zygote import recv_msg, send_pickled
from .errors import RacecheckError


class SpecNotPicklable(RacecheckError):
    """A worker's spec (its arguments, spies, faults) cannot be pickled to the template."""


class Worker:
    """A worker process forked by the template, as the runner sees it."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.exitcode: int | None = None
        self._done = threading.Event()

    def is_alive(self) -> bool:
        return not self._done.is_set()

    def join(self, timeout: float | None = None) -> None:
        self._done.wait(timeout)

    def kill(self) -> None:
        if self.is_alive():
            try:
                os.kill(self.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

    def exited(self, code: int) -> None:
        self.exitcode = code
        self._done.set()


class Template:
    """One warm template: start it, ask whether forking from it is safe, fork workers, stop it."""

    key_of_run: tuple[object, ...] = ()  # what it was made from (``acquire``)
    keepable = False  # made by :func:`start` (may outlive the run)
    files: dict[str, int]  # source file -> mtime_ns, as imported in the template

    def __init__(self, target: str, modules: list[str], drivers: tuple[str, ...] | list[str] = ()) -> None:
        from subprocess import _args_from_interpreter_flags  # type: ignore[attr-defined]

        self.files = {}
        self._status: dict[str, Any] | None = None
        self._gone = False
        self._failed = False  # a fork request failed: the template may not be reused
        self._lock = threading.Lock()  # the fields below, and sending
        self._changed = threading.Condition(self._lock)
        self._workers: dict[int, Worker] = {}
        self._replies: dict[int, tuple[list[Worker], str]] = {}
        self._ids = itertools.count(1)
        params = json.dumps({"target": target, "modules": modules, "drivers": list(drivers),
                             "sys_path": list(sys.path), "runner": os.getpid()})
        ours, theirs = socket.socketpair()
        env = dict(os.environ, RACECHECK_ZYGOTE=params)  # read (and removed) by racecheck._zygote
        cmd = [sys.executable, *_args_from_interpreter_flags(), "-c",
               f"from racecheck._zygote import serve; serve({theirs.fileno()})"]
        try:
            self.proc = subprocess.Popen(cmd, pass_fds=[theirs.fileno()], env=env, stdin=subprocess.DEVNULL)
        except BaseException:
            ours.close()
            raise
        finally:
            theirs.close()
        self.sock = ours
        self.pid = self.proc.pid
        self._reader = threading.Thread(target=self._read, name="racecheck-template", daemon=True)
        self._reader.start()

    def _read(self) -> None:
        while True:
            try:
                got = recv_msg(self.sock)
            except (OSError, EOFError, ValueError):
                got = None
            with self._lock:
                if got is None:
                    self._gone = True  # its workers die with it (their pdeathsig)
                    for w in self._workers.values():
                        w.exited(-int(signal.SIGKILL))
                    self._workers.clear()
                    self._changed.notify_all()
                    return
                msg = got[0]
                if msg[0] == "exit":
                    if msg[1] in self._workers:
                        self._workers.pop(msg[1]).exited(msg[2])
                elif msg[0] == "forked":
                    # registered here, before the next message: a worker that exits at once has
                    # its exit status right behind this reply
                    workers = [Worker(pid) for pid in msg[2]]
                    self._workers.update((w.pid, w) for w in workers)
                    self._replies[msg[1]] = (workers, msg[3])
                    self._changed.notify_all()
                elif msg[0] == "status":
                    self._status = msg[1]
                    self._changed.notify_all()

    def verdict(self, timeout: float) -> tuple[bool, str]:
        """(safe, why not) once the template has imported everything, or (False, why) after ``timeout``."""
        with self._changed:
            self._changed.wait_for(lambda: self._status is not None or self._gone, timeout)
            st = self._status
        if st is None:
            if self._gone:
                return False, "the template process exited while importing the target"
            return False, f"the template did not finish importing the target within {timeout:.0f}s"
        self.files = dict(st.get("files", {}))
        return bool(st["safe"]), str(st["reason"])

    def fork(self, common: dict[str, Any], specs: list[Any], fds: list[int], timeout: float) -> list[Worker]:
        """One worker per spec, forked in one go; ``fds``: the start pipe's read end, then each worker's pipe."""
        with self._lock:
            if self._gone:
                raise RuntimeError("the warm template is gone")
            gid = next(self._ids)
            try:
                data = pickle.dumps(("fork", gid, common, specs), protocol=pickle.HIGHEST_PROTOCOL)
            except Exception as exc:  # noqa: BLE001 - a lambda, a local class...: nothing was sent
                raise SpecNotPicklable(str(exc)) from exc
            send_pickled(self.sock, data, fds)
            ok = self._changed.wait_for(lambda: gid in self._replies or self._gone, timeout)
            if gid not in self._replies:
                raise RuntimeError("the warm template died while forking workers" if ok else
                                   f"the warm template did not fork {len(specs)} workers within {timeout:.0f}s")
            workers, error = self._replies.pop(gid)
        if error:
            self._failed = True  # not kept, not reused
            for w in workers:
                w.kill()
            raise RuntimeError(error)
        return workers

    def alive(self) -> bool:
        return not self._gone and not self._failed and self.proc.poll() is None

    def close(self) -> None:
        try:
            self.sock.shutdown(socket.SHUT_RDWR)  # the template sees EOF and exits; the reader wakes
        except OSError:
            pass
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self._reader.join(5)
        self.sock.close()


# -- one template kept between runs --------------------------------------------------------------

WARM_PREFIX = "racecheck-warm-"  # the directories of 0.3.0's templates, still reclaimed when stale
_kept: list[Template] = []
_kept_lock = threading.Lock()


def run_key(target: str, modules: list[str], drivers: tuple[str, ...] | list[str] = ()) -> tuple[object, ...]:
    return (os.getpid(), target, tuple(modules), tuple(drivers), tuple(sys.path), os.getcwd(),
            tuple(sorted(os.environ.items())))


def _unchanged(files: dict[str, int]) -> bool:
    for path, mtime in files.items():
        try:
            if os.stat(path).st_mtime_ns != mtime:
                return False
        except OSError:
            return False
    return True


def acquire(target: str, modules: list[str], drivers: tuple[str, ...] | list[str] = ()) -> Template | None:
    """The kept template, when it was made for exactly this run and still lives; else None."""
    key = run_key(target, modules, drivers)
    with _kept_lock:
        if not _kept:
            return None
        tpl = _kept.pop()
    if tpl.key_of_run == key and tpl.alive() and _unchanged(tpl.files):
        return tpl
    tpl.close()
    return None


def start(target: str, modules: list[str], drivers: tuple[str, ...] | list[str] = ()) -> Template:
    """A new template that may be kept after the run."""
    tpl = Template(target, modules, drivers)
    tpl.keepable = True
    tpl.key_of_run = run_key(target, modules, drivers)
    return tpl


def release(tpl: Template) -> None:
    """The run is over: keep ``tpl`` for the next run of the same target, or stop it."""
    keep = threading.current_thread() is threading.main_thread() and tpl.keepable and tpl.alive()
    with _kept_lock:
        old = list(_kept)
        _kept[:] = [tpl] if keep else []
    for t in old:
        t.close()
    if not keep:
        tpl.close()


@atexit.register
def close_kept() -> None:
    with _kept_lock:
        old = list(_kept)
        _kept.clear()
    for t in old:
        t.close()
