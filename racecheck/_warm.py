"""Worker processes forked from a warm template: a private forkserver with the target imported.

``multiprocessing``'s forkserver is one per interpreter with one preload list; a run needs
its own (its target's modules imported), so this keeps a ``ForkServer`` per template and a
``Process`` class that asks that one to fork. The rest (pipes, barriers, join, exit codes,
kill) is the standard library's forkserver machinery.

Starting a template costs an interpreter start and the imports of racecheck, the drivers'
libraries and the target: several bare interpreter starts. A run that ends hands its
template back (:func:`release`) and the next run of the same target takes it
(:func:`acquire`) when nothing it was made from changed: the target, the modules, sys.path,
the working directory, the environment, and the mtime of every source file it imported
outside the standard library and installed packages. The template never ran a trigger, so
its workers start from the module as imported, exactly as a new template's would. One
template is kept, only for runs on the main thread (a template dies with the thread that
started it); it is stopped when another one is kept and at exit, and its directory
(``racecheck-warm-<pid>-*``) is reclaimed by the next run if the process was killed.
"""

from __future__ import annotations

import atexit
import io
import json
import os
import shutil
import tempfile
import threading
import time
from multiprocessing import context, forkserver, popen_forkserver, process, reduction, spawn, util
from typing import Any

_SERVERS: dict[int, Any] = {}  # id -> multiprocessing.forkserver.ForkServer


class _Popen(popen_forkserver.Popen):
    def _launch(self, process_obj: Any) -> None:  # as popen_forkserver.Popen, on our server
        server = _SERVERS[process_obj._racecheck_template]
        prep_data = spawn.get_preparation_data(process_obj._name)
        # The worker needs racecheck._worker and the target (already imported in the template),
        # never the parent's __main__ (a script, or pytest): do not re-import it in every worker.
        prep_data.pop("init_main_from_name", None)
        prep_data.pop("init_main_from_path", None)
        buf = io.BytesIO()
        context.set_spawning_popen(self)
        try:
            reduction.dump(prep_data, buf)
            reduction.dump(process_obj, buf)
        finally:
            context.set_spawning_popen(None)
        self.sentinel, w = server.connect_to_new_process(self._fds)  # type: ignore[attr-defined]
        _parent_w = os.dup(w)
        self.finalizer = util.Finalize(self, util.close_fds, (_parent_w, self.sentinel))  # type: ignore[attr-defined]
        with open(w, "wb", closefd=True) as f:
            f.write(buf.getbuffer())
        self.pid = forkserver.read_signed(self.sentinel)


class WarmProcess(context.ForkServerProcess):
    _racecheck_template = 0

    @staticmethod
    def _Popen(process_obj: Any) -> Any:
        return _Popen(process_obj)


class Template:
    """One warm template: start it, ask whether forking from it is safe, fork workers, stop it."""

    key_of_run: tuple[object, ...] = ()  # what it was made from (``acquire``)
    files: dict[str, int]  # source file -> mtime_ns, as imported in the template
    own_dir: str | None = None  # a directory of its own (a kept template outlives the run's)

    def __init__(self, target: str, modules: list[str], status_path: str) -> None:
        self.files = {}
        self.server: Any = forkserver.ForkServer()
        self.server.set_forkserver_preload(["racecheck._zygote"])
        self.key = id(self.server)
        _SERVERS[self.key] = self.server
        self.status_path = status_path
        self.ctx = context._default_context.get_context("forkserver")
        import sys

        params = json.dumps({"target": target, "modules": modules, "status": status_path,
                             "sys_path": list(sys.path), "runner": os.getpid()})
        saved = os.environ.get("RACECHECK_ZYGOTE")
        os.environ["RACECHECK_ZYGOTE"] = params  # read (and removed) by racecheck._zygote
        # The server's socket goes in the run's temp dir (reclaimed by the runner's pid when a
        # SIGKILLed run leaves it), not in a pymp-* dir that only an orderly exit removes.
        config = process.current_process()._config  # type: ignore[attr-defined]
        saved_tmp = config.get("tempdir")
        config["tempdir"] = os.path.dirname(status_path)
        try:
            self.server.ensure_running()
        finally:
            if saved_tmp is None:
                config.pop("tempdir", None)
            else:
                config["tempdir"] = saved_tmp
            if saved is None:
                os.environ.pop("RACECHECK_ZYGOTE", None)
            else:
                os.environ["RACECHECK_ZYGOTE"] = saved

    def verdict(self, timeout: float) -> tuple[bool, str]:
        """(safe, why not) once the template has imported everything, or (False, why) after ``timeout``."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            try:
                with open(self.status_path) as fh:
                    st = json.load(fh)
                self.files = dict(st.get("files", {}))
                return bool(st["safe"]), str(st["reason"])
            except (OSError, ValueError):
                pid = self.server._forkserver_pid
                if pid is not None:
                    try:
                        done, _ = os.waitpid(pid, os.WNOHANG)
                    except ChildProcessError:
                        done = pid
                    if done:
                        return False, "the template process exited while importing the target"
                time.sleep(0.002)
        return False, f"the template did not finish importing the target within {timeout:.0f}s"

    def process(self, **kwargs: Any) -> WarmProcess:
        p = WarmProcess(**kwargs)
        p._racecheck_template = self.key
        return p

    def alive(self) -> bool:
        pid = self.server._forkserver_pid
        if pid is None:
            return False
        try:
            done, _ = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            return False
        return not done

    def close(self) -> None:
        _SERVERS.pop(self.key, None)
        srv = self.server
        pid = srv._forkserver_pid
        if srv._forkserver_alive_fd is not None:
            try:
                os.close(srv._forkserver_alive_fd)  # the server exits when this pipe closes
            except OSError:
                pass
            srv._forkserver_alive_fd = None
        if pid is not None:
            try:
                os.kill(pid, 15)
                os.waitpid(pid, 0)
            except (ProcessLookupError, ChildProcessError):
                pass
        addr = srv._forkserver_address
        if addr and not util.is_abstract_socket_namespace(addr):
            try:
                os.unlink(addr)
            except OSError:
                pass
        srv._forkserver_pid = None
        srv._forkserver_address = None
        if self.own_dir is not None:
            shutil.rmtree(self.own_dir, ignore_errors=True)
            self.own_dir = None


# -- one template kept between runs --------------------------------------------------------------

WARM_PREFIX = "racecheck-warm-"
_kept: list[Template] = []
_kept_lock = threading.Lock()


def run_key(target: str, modules: list[str]) -> tuple[object, ...]:
    import sys

    return (os.getpid(), target, tuple(modules), tuple(sys.path), os.getcwd(), tuple(sorted(os.environ.items())))


def _unchanged(files: dict[str, int]) -> bool:
    for path, mtime in files.items():
        try:
            if os.stat(path).st_mtime_ns != mtime:
                return False
        except OSError:
            return False
    return True


def acquire(target: str, modules: list[str]) -> Template | None:
    """The kept template, when it was made for exactly this run and still lives; else None."""
    key = run_key(target, modules)
    with _kept_lock:
        if not _kept:
            return None
        tpl = _kept.pop()
    if tpl.key_of_run == key and tpl.alive() and _unchanged(tpl.files):
        return tpl
    tpl.close()
    return None


def start(target: str, modules: list[str]) -> Template:
    """A new template, in a directory of its own so that it may be kept after the run."""
    own = tempfile.mkdtemp(prefix=f"{WARM_PREFIX}{os.getpid()}-")
    try:
        tpl = Template(target, modules, os.path.join(own, "template.json"))
    except BaseException:
        shutil.rmtree(own, ignore_errors=True)
        raise
    tpl.own_dir = own
    tpl.key_of_run = run_key(target, modules)
    return tpl


def release(tpl: Template) -> None:
    """The run is over: keep ``tpl`` for the next run of the same target, or stop it."""
    keep = (threading.current_thread() is threading.main_thread() and tpl.own_dir is not None
            and tpl.alive())
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
