"""The body of a worker process: one trigger, one trial, then exit.

Run in a fresh process: a spawned interpreter, or a fork of the run's warm template
(where the target's module was imported once and never run), so module state of the
target is truly per process and per trial (the seed-002 lesson). Events go to an O_APPEND JSONL file; the
scheduler and runner-side actions are reached over a pipe.
"""

from __future__ import annotations

import faulthandler
import os
import pickle
import select
import signal
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from . import _runtime
from . import history as h
from .execution.trigger import run_trigger
from .faults import Fault, FaultInjector, apply_env
from .spy import Spy
from .targets import refuse_generators

STARTUP_GRACE = 60.0  # seconds a worker process may take to start before it counts as hung


@dataclass
class WorkerSpec:
    worker: int
    target: str
    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    events_path: str
    stack_path: str
    faults: list[Fault]
    seed: int
    trial: int
    spies: list[Spy]
    drivers: tuple[str, ...]
    controlled: bool
    sys_path: list[str]
    timeout: float
    clock: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


def _pickled(msg: tuple[Any, ...]) -> bytes:
    return pickle.dumps(msg, pickle.HIGHEST_PROTOCOL)


# The messages without arguments, pickled once: a Connection's send() builds a ForkingPickler (and
# copies its dispatch table) per message, which a forked worker pays for in CPU and page copies.
_TOLD = {kind: _pickled((kind,)) for kind in ("ready", "abort", "finish")}


class PipeGate:
    """The worker's side of the controller: ask, then wait for "go".

    Messages are pickled with plain ``pickle`` and sent as bytes; the runner's ``recv()`` reads
    them as it reads any Connection message."""

    def __init__(self, conn: Any) -> None:
        self.conn = conn
        self.lock = threading.Lock()
        self.controlled = True  # until the trial says otherwise: only a controller needs "finish"

    def arrive(self, worker: int, label: str) -> None:
        with self.lock:
            self.conn.send_bytes(_pickled(("arrive", label)))
            self.conn.recv()

    def finish(self, worker: int) -> None:
        if not self.controlled:
            return  # the runner learns the end from the closed pipe; one wakeup less per worker
        with self.lock:
            try:
                self.conn.send_bytes(_TOLD["finish"])
            except OSError:
                pass

    def tell(self, kind: str) -> None:
        with self.lock:
            self.conn.send_bytes(_TOLD.get(kind) or _pickled((kind,)))

    def call(self, action: str, params: dict[str, Any]) -> Any:
        with self.lock:
            self.conn.send_bytes(_pickled(("call", action, params)))
            status, value = self.conn.recv()
        if status != "ok":
            raise RuntimeError(f"runner action {action} failed: {value}")
        return value


class StartGun:
    """The trial's start: every worker says it is ready, then waits for the runner's one shot.

    The runner writes one byte per worker into the trial's start pipe once all are ready
    (``g``), or as soon as one says its setup failed (``a``): the workers blocked on the pipe
    wake together, with no shared semaphore to create per trial.
    """

    def __init__(self, reader: Any) -> None:  # the pipe's read end: an fd, or a Connection (spawn)
        self._reader = reader  # keeps a Connection (and so its fd) open
        self.fd: int = reader if isinstance(reader, int) else reader.fileno()

    def wait(self, gate: PipeGate, timeout: float) -> bool:
        gate.tell("ready")
        ready, _, _ = select.select([self.fd], [], [], timeout)
        return bool(ready) and os.read(self.fd, 1) == b"g"

    def abort(self, gate: PipeGate) -> None:
        gate.tell("abort")


def prepend_sys_path(paths: list[str]) -> None:
    """Put the runner's ``sys.path`` entries this process lacks in front, in the runner's order."""
    for p in reversed(paths):
        if p not in sys.path:
            sys.path.insert(0, p)


@dataclass
class Prepared:
    """A worker's setup that is the same for every worker of a trial: patches, the target, and the
    trial's injector and events descriptor."""

    fn: Any = None
    error: Exception | None = None  # reported by each worker as its setup error
    undo: list[Callable[[], None]] = field(default_factory=list)
    # The trial's: its fault injector (each worker's copy counts its own firings) and a descriptor
    # appending to its events file, opened once (each worker's sink closes its inherited copy).
    injector: FaultInjector | None = None
    events_fd: int | None = None

    def close(self) -> None:
        while self.undo:
            self.undo.pop()()


def prepare_worker(spec: WorkerSpec) -> Prepared:
    """Install the drivers, spies, log handler, env watch and clock, and load the target.

    A spawned worker calls it itself; the warm template calls it once per trial, forks the
    trial's workers (each inherits the patched process) and undoes it.
    """
    from .drivers import install_drivers
    from .env_watch import install_env_watch
    from .spy import install_spies, load_callable

    out = Prepared()
    try:
        out.injector = FaultInjector(spec.faults, spec.seed, spec.trial)
        fd = out.events_fd = h.open_events(spec.events_path)
        out.undo.append(lambda: os.close(fd))
        out.undo.append(install_drivers(spec.drivers))
        out.undo.append(install_spies(spec.spies))
        out.undo.append(_runtime.install_log_handler())
        out.undo.append(install_env_watch(spec.faults))
        if spec.clock:
            out.undo.append(_runtime.patch_clock())
        search = spec.extra.get("search")
        if search:
            from .scheduling.virtual_time import install_for

            out.undo.append(install_for(search["strategy"], "processes", search["virtual_time"]))
        out.fn = load_callable(spec.target)
        refuse_generators(out.fn, spec.target)
    except Exception as exc:  # noqa: BLE001 - reported as the worker's error
        out.error = exc
    return out


def worker_main(spec: WorkerSpec, conn: Any, gun: StartGun, prepared: Prepared | None = None) -> None:
    """Set up (imports, spies, drivers: ``prepared`` when the template did it), then wait for the start.

    The runner starts the next trial's workers while the current trial runs, so their start
    and setup overlap with useful work; the spec already names the trial they are for.
    """
    if not spec.extra.get("forked"):
        from .parent_watch import watch_parent

        # a SIGKILLed runner leaves no spawned worker behind, nor the run's directory (a forked
        # worker dies with its template, which dies with the runner and removes the directory;
        # the template also set the run's environment and sys.path before forking)
        watch_parent(os.path.dirname(spec.stack_path))
        prepend_sys_path(spec.sys_path)
    # The trial's injector; its env faults (fired at process phases) do not depend on the trial.
    injector = prepared.injector if prepared is not None and prepared.injector is not None else FaultInjector(
        spec.faults, spec.seed, spec.trial)
    applied: list[tuple[str, Fault]] = []  # recorded into the history once the trial's runtime exists
    for f in injector.env_faults("start", spec.worker):
        apply_env(f)
        applied.append(("start", f))
    _runtime.set_process_worker(spec.worker)
    _runtime.set_worker(spec.worker)
    gate = PipeGate(conn)
    # A raw descriptor (kept open for faulthandler): a text file object costs a forked worker 0.3 ms.
    # The file is this worker slot's, reused from trial to trial and emptied by the runner after
    # it read a dump: creating a file on every worker's start was a tenth of a forked worker's CPU.
    stack_fd = os.open(spec.stack_path, os.O_WRONLY | os.O_CREAT, 0o600)
    faulthandler.register(signal.SIGUSR1, file=stack_fd, all_threads=True)
    from .env_watch import record_env_faults

    if prepared is None:
        prepared = prepare_worker(spec)
    fn, setup_error = prepared.fn, prepared.error
    for f in injector.env_faults("after_import", spec.worker):
        apply_env(f)
        applied.append(("after_import", f))
    # The spec names the trial (index, events file, controlled or not): everything up to the
    # start is done while the runner still runs the trial before, then the gun says when.
    gate.controlled = spec.controlled
    # Probabilistic faults are decided by the runner, so the decisions join the schedule string.
    injector.decide = lambda idx, worker: bool(gate.call("decide", {"idx": idx, "worker": worker}))
    events_fd, prepared.events_fd = prepared.events_fd, None  # this process's sink owns its copy now
    sink = h.Sink(spec.events_path, fd=events_fd)
    rt = _runtime.Runtime(mode="processes", sink=sink, injector=injector,
                          gate=gate if spec.controlled else None, parent_call=gate.call)
    _runtime.set_active(rt)
    search = spec.extra.get("search")
    if search and search["instrument"]:
        from .instrument import install_instrument

        install_instrument(search["instrument"], "processes")  # traces this process (which exits after)
    if setup_error is not None:
        rt.record(h.ERROR, type=type(setup_error).__name__, message=f"worker setup failed: {setup_error}",
                  stage="setup")
        gate.finish(spec.worker)
        gun.abort(gate)  # the others must not wait for a worker that will never come
        os._exit(0)
    for f in injector.env_faults("before_trigger", spec.worker):
        apply_env(f)
        applied.append(("before_trigger", f))
    record_env_faults(rt, applied)
    # The others may still be starting (interpreter, imports) under CPU load: that is not
    # the trigger's time, so do not give up after only the trial timeout.
    if not gun.wait(gate, spec.timeout + STARTUP_GRACE):
        gate.finish(spec.worker)
        return
    try:
        run_trigger(rt, spec.worker, gate if spec.controlled else None, fn, lambda: spec.args, spec.kwargs)
    finally:
        gate.finish(spec.worker)
        _runtime.set_active(None)
        sink.close()
        try:
            conn.close()
        except OSError:
            pass
    os._exit(0)  # skip interpreter teardown: the trial is over and its result is on disk
