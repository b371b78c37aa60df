"""Process-mode trials: each trigger in its own spawned interpreter, gated from here."""

from __future__ import annotations

import multiprocessing as mp
import os
import pickle
import shutil
import signal
import sys
import tempfile
import threading
import time
from typing import TYPE_CHECKING, Any

from . import _runtime
from . import history as h
from ._worker import WorkerSpec, worker_main
from .errors import ConfigError
from .faults import FaultInjector
from .scheduling import Controller

if TYPE_CHECKING:
    from .runner import Runner


def _serve(runner: Runner, worker: int, conn: Any, controller: Controller | None) -> None:
    try:
        while True:
            msg = conn.recv()
            if msg[0] == "arrive":
                if controller is not None:
                    controller.arrive(worker, msg[1])
                conn.send("go")
            elif msg[0] == "finish":
                if controller is not None:
                    controller.finish(worker)
            elif msg[0] == "call":
                try:
                    conn.send(("ok", runner.parent_call(msg[1], msg[2])))
                except Exception as exc:  # noqa: BLE001 - the worker raises it
                    conn.send(("err", f"{type(exc).__name__}: {exc}"))
    except (EOFError, OSError):
        if controller is not None:
            controller.finish(worker)


def run_process_trial(runner: Runner, index: int, controller: Controller | None, injector: FaultInjector
                      ) -> tuple[list[h.Event], list[int], dict[str, str], _runtime.Runtime]:
    cfg = runner.cfg
    tmp = tempfile.mkdtemp(prefix="racecheck-trial-")
    try:
        return _run(runner, index, controller, injector, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _run(runner: Runner, index: int, controller: Controller | None, injector: FaultInjector, tmp: str
         ) -> tuple[list[h.Event], list[int], dict[str, str], _runtime.Runtime]:
    cfg = runner.cfg
    assert isinstance(cfg.target, str)
    ctx = mp.get_context("spawn")
    barrier = ctx.Barrier(cfg.n)
    events_path = os.path.join(tmp, "events.jsonl")
    procs: list[Any] = []
    servers: list[threading.Thread] = []
    clock = any(f.action == "clock" for f in cfg.faults)
    for i in range(cfg.n):
        spec = WorkerSpec(i, cfg.target, runner.trigger_args(i), dict(cfg.kwargs), events_path,
                          os.path.join(tmp, f"stack-{i}.txt"), list(cfg.faults), runner.seed, index,
                          list(cfg.spies), tuple(cfg.drivers), controller is not None, list(sys.path),
                          cfg.timeout, clock)
        try:
            pickle.dumps(spec)
        except Exception as exc:  # noqa: BLE001
            raise ConfigError(
                f"process mode sends the trigger's arguments, spies and faults to each worker, but they "
                f"cannot be pickled ({exc}); use plain values and 'arg,names' spy keys instead of lambdas"
            ) from exc
        parent_conn, child_conn = ctx.Pipe()
        p = ctx.Process(target=worker_main, args=(spec, child_conn, barrier), name=f"racecheck-w{i}", daemon=True)
        p.start()
        child_conn.close()
        procs.append(p)
        t = threading.Thread(target=_serve, args=(runner, i, parent_conn, controller), daemon=True)
        t.start()
        servers.append(t)
    deadline = time.monotonic() + cfg.timeout
    for p in procs:
        p.join(max(0.0, deadline - time.monotonic()))
    hung = [i for i, p in enumerate(procs) if p.is_alive()]
    stacks: dict[str, str] = {}
    if hung:
        if controller is not None:
            controller.close()
        for i in hung:
            try:
                os.kill(procs[i].pid, signal.SIGUSR1)
            except ProcessLookupError:
                pass
        time.sleep(0.3)
        for i in hung:
            try:
                with open(os.path.join(tmp, f"stack-{i}.txt")) as fh:
                    stacks[f"w{i}"] = fh.read()
            except OSError:
                pass
            procs[i].kill()
            procs[i].join(5)
    for t in servers:
        t.join(1.0)
    events = h.read_jsonl(events_path)
    crashed = {e.worker for e in events if e.kind == h.CRASH}
    for i, p in enumerate(procs):
        if i not in hung and p.exitcode not in (0, None) and i not in crashed:
            # Killed from outside (OOM, a signal): still a crash in the history.
            events.append(h.Event(i, p.pid or 0, time.monotonic_ns(), h.CRASH, f"exit code {p.exitcode}"))
    rt = _runtime.Runtime(mode="processes", sink=h.Sink(), injector=injector, gate=None,
                          parent_call=runner.parent_call)
    return events, hung, stacks, rt
