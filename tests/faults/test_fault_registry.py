"""A fault kind is one FaultKind registered in one place: the injector, the Python API, fail_closed,
the mode check and the scenario options all follow from it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

import racecheck
from racecheck import faults as F
from racecheck import history as h
from racecheck.errors import ConfigError


class ToyOutage(Exception):
    """What the toy kind raises where it fires."""


def toy(at: str, level: int = 1, *, worker: int | list[int] | None = None, nth: int = 1,
        every: bool = False, p: float | None = None, after: bool = False, optional: bool = False) -> F.Fault:
    """Raise ToyOutage at the point.

    Args:
        at: the point glob.
        level: how bad the outage is (recorded in the fault event).
        worker: only in this worker (or these workers).
        nth: fire at the nth time the point is reached in a worker.
        every: fire every time from the nth on.
        p: fire with this probability each time instead.
        after: fire after the call at the point completed.
        optional: the run may pass without this fault firing.
    """
    return F.make_fault("toy", at, worker, nth, every, p, after, optional, level=level)


def _apply(rt: object, worker: int, label: str, fault: F.Fault) -> None:
    raise ToyOutage(f"toy outage level {fault.params['level']} at {label}")


TOY = F.FaultKind("toy", toy, _apply, recorded=("level",), failure=lambda evs, e: True, modes=("threads",),
                  minimum={"level": 1})


@pytest.fixture
def toy_kind() -> Iterator[F.FaultKind]:
    F.register(TOY)  # the one place the kind is registered
    try:
        yield TOY
    finally:
        F.unregister("toy")


def claim(job: int = 1) -> None:
    racecheck.point("claim")
    racecheck.effect("spawn", key=job)


def test_a_registered_kind_fires_from_the_python_api(toy_kind: F.FaultKind) -> None:
    assert "toy" in F.names() and "toy" in F.ACTIONS
    res = racecheck.run(claim, n=2, trials=3, faults=[toy("claim", level=3, worker=0)],
                        invariants=[racecheck.no_exceptions()])
    assert res.verdict == "violation"
    v = res.violations[0]
    assert v.invariant == "no_exceptions" and "ToyOutage" in v.message and "level 3" in v.message
    fired = [e for e in res.trials[0].history if e.kind == h.FAULT]
    assert [(e.name, e.worker, e.payload.get("level")) for e in fired] == [("toy", 0, 3)]


def test_without_the_fault_the_same_run_passes(toy_kind: F.FaultKind) -> None:
    res = racecheck.run(claim, n=2, trials=3, invariants=[racecheck.no_exceptions()])
    assert res.verdict == "pass"


def test_the_kind_decides_fail_closed(toy_kind: F.FaultKind) -> None:
    """fail_closed asks the kind whether its firing is a failure: the toy says yes, so a worker
    that swallowed it and still did the effect failed open."""
    def swallowing() -> None:
        try:
            racecheck.point("claim")
        except ToyOutage:
            pass
        racecheck.effect("spawn", key=1)

    res = racecheck.run(swallowing, n=1, trials=1, faults=[toy("claim")], invariants=[racecheck.fail_closed("spawn")])
    assert res.verdict == "violation" and "failed open" in res.violations[0].message
    clean = racecheck.run(swallowing, n=1, trials=1, invariants=[racecheck.fail_closed("spawn")])
    assert clean.verdict == "pass"


def test_the_kind_names_the_modes_it_applies_in(toy_kind: F.FaultKind) -> None:
    with pytest.raises(ConfigError, match="fault toy needs mode 'threads', not 'asyncio'"):
        racecheck.run(claim, n=2, trials=1, mode="asyncio", faults=[toy("claim")])


def test_an_unregistered_kind_is_refused_and_names_the_registered_ones() -> None:
    with pytest.raises(ConfigError, match=r"unknown fault action 'toy'; use one of crash, db_error"):
        toy("claim")


def test_a_name_is_registered_once(toy_kind: F.FaultKind) -> None:
    with pytest.raises(ConfigError, match="already registered"):
        F.register(F.FaultKind("toy", toy, _apply))
    assert F.register(TOY) is TOY  # registering the same kind again is harmless


def test_its_scenario_options_are_generated_from_the_constructor(toy_kind: F.FaultKind) -> None:
    pytest.importorskip("pydantic")
    from pydantic import ValidationError

    from racecheck.scenario.schema_faults import options_model

    model = options_model(TOY)
    assert model.__name__ == "ToyFault"
    opts = model.model_validate({"at": "claim", "level": 2, "worker": [0, 1]})
    assert toy(**opts.model_dump()) == toy("claim", level=2, worker=[0, 1])
    assert model.model_json_schema()["properties"]["level"]["description"].startswith("how bad the outage is")
    for bad in ({"level": 2}, {"at": "claim", "level": 0}, {"at": "claim", "levle": 2}, {"at": "sql:[x"}):
        with pytest.raises(ValidationError):
            model.model_validate(bad)
