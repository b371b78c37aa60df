"""The scenario schema's fault and invariant kinds come from the registries, and freeze is expressible."""

from __future__ import annotations

import inspect
import json
import re
import shutil
import typing
import uuid
from pathlib import Path

import pytest
from helpers import HERE, write_scenario

from racecheck import faults as F
from racecheck.cli import main
from racecheck.invariants.kinds import KINDS as INVARIANT_KINDS
from racecheck.scenario.build import build_fault, check_scenario
from racecheck.scenario.loader import LoadedScenario, ScenarioError, load_file
from racecheck.scenario.schema import Scenario

DOCS_SCHEMA = HERE.parent.parent / "docs" / "scenario.schema.json"
YAML_FAULTS = [k for k in F.KINDS.values() if k.yaml]


def _required_options(kind: F.FaultKind) -> dict[str, object]:
    """A value for each parameter of the kind's constructor that has no default."""
    hints = typing.get_type_hints(kind.make)
    sample = {str: "work", float: 0.1, int: 1}
    return {name: sample[hints[name]] for name, p in inspect.signature(kind.make).parameters.items()
            if p.default is inspect.Parameter.empty}


@pytest.mark.parametrize("kind", YAML_FAULTS, ids=lambda k: k.name)
def test_every_registered_fault_kind_is_a_scenario_fault(kind: F.FaultKind) -> None:
    spec = Scenario.model_validate({"name": "s", "target": "m:f", "mode": "processes",
                                    "faults": [{kind.name: _required_options(kind)}]})
    item = spec.faults[0]
    assert item.kind == kind.name
    fault = build_fault(item, ("faults", 0), {"postgres", "redis"}, "processes")
    assert fault.action == kind.name
    assert fault == kind.make(**item.spec.model_dump())


def test_the_schema_offers_exactly_the_registered_kinds() -> None:
    docs = json.loads(DOCS_SCHEMA.read_text())["$defs"]
    yaml_faults = [k.name for k in YAML_FAULTS]
    assert list(Scenario.model_fields["faults"].annotation.__args__[0].model_fields) == yaml_faults  # type: ignore[union-attr]
    assert sorted(docs["FaultItem"]["properties"]) == sorted(yaml_faults)
    assert "freeze" in yaml_faults and "pause" not in yaml_faults  # pause: an alias of delay, yaml=False
    assert sorted(docs["InvariantItem"]["properties"]) == sorted(INVARIANT_KINDS)


# One example per registered invariant kind: a kind added to the registry without one fails here.
INVARIANT_EXAMPLES: dict[str, object] = {
    "exactly_once": "spawn", "at_most_once": "spawn", "at_least_once": {"effect": "spawn", "keys": [1]},
    "mutual_exclusion": "job", "no_exceptions": None, "fencing": "write", "fail_closed": "spawn",
    "no_stuck": "select 1", "rows_unique": "select 1", "sql_count": {"sql": "select 1", "equals": 1},
    "redis_keys": {"pattern": "lock:*", "count": 0}, "custom": "m:check",
}


def test_every_registered_invariant_kind_is_a_scenario_invariant() -> None:
    assert set(INVARIANT_EXAMPLES) == set(INVARIANT_KINDS)
    items = [k if v is None else {k: v} for k, v in INVARIANT_EXAMPLES.items()]
    spec = Scenario.model_validate({"name": "s", "target": "m:f", "invariants": items})
    assert [i.kind for i in spec.invariants or []] == list(INVARIANT_EXAMPLES)


def test_an_unknown_kind_names_the_registered_ones(tmp_path: Path) -> None:
    path = write_scenario(tmp_path, "bad", """
        name: typo
        target: scenario_targets:claim_fixed
        faults:
          - frezee: {at: work, seconds: 1}
        """)
    (err,) = load_file(path)
    assert isinstance(err, ScenarioError)
    assert "freeze" in str(err) and "frezee" in str(err)


def test_db_error_takes_after_commit_not_after(tmp_path: Path) -> None:
    """``after`` on db_error was accepted and ignored; the generated options refuse it and list after_commit."""
    path = write_scenario(tmp_path, "after", """
        name: ack-lost
        target: scenario_targets:claim_fixed
        faults:
          - db_error: {at: "sql:COMMIT", after: true}
        """)
    (err,) = load_file(path)
    assert isinstance(err, ScenarioError)
    assert "faults[0].db_error.after: unknown key 'after'" in str(err) and "after_commit" in str(err)


@pytest.mark.parametrize("mode", ["threads", "asyncio"])
def test_freeze_outside_processes_is_a_one_line_error(tmp_path: Path, mode: str) -> None:
    path = write_scenario(tmp_path, "freeze", f"""
        name: freeze-{mode}
        target: scenario_targets:claim_fixed
        mode: {mode}
        faults:
          - freeze: {{at: work, seconds: 1}}
        """)
    (loaded,) = load_file(path)
    assert isinstance(loaded, LoadedScenario)
    with pytest.raises(ScenarioError) as info:
        check_scenario(loaded)
    text = str(info.value)
    assert "\n" not in text
    assert re.search(r"freeze\.race\.yaml:5: faults\[0\]\.freeze: fault freeze stops a whole worker process "
                     rf"and needs mode='processes'.*\(this scenario has mode: {mode}\)", text), text


LEASE = """
    name: {name}
    target: lease_target:locked_job
    n: 2
    trials: 1
    mode: processes
    timeout: 20
    backends:
      redis: {{env: RACECHECK_TEST_SEARCH_REDIS_URL}}
    faults:
      - {fault}: {{at: work, seconds: 1.0}}
    invariants:
      - mutual_exclusion: job
      - no_exceptions
    expect: {expect}
    """


def test_a_yaml_freeze_breaks_an_auto_renewed_lease_and_a_pause_does_not(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """freeze stops every thread of the worker process, the renewal thread too: the lease expires and
    the other worker enters the section. A delay (one thread sleeps) lets the renewal thread keep it."""
    shutil.copy(HERE.parent / "search" / "lease.py", tmp_path / "lease_target.py")
    monkeypatch.setenv("RACECHECK_TEST_SEARCH_LEASE_KEY", f"rc-yaml-freeze-{uuid.uuid4().hex}")
    frozen = write_scenario(tmp_path, "frozen", LEASE.format(name="freeze-loses-lease", fault="freeze",
                                                             expect="violation"))
    paused = write_scenario(tmp_path, "paused", LEASE.format(name="pause-keeps-lease", fault="delay", expect="pass"))
    code = main(["run", str(frozen), str(paused)])
    out = capsys.readouterr().out
    assert re.search(r"^CAUGHT +freeze-loses-lease: .*mutual_exclusion", out, re.M), out
    assert re.search(r"^PASS +pause-keeps-lease: no violation in 1/1 trials", out, re.M), out
    assert code == 0


def _literal_choices(field: str) -> set[str]:
    return set(typing.get_args(Scenario.model_fields[field].annotation))


def test_scenario_modes_are_the_execution_modes() -> None:
    """Each scenario mode has a trial executor, and each executor's mode is a scenario mode."""
    from racecheck import execution

    assert _literal_choices("mode") == set(execution.MODES) == set(execution._EXECUTORS)
    for mode in execution.MODES:
        ex = execution.executor_for(mode)
        assert callable(ex.run_trial) and callable(ex.make_controller)
    with pytest.raises(Exception, match="has no trial executor; use one of threads"):
        execution.executor_for("fibers")


def test_scenario_strategies_are_the_built_in_strategies() -> None:
    """A scenario names a built-in strategy (replay runs from a recorded schedule, not a file)."""
    from racecheck.scheduling.strategies import STRATEGY_NAMES

    assert _literal_choices("strategy") == set(STRATEGY_NAMES) - {"replay"}
