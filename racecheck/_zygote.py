"""Imported in the warm template (a private forkserver) before it forks any worker.

It imports what every worker of the run needs (racecheck's worker code, the target's
module, the modules its spies and drivers patch) once, then says whether forking from here
is safe: a thread or a socket the imports left behind would be shared by every forked
worker (a module-level database connection used by 4 processes at once). The parent reads
that verdict from ``status`` and falls back to spawn when it is not safe.

The parameters come in the environment variable ``RACECHECK_ZYGOTE`` (JSON), removed here so
that the workers do not see it.
"""

from __future__ import annotations

import json
import os


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
    installed package's (the target's own code): the parent reuses this template for a later run
    only while none of them changed (``_warm.reusable``)."""
    import sys
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


def _prepare() -> None:
    raw = os.environ.pop("RACECHECK_ZYGOTE", None)
    if raw is None:
        return
    params = json.loads(raw)
    if "runner" in params:
        from .parent_watch import die_with_parent

        die_with_parent(int(params["runner"]))  # a SIGKILLed runner leaves no template behind
    import sys

    for p in reversed(params.get("sys_path", [])):
        if p not in sys.path:
            sys.path.insert(0, p)
    before = _sockets()
    problem = ""
    try:
        import importlib

        # what unpickling a worker (WarmProcess, its pipe, the trial's Barrier) imports
        from multiprocessing import connection, heap, popen_forkserver, synchronize  # noqa: F401

        # warm: the worker body and everything it imports, and what every worker's setup imports
        from . import _warm, _worker, env_watch, instrument, search_hooks  # noqa: F401
        from .drivers import BY_NAME, install_drivers  # noqa: F401
        from .scheduling import virtual_time  # noqa: F401 - install_search's, in every worker
        from .spy import load_callable

        for name in params.get("modules", []):
            try:
                importlib.import_module(name)
            except ImportError:
                continue  # a driver for a library that is not installed: the worker reports it as before
            driver = BY_NAME.get(name)
            if driver is not None:
                # Its installer module (imported, not installed: the worker patches its own copy),
                # else each forked worker imports (and, without bytecode caches, compiles) it again.
                importlib.import_module(f"racecheck.drivers.{driver.installer}")
        try:
            load_callable(params["target"])
        except Exception as exc:  # noqa: BLE001 - the worker imports it again and reports the error
            problem = f"importing the target failed in the template ({type(exc).__name__}: {exc})"
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
    tmp = params["status"] + ".tmp"
    with open(tmp, "w") as fh:
        json.dump({"safe": not problem, "reason": problem, "pid": os.getpid(), "files": _user_files()}, fh)
    os.replace(tmp, params["status"])


_prepare()
