"""Item 6: invariants over effects nobody records (typos in the effect name)."""

from __future__ import annotations

from pathlib import Path

import pytest

import racecheck
from racecheck.cli import main
from racecheck.errors import ConfigError

from . import targets

SPY = racecheck.spy("verdicts.targets:spawn_reviewer", key="key")


def test_a_typo_next_to_the_spies_is_a_config_error_with_did_you_mean() -> None:
    with pytest.raises(ConfigError, match=r"at_most_once\('spawn_reviewr'\) names an effect no spy records.*"
                                          r"did you mean 'spawn_reviewer'\?"):
        racecheck.run(targets.spied_spawn, n=2, trials=1, spies=[SPY],
                      invariants=[racecheck.at_most_once("spawn_reviewr")])


def test_the_spied_name_passes() -> None:
    res = racecheck.run(targets.spied_spawn, n=2, trials=2, spies=[SPY],
                        invariants=[racecheck.at_most_once("spawn_reviewer")])
    assert res.verdict == "pass", res.reasons


def test_an_effect_call_in_the_target_module_is_not_refused() -> None:
    """'spawn' comes from racecheck.effect in the target's module: a spy beside it does not refuse it."""
    res = racecheck.run(targets.check_then_act_locked, n=2, trials=2, spies=[SPY], setup=targets.reset,
                        strategy="random", seed=1, invariants=[racecheck.at_most_once("spawn")])
    assert res.verdict == "pass", res.reasons


def test_a_name_far_from_every_spy_is_judged_after_the_run() -> None:
    """It may come from a racecheck.effect call in another module: not refused, but inconclusive if absent."""
    res = racecheck.run(targets.spied_spawn, n=2, trials=2, spies=[SPY],
                        invariants=[racecheck.at_most_once("email_sent")])
    assert res.verdict == "inconclusive"
    assert "effect 'email_sent' was never recorded in any of 2 trials" in res.reasons[0]


def test_process_mode_reads_the_target_module_without_importing_it() -> None:
    """'spawn' is a racecheck.effect literal in verdicts.proc_effects: a close spy name does not refuse it."""
    import sys

    assert "verdicts.proc_effects" not in sys.modules
    spy = racecheck.spy("verdicts.proc_effects:spawn_reviewer", key="key", name="spawns")
    res = racecheck.run("verdicts.proc_effects:trigger", n=2, trials=1, mode="processes", spies=[spy],
                        invariants=[racecheck.at_most_once("spawn")])
    assert res.verdict == "pass", res.reasons


def test_an_effect_never_recorded_is_inconclusive() -> None:
    """Without spies the name cannot be checked up front; a name no trial recorded makes it inconclusive."""
    res = racecheck.run(targets.effect_per_worker, n=2, trials=4,
                        invariants=[racecheck.at_most_once("spwan"), racecheck.fencing("spawn_x")])
    assert res.ok and res.verdict == "inconclusive"
    assert ("at_most_once: effect 'spwan' was never recorded in any of 4 trials, so it had nothing to count; "
            "did you mean 'spawn'? check the name or the spy") in res.reasons
    assert any(r.startswith("fencing: effect 'spawn_x'") for r in res.reasons)


def test_an_effect_recorded_passes() -> None:
    res = racecheck.run(targets.effect_per_worker, n=2, trials=4, invariants=[racecheck.at_most_once("spawn")])
    assert res.verdict == "pass"


def test_exactly_once_over_nothing_stays_a_violation() -> None:
    res = racecheck.run(targets.effect_per_worker, n=2, trials=1, invariants=[racecheck.exactly_once("spwan")])
    assert res.verdict == "violation" and res.reasons == []


SCENARIO = """
name: typo-{name}
target: verdicts.targets:spied_spawn
n: 2
trials: 2
spies: [{{target: "verdicts.targets:spawn_reviewer", key: key}}]
invariants: [{{at_most_once: {effect}}}]
"""


def test_yaml_typo_is_bad_input_with_did_you_mean(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "typo.race.yaml"
    path.write_text(SCENARIO.format(name="bad", effect="spawn_reviewr"))
    assert main(["run", str(path)]) == 2
    out = capsys.readouterr().out
    assert "did you mean 'spawn_reviewer'?" in out


def test_yaml_right_name_passes(tmp_path: Path) -> None:
    path = tmp_path / "ok.race.yaml"
    path.write_text(SCENARIO.format(name="good", effect="spawn_reviewer"))
    assert main(["run", str(path)]) == 0
