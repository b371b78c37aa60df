"""Translate a validated scenario into ``racecheck.run`` arguments (and provision its backends).

Everything that can only be checked by importing or resolving (the target, spies, fault
error classes, custom checks, schema files) is checked here and reported as a
:class:`~racecheck.scenario.loader.ScenarioError` naming the file, line and field.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import faults as F
from .. import invariants as inv
from .. import state_checks as checks
from ..errors import ConfigError, InfrastructureError, RacecheckError
from .loader import LoadedScenario, Loc
from .schema import FaultItem, InvariantItem, Scenario

PROFILES = ("fast", "thorough")


class BuildError(RacecheckError):
    """A scenario field that validated but cannot be built (``loc`` inside the scenario)."""

    def __init__(self, loc: Loc, message: str) -> None:
        super().__init__(message)
        self.loc = loc
        self.message = message


@dataclass
class ScenarioPlan:
    """What ``racecheck.run`` gets for one scenario."""

    target: Any
    options: dict[str, Any]
    handles: dict[str, Any] = field(default_factory=dict)


def add_import_paths(directory: Path) -> None:
    """Put the scenario's folder and its parent on sys.path (workers inherit it)."""
    for p in (directory.parent.resolve(), directory.resolve()):
        if str(p) not in sys.path:
            sys.path.insert(0, str(p))


def import_callable(path: str, loc: Loc) -> Callable[..., Any]:
    from ..spy import load_callable

    try:
        return load_callable(path)
    except ConfigError as exc:
        raise BuildError(loc, str(exc)) from None
    except SystemExit as exc:  # the user's module called sys.exit() while importing
        raise BuildError(loc, f"importing {path!r} called sys.exit({exc.code!r}); a target module must "
                              "not exit when imported (move that code under if __name__ == '__main__')"
                         ) from None
    except Exception as exc:  # noqa: BLE001 - the user's module failed while importing
        raise BuildError(loc, f"importing {path!r} failed: {type(exc).__name__}: {exc}") from None


class _Cycle:
    """``worker_args`` as a callable: worker i gets row i modulo the number of rows."""

    def __init__(self, rows: list[list[Any]]) -> None:
        self.rows = rows

    def __call__(self, worker: int) -> tuple[Any, ...]:
        return tuple(self.rows[worker % len(self.rows)])


class _Chain:
    """Run several setup steps in order (backend resets, then the user's setup)."""

    def __init__(self, steps: list[Callable[[], Any]]) -> None:
        self.steps = steps

    def __call__(self) -> None:
        for step in self.steps:
            step()


# -- pieces ---------------------------------------------------------------------------------
def build_target(spec: Scenario, directory: Path) -> Any:
    if spec.target is not None:
        fn = import_callable(spec.target, ("target",))
        return spec.target if spec.mode == "processes" else fn
    assert spec.trigger is not None
    if spec.trigger.http is not None:
        h = spec.trigger.http
        options: dict[str, Any] = {"method": h.method, "headers": h.headers, "timeout": h.timeout}
        if h.body is not None:
            options["body"] = h.body
        if h.json_body is not None:
            options["json"] = h.json_body
        if h.ok is not None:
            options["ok"] = h.ok
        return _external("http_trigger", ("trigger", "http"), h.url, **options)
    c = spec.trigger.command
    assert c is not None
    cwd = str((directory / c.cwd).resolve()) if c.cwd else str(directory)
    return _external("command_trigger", ("trigger", "command"), list(c.argv), env=dict(c.env), cwd=cwd)


def _external(name: str, loc: Loc, *args: Any, **kwargs: Any) -> Any:
    try:
        import racecheck.external as ext

        factory = getattr(ext, name)
    except (ImportError, AttributeError):
        try:  # the package may not re-export it (yet)
            mod = __import__("racecheck.external." + ("http" if name == "http_trigger" else "command"),
                             fromlist=[name])
            factory = getattr(mod, name)
        except (ImportError, AttributeError):
            raise BuildError(loc, f"this trigger needs racecheck.external.{name}, which is not available in "
                                  "this installation; use a Python 'target' instead") from None
    try:
        return factory(*args, **kwargs)
    except (ConfigError, TypeError, ValueError) as exc:
        raise BuildError(loc, str(exc)) from None


def build_spies(spec: Scenario) -> list[Any]:
    from ..spy import _key_fn, resolve, spy

    out = []
    for i, s in enumerate(spec.spies):
        try:
            _, _, fn = resolve(s.target)
        except ConfigError as exc:
            raise BuildError(("spies", i, "target"), str(exc)) from None
        except Exception as exc:  # noqa: BLE001
            raise BuildError(("spies", i, "target"), f"importing {s.target!r} failed: {exc}") from None
        func = getattr(fn, "__func__", fn)
        try:
            _key_fn(s.key, func)
        except ConfigError as exc:
            raise BuildError(("spies", i, "key"), str(exc)) from None
        out.append(spy(s.target, key=s.key, name=s.name, section=s.section))
    return out


def build_fault(item: FaultItem, loc: Loc, backends: set[str], mode: str = "threads") -> F.Fault:
    """The Fault of one ``faults:`` item: its kind's constructor called with the item's options."""
    kind = F.kind_of(item.kind)
    d = item.spec.model_dump()
    loc = loc + (kind.name,)
    if kind.raises:
        try:
            F.resolve_error(kind.name, d["error"])
        except ConfigError as exc:
            raise BuildError(loc + ("error",), str(exc)) from None
        except (Exception, SystemExit) as exc:  # noqa: BLE001 - importing the named module failed
            raise BuildError(loc + ("error",), f"cannot look up {d['error']!r}: "
                                               f"{type(exc).__name__}: {exc}") from None
    if "backend" in d and d["backend"] not in backends:
        raise BuildError(loc + ("backend",), f"{kind.name} names backend {d['backend']!r} but the scenario declares "
                                             f"{', '.join(sorted(backends)) or 'no backends'}; add it under 'backends:'")
    try:
        kind.check_mode(mode)
    except ConfigError as exc:
        raise BuildError(loc, f"{exc} (this scenario has mode: {mode})") from None
    try:
        return kind.make(**d)
    except ConfigError as exc:
        raise BuildError(loc, str(exc)) from None


def build_invariant(item: InvariantItem, loc: Loc, handles: dict[str, Any], backends: set[str]) -> Any:
    kind = item.kind
    s: Any = item.spec
    loc = loc + (kind,)
    needs = {"no_stuck": "postgres", "rows_unique": "postgres", "sql_count": "postgres", "redis_keys": "redis"}
    if kind in needs and needs[kind] not in backends:
        raise BuildError(loc, f"{kind} queries the {needs[kind]} backend; declare it under 'backends: {{{needs[kind]}: {{}}}}'")
    if kind in ("exactly_once", "at_most_once", "at_least_once"):
        return getattr(inv, kind)(s.effect, s.keys, s.indeterminate)
    if kind == "mutual_exclusion":
        return inv.mutual_exclusion(s.section)
    if kind == "no_exceptions":
        return inv.no_exceptions(s.allow)
    if kind == "fencing":
        return inv.fencing(s.effect, s.token)
    if kind == "fail_closed":
        return inv.fail_closed(s.effect)
    if kind == "no_stuck":
        return inv.no_stuck(checks.RowsQuery((handles, "postgres"), s.sql), s.describe or s.sql)
    if kind == "rows_unique":
        return checks.RowsUnique((handles, "postgres"), s.sql, s.describe)
    if kind == "sql_count":
        return checks.RowCount((handles, "postgres"), s.sql, s.equals, s.at_least, s.at_most)
    if kind == "redis_keys":
        return checks.RedisKeys((handles, "redis"), s.pattern, s.count, s.at_least, s.at_most)
    fn = import_callable(s.check, loc + ("check",))
    return inv.custom(fn, s.name)


def schema_text(spec: Scenario, directory: Path) -> str | None:
    """The postgres schema plus migrations as one SQL text (files are read relative to the scenario)."""
    pg = spec.backends.postgres if spec.backends else None
    if pg is None:
        return None
    texts = []
    if pg.schema_sql:
        raw = pg.schema_sql.strip()
        if "\n" not in raw and raw.lower().endswith(".sql"):
            texts.append(_read(directory / raw, ("backends", "postgres", "schema")))
        else:
            texts.append(pg.schema_sql)
    for i, m in enumerate(pg.migrations):
        texts.append(_read(directory / m, ("backends", "postgres", "migrations", i)))
    return "\n;\n".join(texts) if texts else None


def _read(path: Path, loc: Loc) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise BuildError(loc, f"cannot read {str(path)!r}: {exc.strerror or exc}; check the path "
                              "(relative to the scenario file)") from None
    except UnicodeDecodeError as exc:
        raise BuildError(loc, f"{str(path)!r} is not UTF-8 (byte {exc.object[exc.start]:#04x} at offset "
                              f"{exc.start}); save it as UTF-8") from None


def trials_for(spec: Scenario, profile: str) -> int:
    if profile == "thorough":
        return spec.thorough_trials or spec.trials * 10
    return spec.trials


def build_options(loaded: LoadedScenario, handles: dict[str, Any], profile: str = "fast",
                  overrides: dict[str, Any] | None = None) -> ScenarioPlan:
    """Everything but the backends: raises BuildError for fields that cannot be built."""
    spec = loaded.spec
    add_import_paths(loaded.directory)
    backends = set()
    if spec.backends is not None:
        backends = {k for k in ("postgres", "redis") if getattr(spec.backends, k) is not None}
    target = build_target(spec, loaded.directory)
    options: dict[str, Any] = {
        "n": spec.n, "trials": trials_for(spec, profile), "mode": spec.mode, "strategy": spec.strategy,
        "timeout": spec.timeout, "stop_on_failure": spec.stop_on_failure, "args": tuple(spec.args),
        "kwargs": dict(spec.kwargs), "name": spec.name,
        "spies": build_spies(spec),
        "faults": [build_fault(f, ("faults", i), backends, (overrides or {}).get("mode", spec.mode))
                   for i, f in enumerate(spec.faults)],
    }
    if spec.invariants is not None:
        options["invariants"] = [build_invariant(it, ("invariants", i), handles, backends)
                                 for i, it in enumerate(spec.invariants)]
    if spec.seed is not None:
        options["seed"] = spec.seed
    if spec.worker_args:
        options["worker_args"] = _Cycle(spec.worker_args)
    if spec.depth is not None:
        options["depth"] = spec.depth
    if spec.max_preemptions is not None:
        options["max_preemptions"] = spec.max_preemptions
    if spec.instrument:
        options["instrument"] = tuple(spec.instrument)
    if spec.setup:
        options["setup"] = import_callable(spec.setup, ("setup",))
    if spec.recover:
        options["recover"] = import_callable(spec.recover, ("recover",))
    schema_text(spec, loaded.directory)  # files must exist even when nothing is provisioned
    file = str(loaded.file).replace("{", "{{").replace("}", "}}")
    name = f" --name '{spec.name}'" if loaded.prefix else ""
    options["replay_hint"] = f"racecheck replay {file}{name} '{{schedule}}'"
    options.update(overrides or {})
    return ScenarioPlan(target, options, handles)


def check_scenario(loaded: LoadedScenario) -> None:
    """Build the scenario without running it or provisioning backends (``racecheck validate``)."""
    try:
        build_options(loaded, {})
    except BuildError as exc:
        raise loaded.error(exc.loc, exc.message) from None


# -- backends and run-time environment -----------------------------------------------------------
def _close(handle: Any) -> None:
    for name in ("drop", "close"):
        fn = getattr(handle, name, None)
        if callable(fn):
            with contextlib.suppress(Exception):
                fn()
            return


def _closer(handle: Any) -> Callable[[], None]:
    return lambda: _close(handle)


_SERVERS: dict[str, Any] = {}


def close_servers() -> None:
    """Stop the servers this process started for scenarios (the CLI calls it once at the end)."""
    while _SERVERS:
        _, server = _SERVERS.popitem()
        _close(server)


def _provide(kind: str) -> Any:
    """One server per kind per process, shared by every scenario of the run (each gets its own database)."""
    # Keyed by the provider restriction too: a run that allows other providers gets its own server.
    key = f"{kind}|{os.environ.get('RACECHECK_PROVIDERS', '')}"
    server = _SERVERS.get(key)
    if server is not None:
        if _alive(server):
            return server
        _close(server)
    server = _start_server(kind)
    if not _SERVERS:
        import atexit

        atexit.register(close_servers)
    _SERVERS[key] = server
    return server


def _alive(server: Any) -> bool:
    running = getattr(server, "running", None)
    if callable(running):
        with contextlib.suppress(Exception):
            return bool(running())
        return False
    return True


def _start_server(kind: str) -> Any:
    try:
        import racecheck.backends as b

        provider = getattr(b, f"provide_{kind}")
    except (ImportError, AttributeError) as exc:
        raise InfrastructureError(
            f"the scenario needs a {kind} backend but racecheck.backends cannot provide one here ({exc}); "
            "install racecheck with its backends") from None
    try:
        return provider()
    except InfrastructureError:
        raise
    except Exception as exc:  # noqa: BLE001 - NoBackendError and friends: infrastructure, exit 3
        raise InfrastructureError(f"no {kind} backend: {exc}") from None


def _postgres_db(server: Any, sql: str | None) -> Any:
    try:
        return server.database(schema=sql)
    except Exception as exc:  # noqa: BLE001
        mod = type(exc).__module__
        if mod.startswith("psycopg") and type(exc).__name__ not in ("OperationalError", "InterfaceError"):
            raise BuildError(("backends", "postgres", "schema"),
                             f"the schema failed to load: {type(exc).__name__}: {str(exc).strip()}") from None
        raise InfrastructureError(f"could not create a postgres database: {exc}") from None


@contextlib.contextmanager
def prepared(loaded: LoadedScenario, profile: str = "fast",
             overrides: dict[str, Any] | None = None) -> Iterator[ScenarioPlan]:
    """Build the run, provision and reset its backends and effect sink; undo it all on exit.

    Raises ScenarioError for bad input and InfrastructureError when a backend is missing.
    """
    spec = loaded.spec
    handles: dict[str, Any] = {}
    saved_env = dict(os.environ)
    cleanup: list[Callable[[], None]] = []
    try:
        try:
            plan = build_options(loaded, handles, profile, overrides)
            resets: list[Callable[[], None]] = []
            if spec.backends is not None and spec.backends.postgres is not None:
                pg = spec.backends.postgres
                sql = schema_text(spec, loaded.directory)
                server = _provide("postgres")  # shared by the run's scenarios; see close_servers()
                db = _postgres_db(server, sql)
                cleanup.append(_closer(db))
                handles["postgres"] = db
                resets.append(db.reset)
                _hand_over(plan, pg.env, pg.url_kwarg, db.url)
            if spec.backends is not None and spec.backends.redis is not None:
                rs = spec.backends.redis
                rserver = _provide("redis")
                rdb = rserver.database()
                cleanup.append(_closer(rdb))
                handles["redis"] = rdb
                resets.append(rdb.reset)
                _hand_over(plan, rs.env, rs.url_kwarg, rdb.url)
            if spec.effect_sink is not None:
                sink = _start_sink(spec)
                cleanup.append(sink.stop)
                os.environ[spec.effect_sink.env] = sink.url
            if spec.service is not None:
                svc = _start_service(spec, loaded.directory)
                cleanup.append(svc.stop)
                os.environ[spec.service.url_env] = svc.url
        except BuildError as exc:
            raise loaded.error(exc.loc, exc.message) from None
        if resets:
            user_setup = plan.options.get("setup")
            plan.options["setup"] = _Chain(resets + ([user_setup] if user_setup else []))
        plan.options["backends"] = dict(handles)
        yield plan
    finally:
        for fn in reversed(cleanup):
            with contextlib.suppress(Exception):
                fn()
        os.environ.clear()
        os.environ.update(saved_env)


def _hand_over(plan: ScenarioPlan, env: str, url_kwarg: str | None, url: str) -> None:
    os.environ[env] = url
    if url_kwarg:
        plan.options["kwargs"][url_kwarg] = url


def _start_sink(spec: Scenario) -> Any:
    assert spec.effect_sink is not None
    es = spec.effect_sink
    try:
        from racecheck.external.sink import EffectSink, SinkFault
    except ImportError:
        raise BuildError(("effect_sink",), "effect_sink needs racecheck.external, which is not available "
                                           "in this installation") from None
    try:
        faults = [SinkFault(f.path, f.key, tuple(f.calls), f.delay, f.status, f.hang, f.ambiguous)
                  for f in es.faults]
        return EffectSink(es.effect, es.key, faults).start()
    except ConfigError as exc:
        raise BuildError(("effect_sink",), str(exc)) from None


def _start_service(spec: Scenario, directory: Path) -> Any:
    """Start ``service:`` with ``${VAR}`` in its env expanded from the run's environment (backends, sink)."""
    assert spec.service is not None
    sv = spec.service
    from racecheck.external.http import expand_env
    from racecheck.external.service import Service, ServiceError

    try:
        env = {k: expand_env(v, f"service env {k}") for k, v in sv.env.items()}
        cwd = str((directory / sv.cwd).resolve()) if sv.cwd else str(directory)
        return Service(list(sv.command), env=env, cwd=cwd, port_env=sv.port_env, ready=sv.ready,
                       ready_timeout=sv.ready_timeout).start()
    except ServiceError:
        raise  # the service could not start: infrastructure (exit 3), not bad input
    except ConfigError as exc:
        raise BuildError(("service",), str(exc)) from None
