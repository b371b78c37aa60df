"""Process-mode trials: each trigger in its own fresh process, gated from here.

Every trial gets fresh processes (module state is truly per process), and the next
trial's workers are started while the current one runs: they install spies, then wait
on their pipe for the trial's parameters. By default they are forked from a warm
template (``racecheck._warm``: the target's module imported once per run), which costs a
fork instead of an interpreter start and an import; ``start_method="spawn"``, or a
template where forking is unsafe, spawns a fresh interpreter per worker as before.
``Runner.worker_start`` says which one ran and why.
"""

from __future__ import annotations

import contextlib
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

from .. import _runtime
from .. import history as h
from .._worker import STARTUP_GRACE, StartGun, WorkerSpec, worker_main
from ..daemon_pool import DaemonPool
from ..errors import ConfigError
from ..faults import FaultInjector
from ..scheduling import Controller
from ..scheduling.async_controller import AsyncController
from ..search_hooks import search_options
from .threads import ThreadExecutor

if TYPE_CHECKING:
    from ..runner import Runner
    from ..scheduling import Strategy
    from . import TrialOutcome


class ProcessExecutor:
    """``mode="processes"``: the run's :class:`ProcessPool` (``Runner.process_pool()``) hands out workers."""

    # Process workers reach their points through their pipes; the same thread Controller picks who moves.
    make_controller = ThreadExecutor.make_controller

    def run_trial(self, runner: Runner, index: int, injector: FaultInjector,
                  controller: Controller | AsyncController | None, strategy: Strategy | None) -> TrialOutcome:
        assert not isinstance(controller, AsyncController)
        # start the next trial's workers now, unless this trial is the run's last
        return run_process_trial(runner, index, controller, injector, runner.has_trial_after(index, strategy))


class _Generation:
    """The n worker processes of one trial, started ahead of time, and the trial's start pipe."""

    def __init__(self, runner: Runner, tmp: str, trial: int, controlled: bool, template: Any = None) -> None:
        from multiprocessing.connection import Pipe

        cfg = runner.cfg
        self.trial = trial
        self.controlled = controlled
        # Files of a trial slot, reused every other trial (at most two generations live at once: the
        # trial's and the next one's) and emptied after reading, not created and removed each time.
        self.events_path = os.path.join(tmp, f"events-{trial % 2}.jsonl")
        assert isinstance(cfg.target, str)
        self.n = cfg.n
        self.procs: list[Any] = []
        self.conns: list[Any] = []
        self.stack_paths = [os.path.join(tmp, f"stack-{trial % 2}-{i}.txt") for i in range(cfg.n)]
        self._ready = 0
        self._fired = False
        self._lock = threading.Lock()
        clock = any(f.action == "clock" for f in cfg.faults)
        faults, spies, path = list(cfg.faults), list(cfg.spies), list(sys.path)  # one copy, shared by the pickle
        search = search_options(cfg)  # virtual time and instrument in the worker
        specs = []
        for i in range(cfg.n):
            spec = WorkerSpec(i, cfg.target, runner.trigger_args(i), dict(cfg.kwargs), self.events_path,
                              self.stack_paths[i], faults, runner.seed, trial, spies, tuple(cfg.drivers), controlled,
                              path, cfg.timeout, clock)
            spec.extra["search"] = search
            spec.extra["forked"] = template is not None
            specs.append(spec)
        gun_r: int | None = None
        self._gun_w: int | None = None
        self._gun_conn: Any = None  # spawn: the start pipe's write end as a Connection
        if template is not None:
            gun_r, self._gun_w = os.pipe()
        child_conns: list[Any] = []
        try:
            if template is not None:
                for _ in specs:
                    parent_conn, child_conn = Pipe()
                    self.conns.append(parent_conn)
                    child_conns.append(child_conn)
                common = {"environ": dict(os.environ), "sys_path": path, "run_dir": tmp}
                from .._warm import SpecNotPicklable

                try:
                    self.procs = template.fork(common, specs, [gun_r, *(c.fileno() for c in child_conns)],
                                               STARTUP_GRACE)
                except SpecNotPicklable as exc:
                    raise _unpicklable(exc) from exc
            else:
                self._spawn(specs)
        except BaseException:
            self.close()
            raise
        finally:
            for c in child_conns:
                c.close()
            if gun_r is not None:
                os.close(gun_r)

    def _spawn(self, specs: list[WorkerSpec]) -> None:
        ctx = mp.get_context("spawn")
        gun_r, gun_w = ctx.Pipe(duplex=False)
        self._gun_conn = gun_w
        self._gun_w = gun_w.fileno()
        for spec in specs:
            try:
                pickle.dumps(spec)
            except Exception as exc:  # noqa: BLE001
                raise _unpicklable(exc) from exc
            parent_conn, child_conn = ctx.Pipe()
            p = ctx.Process(target=worker_main, args=(spec, child_conn, StartGun(gun_r)),
                            name=f"racecheck-w{spec.worker}", daemon=True)
            p.start()
            child_conn.close()
            self.procs.append(p)
            self.conns.append(parent_conn)
        gun_r.close()

    def ready(self) -> None:
        """One more worker is ready to start; once all are, fire."""
        with self._lock:
            self._ready += 1
            go = self._ready == self.n
        if go:
            self.fire(b"g")

    def fire(self, what: bytes) -> None:
        """Start every worker (``g``), or tell them one will never come (``a``); once."""
        with self._lock:
            if self._fired or self._gun_w is None:
                return
            self._fired = True
            os.write(self._gun_w, what * self.n)

    def close(self) -> None:
        for c in self.conns:
            try:
                c.close()
            except OSError:
                pass
        for p in self.procs:
            if p.is_alive():
                p.kill()
            p.join(5)
        with self._lock:
            self._fired = True
            if self._gun_conn is not None:
                self._gun_conn.close()
            elif self._gun_w is not None:
                os.close(self._gun_w)
            self._gun_w = None


def _unpicklable(exc: BaseException) -> ConfigError:
    return ConfigError(
        "process mode sends the trigger's arguments, spies and faults to each worker, but they "
        f"cannot be pickled ({exc}); use plain values and 'arg,names' spy keys instead of lambdas")


def _read_stack(path: str, wait: float = 3.0) -> str:
    """Wait (briefly) for faulthandler to finish writing a hung worker's stack, then read it."""
    end = time.monotonic() + wait
    text, last = "", -1
    while time.monotonic() < end:
        try:
            with open(path) as fh:
                text = fh.read()
        except OSError:
            text = ""
        text = text.lstrip("\0")  # a dump's tail written after the last emptying leaves a hole in front
        if text and len(text) == last:
            break  # stopped growing
        last = len(text)
        time.sleep(0.05)
    return text


def _empty(path: str) -> None:
    try:
        os.truncate(path, 0)
    except OSError:
        pass  # never written: no worker of this slot got as far as opening it


def _reclaim_stale_dirs() -> None:
    """Remove event directories left by runs whose process was killed (their pid is in the name),
    and the directories of warm templates kept by such a process."""
    base = tempfile.gettempdir()
    try:
        names = os.listdir(base)
    except OSError:
        return
    for name in names:
        prefix = next((p for p in ("racecheck-procs-", "racecheck-warm-") if name.startswith(p)), None)
        if prefix is None:
            continue
        pid_text = name[len(prefix):].split("-", 1)[0]
        if not pid_text.isdigit():
            continue
        try:
            os.kill(int(pid_text), 0)
        except ProcessLookupError:
            shutil.rmtree(os.path.join(base, name), ignore_errors=True)
        except PermissionError:
            pass


class ProcessPool:
    """Hands out one fresh generation of worker processes per trial, preparing the next ahead."""

    def __init__(self, runner: Runner) -> None:
        self.runner = runner
        _reclaim_stale_dirs()
        self.tmp = tempfile.mkdtemp(prefix=f"racecheck-procs-{os.getpid()}-")
        self._upcoming = 0
        self._controlled = False  # whether the trials being made are gated by a controller
        self._next: _Generation | None = None
        self._prefetch: threading.Thread | None = None
        self._next_error: BaseException | None = None
        self.template: Any = None
        self.servers = DaemonPool("racecheck-serve")  # the threads serving the workers' pipes
        try:
            runner.worker_start = self._start_template()
        except BaseException:
            shutil.rmtree(self.tmp, ignore_errors=True)  # a refused start_method='fork' leaves nothing
            raise

    def _start_template(self) -> str:
        """Start the warm template when it is wanted and safe; say how workers will start."""
        from .._warm_choice import spawn_reason

        cfg = self.runner.cfg
        why = spawn_reason(cfg)
        if why:
            return f"spawn ({why})"
        from .. import _warm
        from ..drivers import BY_NAME

        assert isinstance(cfg.target, str)
        # The spied modules, and the drivers' libraries this process uses (a target that imports
        # its client inside the trigger most likely shares it with the test around it); the
        # target's own imports come with it. A library nobody here imported stays out of the
        # template: every fork and every worker's exit costs more with each megabyte it holds.
        libraries = {BY_NAME[d].module for d in cfg.drivers if d in BY_NAME and BY_NAME[d].module in sys.modules}
        modules = sorted({s.target.partition(":")[0] for s in cfg.spies if ":" in s.target} | libraries)
        drivers = tuple(cfg.drivers)
        kept = _warm.acquire(cfg.target, modules, drivers)
        if kept is not None:
            self.template = kept  # made for this very target, sys.path and environment; never ran
            return "fork (from a warm template)"
        try:
            template = _warm.start(cfg.target, modules, drivers)
        except Exception as exc:  # noqa: BLE001 - spawn still works
            return f"spawn (the warm template could not start: {type(exc).__name__}: {exc})"
        safe, reason = template.verdict(STARTUP_GRACE)
        if not safe:
            template.close()
            if cfg.start_method == "fork":
                raise ConfigError(f"start_method='fork' was asked for, but {reason}; use 'auto' or 'spawn'")
            return f"spawn ({reason})"
        self.template = template
        return "fork (from a warm template)"

    def _spawn(self, trial: int) -> _Generation:
        return _Generation(self.runner, self.tmp, trial, self._controlled, self.template)

    def take(self, trial: int, prefetch: bool, controlled: bool) -> _Generation:
        """The workers of ``trial`` (made ahead, or now), and start making those of the next one."""
        gen = self._ready()
        self._controlled = controlled
        if gen is not None and (gen.trial, gen.controlled) != (trial, controlled):
            gen.close()  # made for another trial (a search that skipped one): its specs name that one
            _empty(gen.events_path)  # what its workers wrote before the start is no trial's
            gen = None
        if gen is None:
            gen = self._spawn(trial)
        self._upcoming = trial + 1
        if prefetch:
            if self.template is None:
                self._next = self._spawn(trial + 1)  # spawn's start() returns at once: the boot overlaps
            else:
                # a fork from the template returns once the fork server has forked: do it
                # while this trial runs, not before it starts
                self._prefetch = threading.Thread(target=self._fill, name="racecheck-prefetch", daemon=True)
                self._prefetch.start()
        return gen

    def _fill(self) -> None:
        try:
            self._next = self._spawn(self._upcoming)
        except BaseException as exc:  # noqa: BLE001 - raised by the next take()
            self._next_error = exc

    def _ready(self) -> _Generation | None:
        if self._prefetch is not None:
            self._prefetch.join()
            self._prefetch = None
        if self._next_error is not None:
            exc, self._next_error = self._next_error, None
            raise exc
        gen, self._next = self._next, None
        return gen

    def close(self) -> None:
        with contextlib.suppress(BaseException):
            self._ready()
        if self._next is not None:
            self._next.close()
            self._next = None
        if self.template is not None:
            from .._warm import release

            release(self.template)  # kept for the next run of this target, or stopped
            self.template = None
        self.servers.close()
        shutil.rmtree(self.tmp, ignore_errors=True)


def _serve(runner: Runner, worker: int, conn: Any, controller: Controller | None, gen: _Generation) -> None:
    try:
        while True:
            msg = conn.recv()
            if msg[0] == "arrive":
                if controller is not None:
                    controller.arrive(worker, msg[1])
                conn.send("go")
            elif msg[0] == "ready":
                gen.ready()
            elif msg[0] == "abort":
                gen.fire(b"a")
            elif msg[0] == "finish":
                if controller is not None:
                    controller.finish(worker)
            elif msg[0] == "call":
                try:
                    conn.send(("ok", runner.parent_call(msg[1], msg[2])))
                except Exception as exc:  # noqa: BLE001 - the worker raises it
                    conn.send(("err", f"{type(exc).__name__}: {exc}"))
    except (EOFError, OSError, TypeError):  # TypeError: the pipe was closed under recv()
        if controller is not None:
            controller.finish(worker)


def _wait_for_trial(procs: list[Any], events_path: str, timeout: float) -> None:
    """Wait until the workers exit or their triggers ran ``timeout`` seconds.

    The clock starts when the triggers start (their ``start`` events), not when the trial
    was sent: a worker still starting its interpreter under CPU load is not hung, unless
    it takes more than STARTUP_GRACE.
    """
    hard = time.monotonic() + timeout + STARTUP_GRACE
    deadline = time.monotonic() + timeout + 5.0
    while True:
        for p in procs:
            p.join(max(0.0, deadline - time.monotonic()))
        alive = [i for i, p in enumerate(procs) if p.is_alive()]
        now = time.monotonic()
        if not alive or now >= hard:
            return
        starts = {e.worker: e.t for e in h.read_jsonl(events_path) if e.kind == h.START}
        if any(i not in starts for i in alive):
            deadline = min(hard, now + 0.5)  # still starting up
            continue
        deadline = min(hard, max(starts.values()) / 1e9 + timeout)
        if now >= deadline:
            return


def run_process_trial(runner: Runner, index: int, controller: Controller | None, injector: FaultInjector,
                      prefetch: bool) -> TrialOutcome:
    cfg = runner.cfg
    pool = runner.process_pool()
    gen = pool.take(index, prefetch, controller is not None)
    events_path = gen.events_path
    servers = []
    for i, conn in enumerate(gen.conns):
        if controller is not None:
            controller.register_task(i, gen.procs[i].pid)
        servers.append(pool.servers.submit(_serve, runner, i, conn, controller, gen))
    _wait_for_trial(gen.procs, events_path, cfg.timeout)
    hung = [i for i, p in enumerate(gen.procs) if p.is_alive()]
    stacks: dict[str, str] = {}
    if hung:
        if controller is not None:
            controller.close()
        for i in hung:
            try:
                os.kill(gen.procs[i].pid, signal.SIGUSR1)
            except ProcessLookupError:
                pass
        for i in hung:
            stacks[f"w{i}"] = _read_stack(gen.stack_paths[i])
    gen.close()
    for i in hung:
        _empty(gen.stack_paths[i])  # the slot's next worker writes its dump from the start
    for done in servers:
        done.wait(1.0)
    events = h.read_jsonl(events_path)
    _empty(events_path)
    crashed = {e.worker for e in events if e.kind == h.CRASH}
    for i, p in enumerate(gen.procs):
        if i not in hung and p.exitcode not in (0, None) and i not in crashed:
            # Killed from outside (OOM, a signal): still a crash in the history.
            events.append(h.Event(i, p.pid or 0, time.monotonic_ns(), h.CRASH, f"exit code {p.exitcode}"))
    rt = _runtime.Runtime(mode="processes", sink=h.Sink(), injector=injector, gate=None,
                          parent_call=runner.parent_call)
    return events, hung, stacks, rt


__all__ = ["ProcessExecutor", "ProcessPool", "run_process_trial"]
