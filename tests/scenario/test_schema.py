"""The scenario schema: examples validate, shorthands normalise, the exported JSON Schema is current."""

from __future__ import annotations

import json

from helpers import EXAMPLES

from racecheck.scenario.build import check_scenario as check
from racecheck.scenario.loader import LoadedScenario, load_paths, parse_yaml
from racecheck.scenario.schema import Scenario, json_schema

DOCS_SCHEMA = EXAMPLES.parent.parent / "docs" / "scenario.schema.json"


def test_examples_validate_and_build() -> None:
    """Every example scenario loads, validates and builds without an error."""
    results = load_paths([EXAMPLES])
    assert len(results) >= 2
    for r in results:
        assert isinstance(r, LoadedScenario), str(r)
        check(r)


def test_shorthands_normalise() -> None:
    """A bare invariant name, a string fault and a string invariant option become full specs."""
    spec = Scenario.model_validate({
        "name": "s", "target": "m:f",
        "faults": [{"delay": {"at": "x", "seconds": 1}}, {"crash": "spawn:after"}, {"scrub_env": "REDIS_URL"}],
        "invariants": ["no_exceptions", {"exactly_once": "spawn"}, {"mutual_exclusion": "lock"}],
    })
    assert spec.faults[1].kind == "crash" and spec.faults[1].spec.at == "spawn:after"  # type: ignore[attr-defined]
    assert spec.faults[2].spec.names == ["REDIS_URL"]  # type: ignore[attr-defined]
    assert [i.kind for i in spec.invariants or []] == ["no_exceptions", "exactly_once", "mutual_exclusion"]
    assert spec.invariants[1].spec.effect == "spawn"  # type: ignore[index,attr-defined]


def test_bare_crash_needs_a_point() -> None:
    """'- crash' without a point is rejected: a fault must say where it fires."""
    import pydantic
    import pytest

    with pytest.raises(pydantic.ValidationError, match="at"):
        Scenario.model_validate({"name": "s", "target": "m:f", "faults": ["crash"]})


def test_yaml_lines_are_recorded() -> None:
    """The loader maps every key and list item to its 1-based line."""
    _, lines = parse_yaml("name: a\nfaults:\n  - crash: x\n  - delay: {at: y, seconds: 1}\n", "f.yaml")
    assert lines[("name",)] == 1
    assert lines[("faults", 0)] == 3
    assert lines[("faults", 1, "delay", "seconds")] == 4


def test_docs_schema_is_current() -> None:
    """docs/scenario.schema.json equals the schema exported from the models (regenerate with racecheck schema)."""
    assert json.loads(DOCS_SCHEMA.read_text()) == json.loads(json.dumps(json_schema()))
