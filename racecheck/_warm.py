"""Worker processes forked from a warm template: a private forkserver with the target imported.

``multiprocessing``'s forkserver is one per interpreter with one preload list; a run needs
its own (its target's modules imported, and gone when the run ends), so this keeps a
``ForkServer`` per template and a ``Process`` class that asks that one to fork. The rest
(pipes, barriers, join, exit codes, kill) is the standard library's forkserver machinery.
"""

from __future__ import annotations

import io
import json
import os
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

    def __init__(self, target: str, modules: list[str], status_path: str) -> None:
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
