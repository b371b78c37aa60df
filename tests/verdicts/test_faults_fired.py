"""Item 5: a fault that matched nothing, names a worker the run lacks, or never fired."""

from __future__ import annotations

import pytest

import racecheck
from racecheck import faults as F
from racecheck.errors import ConfigError

from . import targets

SPY = racecheck.spy("verdicts.targets:spawn_reviewer", key="key")
AT_MOST_ONCE = [racecheck.at_most_once("spawn_reviewer")]


def _run(*faults: F.Fault, **kw):  # noqa: ANN202
    opts = dict(n=2, trials=3, spies=[SPY], invariants=AT_MOST_ONCE, faults=list(faults))
    opts.update(kw)
    return racecheck.run(targets.spied_spawn, **opts)


def test_a_typo_in_the_glob_is_inconclusive_with_did_you_mean() -> None:
    res = _run(F.crash("spawn_reviewr:after"))
    assert res.verdict == "inconclusive"
    assert "matched no point in any of 3 trials (did you mean 'spawn_reviewer:after'?)" in res.reasons[0]
    assert "crash at 'spawn_reviewr:after'" in res.reasons[0]


def test_the_same_fault_spelled_right_fires_and_passes() -> None:
    res = _run(F.crash("spawn_reviewer:after", worker=0))
    assert res.verdict == "pass", res.reasons


def test_a_worker_index_beyond_n_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="names worker 2 but the run has n=2 workers"):
        _run(F.crash("spawn_reviewer:after", worker=2))
    _run(F.crash("spawn_reviewer:after", worker=1))  # in range: fine


def test_a_fault_whose_occurrence_never_comes_is_inconclusive() -> None:
    res = _run(F.error("work", nth=3))
    assert res.verdict == "inconclusive"
    assert "never fired in 3 trials although its point was reached ('work')" in res.reasons[0]


def test_a_probabilistic_fault_that_never_fired_says_so_and_optional_settles_it() -> None:
    res = _run(F.delay("work", 0.0, p=0.0))
    assert res.verdict == "inconclusive"
    assert "fires with probability 0.0 per occurrence, so a short run may not fire it" in res.reasons[0]
    assert _run(F.delay("work", 0.0, p=0.0, optional=True)).verdict == "pass"


def test_optional_faults_are_never_reasons() -> None:
    res = _run(F.crash("spawn_reviewr:after", optional=True), F.error("work", nth=9, optional=True))
    assert res.verdict == "pass", res.reasons


def test_a_fault_in_the_recovery_step_counts_when_it_fires_there() -> None:
    fired = _run(F.delay("recover:scan", 0.0, worker=-1), recover=targets.recover)
    assert fired.verdict == "pass", fired.reasons
    assert fired.trials[0].history.filter("fault")[0].worker == -1
    never = _run(F.delay("recover:scna", 0.0, worker=-1), recover=targets.recover)
    assert never.verdict == "inconclusive"
    assert "did you mean 'recover:scan'?" in never.reasons[0]


def test_a_fault_that_fired_in_one_trial_only_is_enough() -> None:
    res = _run(F.error("work", worker=0, p=0.5), trials=8, seed=11)
    fires = [len(t.history.filter("fault")) for t in res.trials]
    assert 0 < sum(fires)
    assert res.verdict == "pass", res.reasons
