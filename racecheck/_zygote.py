"""The warm template's side: import once, then fork each trial's workers in one go.

The template is an interpreter the runner starts (``racecheck._warm``) with one end of a
socket pair. It imports what every worker of the run needs (racecheck's worker code, the
target's module, the modules its spies patch, the drivers' libraries the runner uses)
once, then says whether forking from here is safe: a thread or a socket the imports left
behind would be shared by every forked worker (a module-level database connection used by
4 processes at once). The runner falls back to spawn when it is not safe.

Then it serves. One request forks a whole trial's workers: the specs are unpickled once,
here, before the forks, and the environment and ``sys.path`` of the run are set once, so a
worker starts straight in :func:`racecheck._worker.worker_main` with nothing to decode. The
template reaps its workers and reports each exit status; it dies with the runner (and then
kills its workers and removes the runs' directories), and each worker dies with it.

The parameters come in the environment variable ``RACECHECK_ZYGOTE`` (JSON), removed here so
that the workers do not see it. The wire helpers below are shared with the runner's side.
"""

from __future__ import annotations

import _signal
import json
import os
import pickle
import select
import signal
import socket
import struct
import sys
from typing import Any

_HEAD = struct.Struct("!II")  # payload length, number of file descriptors that follow
_FDS_PER_MESSAGE = 250  # below the kernel's SCM_MAX_FD (253)
PR_SET_PDEATHSIG = 1
_SIGCHLD, _SIGTERM, _SIGKILL, _SIG_DFL = int(signal.SIGCHLD), int(signal.SIGTERM), int(signal.SIGKILL), int(signal.SIG_DFL)


# -- the wire (both sides) -------------------------------------------------------------------------


def send_msg(sock: socket.socket, obj: Any, fds: list[int] | tuple[int, ...] = ()) -> None:
    send_pickled(sock, pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL), fds)


def send_pickled(sock: socket.socket, data: bytes, fds: list[int] | tuple[int, ...] = ()) -> None:
    """Send a message already pickled (the sender checked it pickles), with ``fds`` behind it."""
    sock.sendall(_HEAD.pack(len(data), len(fds)) + data)
    for i in range(0, len(fds), _FDS_PER_MESSAGE):
        socket.send_fds(sock, [b"F"], list(fds[i:i + _FDS_PER_MESSAGE]))


def _recv_exact(sock: socket.socket, n: int) -> bytes | None:
    buf = bytearray(n)
    view, got = memoryview(buf), 0
    while got < n:
        k = sock.recv_into(view[got:], n - got)
        if k == 0:
            return None
        got += k
    return bytes(buf)


def recv_msg(sock: socket.socket) -> tuple[Any, list[int]] | None:
    """The next message and the descriptors sent with it; None once the other side is gone."""
    head = _recv_exact(sock, _HEAD.size)
    if head is None:
        return None
    size, nfds = _HEAD.unpack(head)
    data = _recv_exact(sock, size)
    if data is None:
        return None
    fds: list[int] = []
    while len(fds) < nfds:
        _, got, _, _ = socket.recv_fds(sock, 1, _FDS_PER_MESSAGE)
        if not got:
            return None
        fds.extend(got)
    return pickle.loads(data), fds


# -- importing once --------------------------------------------------------------------------------


def _sockets() -> set[str]:
    found = set()
    try:
        for fd in os.listdir("/proc/self/fd"):
            try:
                link = os.readlink(f"/proc/self/fd/{fd}")
            except OSError:
                continue
            if link.startswith("socket:"):
                found.add(link)
    except OSError:
        pass
    return found


def _threads() -> int:
    try:
        return len(os.listdir("/proc/self/task"))
    except OSError:
        import threading

        return threading.active_count()


def _user_files() -> dict[str, int]:
    """The source files of the modules imported here that are not the standard library's or an
    installed package's (the target's own code): the runner reuses this template for a later run
    only while none of them changed (``racecheck._warm``)."""
    import sysconfig

    lib = tuple(p for k in ("stdlib", "platstdlib", "purelib", "platlib") if (p := sysconfig.get_paths().get(k)))
    out: dict[str, int] = {}
    for mod in list(sys.modules.values()):
        path = getattr(mod, "__file__", None)
        if not path or path.startswith(lib):
            continue
        try:
            out[path] = os.stat(path).st_mtime_ns
        except OSError:
            pass
    return out


def _warm_event_path() -> None:
    """Encode a few events here: the code every worker runs for each event is then already
    specialised, and the type caches filled, in the memory the workers share."""
    from . import history as h

    for _ in range(10):  # CPython specialises a function's code after eight calls
        for kind in (h.START, h.POINT, h.END):
            h.make_event(0, kind, "warm", None, result="'warm'").to_json()


def prepare(params: dict[str, Any]) -> dict[str, Any]:
    """Import everything the workers need; the verdict the runner reads (``safe``, ``reason``)."""
    before = _sockets()
    problem = ""
    try:
        import importlib

        # the worker body and everything it imports, and what every worker's setup imports
        from multiprocessing import connection  # noqa: F401 - each worker's pipe

        from . import _worker, env_watch, instrument, search_hooks  # noqa: F401 - warm, for every worker
        from .drivers import BY_NAME, install_drivers, remember_availability  # noqa: F401
        from .scheduling import virtual_time  # noqa: F401 - prepare_worker's, for every trial
        from .spy import load_callable

        _worker.prepend_sys_path(params.get("sys_path", []))  # the runner's: its target imports from there
        try:
            load_callable(params["target"])
        except Exception as exc:  # noqa: BLE001 - the worker imports it again and reports the error
            problem = f"importing the target failed in the template ({type(exc).__name__}: {exc})"
        for name in params.get("modules", []):
            try:
                importlib.import_module(name)
            except ImportError:
                continue  # the worker reports it as before
        for name in params.get("drivers", []):
            driver = BY_NAME.get(name)
            if driver is not None and driver.module in sys.modules:
                # Its installer module (imported, not installed: the worker patches its own copy),
                # else each forked worker imports (and, without bytecode caches, compiles) it again.
                # A library neither the target nor the runner imported stays out: a bigger template
                # makes every fork and every worker's exit slower, for every run.
                importlib.import_module(f"racecheck.drivers.{driver.installer}")
        remember_availability()
        _warm_event_path()
    except BaseException as exc:  # noqa: BLE001 - never kill the template: fall back to spawn
        problem = f"the template could not import racecheck's worker ({type(exc).__name__}: {exc})"
    if not problem and _threads() > 1:
        problem = "importing the target started a thread, which fork does not copy"
    if not problem and _sockets() - before:
        problem = "importing the target opened a socket (a connection every forked worker would share)"
    if not problem:
        import gc

        # Everything imported so far is shared by every forked worker: move it out of the
        # collector's reach, so a worker's first collections do not walk (and so copy, page
        # by page) the template's whole heap.
        gc.collect()
        gc.freeze()
    return {"safe": not problem, "reason": problem, "pid": os.getpid(), "files": _user_files()}


# -- serving ---------------------------------------------------------------------------------------


def _runs(fds: list[int]) -> list[tuple[int, int]]:
    """The sorted ``fds`` as runs of consecutive numbers, ``(first, last)``."""
    out: list[tuple[int, int]] = []
    for fd in fds:
        if out and out[-1][1] == fd - 1:
            out[-1] = (out[-1][0], fd)
        else:
            out.append((fd, fd))
    return out


def _close_runs(runs: list[tuple[int, int]], keep: int) -> None:
    """Close every descriptor of ``runs`` but ``keep``: one close_range call per run, not one close each."""
    for first, last in runs:
        if first <= keep <= last:
            os.closerange(first, keep)
            os.closerange(keep + 1, last + 1)
        else:
            os.closerange(first, last + 1)


class _Server:
    def __init__(self, sock: socket.socket) -> None:
        import ctypes

        self.sock = sock
        self.children: set[int] = set()
        self.dirs: set[str] = set()  # the runs' directories, removed if the runner dies
        self.pid = os.getpid()
        self.broken = ""  # why no more workers may be forked from here
        self.prctl: Any = None  # looked up here, once: each forked worker calls it
        try:
            self.prctl = ctypes.CDLL(None, use_errno=True).prctl
            self.prctl.restype = ctypes.c_int
            self.prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong]
        except (OSError, AttributeError):
            pass
        self.wake_r, self.wake_w = os.pipe()
        os.set_blocking(self.wake_r, False)
        os.set_blocking(self.wake_w, False)
        signal.set_wakeup_fd(self.wake_w)
        signal.signal(signal.SIGCHLD, lambda *_: None)  # the wakeup fd says a worker exited
        signal.signal(signal.SIGTERM, lambda *_: self.shutdown())  # the runner died (pdeathsig) or close()

    def shutdown(self) -> None:
        """Kill the workers still running, remove the runs' directories, exit."""
        import shutil
        import time

        for pid in list(self.children):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        end = time.monotonic() + 2.0
        while self.children and time.monotonic() < end:
            try:
                pid, _ = os.waitpid(-1, 0)
            except ChildProcessError:
                break
            self.children.discard(pid)
        for d in self.dirs:
            shutil.rmtree(d, ignore_errors=True)
        os._exit(0)

    def reap(self) -> None:
        try:
            while os.read(self.wake_r, 4096):
                pass
        except BlockingIOError:
            pass
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            self.children.discard(pid)
            self.send(("exit", pid, os.waitstatus_to_exitcode(status)))

    def send(self, msg: Any) -> None:
        try:
            send_msg(self.sock, msg)
        except OSError:
            self.shutdown()  # the runner is gone

    def fork(self, gid: int, common: dict[str, Any], specs: list[Any], fds: list[int]) -> None:
        from multiprocessing.connection import Connection

        from ._worker import prepare_worker, prepend_sys_path

        if self.broken:
            for fd in fds:
                os.close(fd)
            self.send(("forked", gid, [], self.broken))
            return
        if common["environ"] != os.environ:  # as a spawned worker would inherit it now
            os.environ.clear()
            os.environ.update(common["environ"])
        prepend_sys_path(common["sys_path"])
        if common.get("run_dir"):
            self.dirs.add(common["run_dir"])

        gun, conns = fds[0], fds[1:]
        pids: list[int] = []
        error = ""
        # What every worker would set up alike is set up once, here, and undone after the forks:
        # each worker inherits the patched process instead of patching its own copy.
        prepared = prepare_worker(specs[0]) if specs else None
        runs = _runs(sorted({self.sock.fileno(), self.wake_r, self.wake_w, *fds} - {gun}))
        try:
            for i, spec in enumerate(specs):
                try:
                    pid = os.fork()
                except OSError as exc:
                    error = f"the warm template could not fork worker {i}: {exc}"
                    break
                if pid == 0:
                    self._child(spec, Connection(conns[i]), gun, runs, prepared)
                self.children.add(pid)
                pids.append(pid)
        finally:
            for fd in fds:
                os.close(fd)
            if prepared is not None:
                try:
                    prepared.close()
                except Exception as exc:  # noqa: BLE001 - this trial's workers are fine; no more after them
                    import traceback

                    traceback.print_exc()
                    self.broken = (f"the warm template could not undo a trial's patches ({type(exc).__name__}: "
                                   f"{exc}); run with start_method='spawn'")
        self.send(("forked", gid, pids, error))

    def _child(self, spec: Any, conn: Any, gun: int, runs: list[tuple[int, int]], prepared: Any) -> None:
        code = 1
        try:
            # _signal's own functions with plain ints: signal.signal() turns its result into an enum,
            # a tenth of a millisecond of a forked worker's time
            _signal.set_wakeup_fd(-1)
            _signal.signal(_SIGCHLD, _SIG_DFL)
            _signal.signal(_SIGTERM, _SIG_DFL)
            if self.prctl is not None:
                self.prctl(PR_SET_PDEATHSIG, _SIGKILL, 0, 0, 0)  # dies with the template
            if os.getppid() != self.pid:
                os._exit(1)  # the template died before the prctl
            _close_runs(runs, conn.fileno())  # the template's and the other workers' descriptors
            from ._worker import StartGun, worker_main

            worker_main(spec, conn, StartGun(gun), prepared)
            code = 0
        except BaseException:  # noqa: BLE001 - as multiprocessing does: print it, exit 1
            import traceback

            traceback.print_exc()
        finally:
            os._exit(code)

    def loop(self) -> None:
        while True:
            try:
                ready, _, _ = select.select([self.sock.fileno(), self.wake_r], [], [])
            except InterruptedError:
                continue
            if self.wake_r in ready:
                self.reap()
            if self.sock.fileno() in ready:
                try:
                    got = recv_msg(self.sock)
                except OSError:
                    got = None
                if got is None:
                    self.shutdown()  # the runner closed the template, or died
                    return
                msg, fds = got
                if msg[0] == "fork":
                    self.fork(msg[1], msg[2], msg[3], fds)


def serve(fd: int) -> None:
    """The template's main: prepare, report, then fork workers on request until the runner goes."""
    sock = socket.socket(fileno=fd)
    raw = os.environ.pop("RACECHECK_ZYGOTE", None)
    params: dict[str, Any] = json.loads(raw) if raw else {}
    if "runner" in params:
        from .parent_watch import die_with_parent

        # SIGTERM, not SIGKILL: the handler kills the workers and removes the runs' directories
        die_with_parent(int(params["runner"]), signal.SIGTERM)
    server = _Server(sock)  # handlers first: a SIGTERM from now on cleans up
    status = prepare(params)
    server.send(("status", status))
    if status["safe"]:
        server.loop()
    server.shutdown()
