"""The scenario schema: what a ``*.race.yaml`` file may say, validated by pydantic.

Every model forbids unknown keys (the loader turns them into "did you mean" messages).
Faults and invariants are one-key mappings (``- crash: {at: spawn:after}``); a bare
string is a shorthand (``- no_exceptions``, ``- exactly_once: spawn``).
``docs/scenario.schema.json`` is generated from these models by :func:`json_schema`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field, TypeAdapter, create_model, field_validator, model_validator

from ..invariants.kinds import KINDS as INVARIANT_REGISTRY
from .schema_base import OneKindItem, _exactly_one, _import_path, _Strict
from .schema_faults import FaultItem

# ``mode`` and ``strategy`` below are Literals (for the JSON schema and type checkers); they must
# equal the execution modes and the built-in strategies a scenario can name (replay is a command,
# not a scenario's strategy): tests/scenario/test_kinds_from_registries.py checks both.


# -- spies --------------------------------------------------------------------------------
class SpySpec(_Strict):
    """Spy on a function: each call becomes an effect named ``name`` (default: the function's name)."""

    target: str = Field(description="'package.module:function' to patch for the run")
    key: str | None = Field(None, description="comma-separated argument names giving the effect's key")
    name: str | None = Field(None, description="effect name (default: the function name)")
    section: bool = Field(False, description="also treat each call as a critical section")

    @field_validator("target")
    @classmethod
    def _target(cls, v: str) -> str:
        return _import_path(v, "spy target")


# -- invariants ---------------------------------------------------------------------------
class CountInvariant(_Strict):
    effect: str
    keys: list[Any] | None = None
    indeterminate: Literal["report", "ignore"] = "report"


class MutualExclusionInvariant(_Strict):
    section: str


class NoExceptionsInvariant(_Strict):
    allow: list[str] = Field(default_factory=list)


class FencingInvariant(_Strict):
    effect: str
    token: str = "token"


class FailClosedInvariant(_Strict):
    effect: str | None = None


class SqlInvariant(_Strict):
    sql: str = Field(description="query run on the postgres backend after each trial (and recovery)")
    describe: str = ""


class SqlCountInvariant(_Strict):
    sql: str = Field(description="query whose number of returned rows is checked")
    equals: int | None = Field(None, ge=0)
    at_least: int | None = Field(None, ge=0)
    at_most: int | None = Field(None, ge=0)

    @model_validator(mode="after")
    def _bound(self) -> SqlCountInvariant:
        if self.equals is None and self.at_least is None and self.at_most is None:
            raise ValueError("give at least one of equals, at_least, at_most")
        return self


class RedisKeysInvariant(_Strict):
    pattern: str
    count: int | None = Field(None, ge=0)
    at_least: int | None = Field(None, ge=0)
    at_most: int | None = Field(None, ge=0)

    @model_validator(mode="after")
    def _bound(self) -> RedisKeysInvariant:
        if self.count is None and self.at_least is None and self.at_most is None:
            raise ValueError("give at least one of count, at_least, at_most")
        return self


class CustomInvariant(_Strict):
    check: str = Field(description="'package.module:function' taking the trial's History")
    name: str | None = None

    @field_validator("check")
    @classmethod
    def _check(cls, v: str) -> str:
        return _import_path(v, "custom check")


INVARIANT_KINDS: tuple[str, ...] = tuple(INVARIANT_REGISTRY)  # racecheck.invariants.kinds
# The options of each kind in a scenario file; every registered kind has one (checked below).
INVARIANT_OPTIONS: dict[str, type[_Strict]] = {
    "exactly_once": CountInvariant, "at_most_once": CountInvariant, "at_least_once": CountInvariant,
    "mutual_exclusion": MutualExclusionInvariant, "no_exceptions": NoExceptionsInvariant,
    "fencing": FencingInvariant, "fail_closed": FailClosedInvariant, "no_stuck": SqlInvariant,
    "rows_unique": SqlInvariant, "sql_count": SqlCountInvariant, "redis_keys": RedisKeysInvariant,
    "custom": CustomInvariant,
}
if set(INVARIANT_OPTIONS) != set(INVARIANT_KINDS):  # pragma: no cover - a registry/schema mismatch
    raise RuntimeError("racecheck.invariants.kinds and the scenario schema disagree on invariant kinds: "
                       f"{sorted(set(INVARIANT_OPTIONS) ^ set(INVARIANT_KINDS))}; add the kind to both")
# The field a bare string fills in, per kind.
_SHORTHAND = {k.name: (k.shorthand, False) for k in INVARIANT_REGISTRY.values() if k.shorthand}


class InvariantItemBase(OneKindItem):
    """One invariant: a one-key mapping from its kind to options; a bare string fills the main option."""

    KINDS = INVARIANT_KINDS
    WHAT = "invariant"
    SHORTHAND = _SHORTHAND


if TYPE_CHECKING:
    InvariantItem = InvariantItemBase
else:
    InvariantItem = create_model(
        "InvariantItem", __base__=InvariantItemBase, __doc__=InvariantItemBase.__doc__,
        **{name: (INVARIANT_OPTIONS[name] | None, None) for name in INVARIANT_KINDS})


# -- backends and triggers ----------------------------------------------------------------
class PostgresSpec(_Strict):
    schema_sql: str | None = Field(None, alias="schema",
                                   description="a .sql file (relative to the scenario) or inline SQL")
    migrations: list[str] = Field(default_factory=list, description=".sql files applied after the schema, in order")
    env: str = Field("DATABASE_URL", description="environment variable the URL is passed in")
    url_kwarg: str | None = Field(None, description="also pass the URL as this keyword argument")


class RedisSpec(_Strict):
    env: str = Field("REDIS_URL", description="environment variable the URL is passed in")
    url_kwarg: str | None = Field(None, description="also pass the URL as this keyword argument")


class BackendsSpec(_Strict):
    postgres: PostgresSpec | None = None
    redis: RedisSpec | None = None

    @model_validator(mode="before")
    @classmethod
    def _empty(cls, data: Any) -> Any:
        if isinstance(data, dict):
            return {k: ({} if v is None else v) for k, v in data.items()}
        return data


class HttpTriggerSpec(_Strict):
    url: str = Field(description="absolute http(s) URL; '{worker}' is replaced by the worker id")
    method: str = "POST"
    body: str | None = None
    json_body: Any = Field(None, alias="json", description="a JSON body (instead of body)")
    headers: dict[str, str] = Field(default_factory=dict)
    timeout: float = Field(10.0, gt=0)
    ok: list[int] | None = Field(None, description="accepted statuses (default: anything below 500)")


class CommandTriggerSpec(_Strict):
    argv: list[str] = Field(min_length=1)
    env: dict[str, str] = Field(default_factory=dict)
    cwd: str | None = None


class TriggerSpec(_Strict):
    """A non-Python trigger: an HTTP request or a command (built by racecheck.external)."""

    http: HttpTriggerSpec | None = None
    command: CommandTriggerSpec | None = None

    @model_validator(mode="after")
    def _one(self) -> TriggerSpec:
        _exactly_one(self, ("http", "command"), "trigger")
        return self


class SinkFaultSpec(_Strict):
    path: str = "*"
    key: str | None = None
    calls: list[int] = Field(default_factory=list)
    delay: float = Field(0.0, ge=0.0)
    status: int | None = Field(None, ge=100, le=599)
    hang: bool = False
    ambiguous: bool = False


class EffectSinkSpec(_Strict):
    """A loopback HTTP server standing in for a side effect of a non-Python system."""

    env: str = Field(description="environment variable that hands the sink's URL to the system")
    effect: str | None = Field(None, description="effect name (default: the first path segment)")
    key: str = Field("path", description="path | path:<i> | body | body:<field> | query:<name> | header:<name>")
    faults: list[SinkFaultSpec] = Field(default_factory=list)


class ServiceSpec(_Strict):
    """A system under test (any language) started for the run on a free loopback port, stopped after it."""

    command: list[str] = Field(min_length=1, description="argv; '{port}' is replaced by the chosen port")
    cwd: str | None = Field(None, description="working directory, relative to the scenario file")
    env: dict[str, str] = Field(default_factory=dict,
                                description="extra environment; '${VAR}' expands from the run's environment "
                                            "(the database URL, the effect sink's URL, ...)")
    port_env: str = Field("PORT", description="environment variable the port is passed in")
    url_env: str = Field("SERVICE_URL", description="environment variable holding the service's URL "
                                                    "(write '${SERVICE_URL}/path' in an http trigger)")
    ready: str | None = Field(None, description="HTTP path polled until it answers (default: the port accepts)")
    ready_timeout: float = Field(20.0, gt=0)


# -- the scenario -------------------------------------------------------------------------
class Scenario(_Strict):
    """One race: N triggers of a target, repeated for trials, checked by invariants."""

    name: str = Field(min_length=1, description="unique within a run; shown in reports")
    description: str = ""
    trigger: TriggerSpec | None = Field(None, description="a non-Python trigger instead of target")
    target: str | None = Field(None, validate_default=True,
                               description="'package.module:function' run by every worker")
    args: list[Any] = Field(default_factory=list, description="positional arguments for every worker")
    kwargs: dict[str, Any] = Field(default_factory=dict, description="keyword arguments for every worker")
    worker_args: list[list[Any]] | None = Field(
        None, description="positional arguments per worker (worker i gets item i modulo the length)")
    n: int = Field(8, ge=1, le=10_000, description="number of simultaneous triggers")
    mode: Literal["threads", "processes", "asyncio"] = "threads"
    trials: int = Field(50, ge=1, le=10_000_000)
    thorough_trials: int | None = Field(None, ge=1, le=10_000_000, description="trials under --profile thorough (default 10x)")
    strategy: Literal["stress", "random", "pct", "dfs", "hypothesis"] = "stress"
    seed: int | None = None
    timeout: float = Field(30.0, gt=0, le=86_400, description="seconds a trial may take before it is a hang")
    stop_on_failure: bool = True
    depth: int | None = Field(None, ge=1, description="pct bug depth")
    max_preemptions: int | None = Field(None, ge=0, description="dfs preemption bound")
    instrument: list[str] = Field(default_factory=list, description="modules whose every line a worker runs "
                                  "is a point (in-memory races without racecheck.point)")
    setup: str | None = Field(None, description="'module:function' called before each trial")
    recover: str | None = Field(None, description="'module:function': the recovery step after each trial")
    spies: list[SpySpec] = Field(default_factory=list)
    effect_sink: EffectSinkSpec | None = None
    service: ServiceSpec | None = Field(None, description="a system under test to start (after the backends "
                                                          "and the effect sink) and stop around the run")
    faults: list[FaultItem] = Field(default_factory=list)
    invariants: list[InvariantItem] | None = Field(None, description="default: no_exceptions")
    backends: BackendsSpec | None = None
    expect: Literal["pass", "violation", "inconclusive"] = Field(
        "pass", description="'violation': the scenario passes only if a violation is found (a known bug); "
                            "'inconclusive': only if the run could not have shown one (see docs/verdicts.md)")
    expect_invariant: str | None = Field(None, description="with expect: violation, the invariant that must break")

    @field_validator("target")
    @classmethod
    def _target(cls, v: str | None, info: Any) -> str | None:
        has_trigger = info.data.get("trigger") is not None
        if (v is None) != has_trigger:
            if "trigger" not in info.data:  # the trigger itself failed validation: reported there
                return v
            raise ValueError("give exactly one of 'target' (a 'package.module:function') or 'trigger' "
                             "(http or command)")
        return None if v is None else _import_path(v, "target")

    @field_validator("setup", "recover")
    @classmethod
    def _paths(cls, v: str | None, info: Any) -> str | None:
        return None if v is None else _import_path(v, info.field_name)

    @field_validator("expect_invariant")
    @classmethod
    def _expect_inv(cls, v: str | None, info: Any) -> str | None:
        if v is not None and info.data.get("expect") != "violation":
            raise ValueError("expect_invariant needs 'expect: violation'")
        return v

    @field_validator("mode")
    @classmethod
    def _mode(cls, v: str, info: Any) -> str:
        if v == "processes" and info.data.get("trigger") is not None:
            raise ValueError("mode 'processes' needs a Python 'target'; run http/command triggers in threads")
        return v


class ScenarioList(_Strict):
    """A file holding several scenarios."""

    scenarios: list[Scenario] = Field(min_length=1)


def json_schema() -> dict[str, Any]:
    """The JSON Schema of a scenario file (one scenario, or ``scenarios: [...]``)."""
    schema = TypeAdapter(Scenario | ScenarioList).json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "racecheck scenario file"
    return schema
