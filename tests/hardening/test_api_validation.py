"""racecheck.run rejects bad options before the first trial, with one clear sentence each."""

from __future__ import annotations

import pytest

import racecheck
from racecheck.errors import ConfigError

CALLS: list[int] = []


def target() -> None:
    CALLS.append(1)


def setup_function() -> None:
    CALLS.clear()


BAD = [
    ({"timeout": float("nan")}, "timeout must be a finite number of seconds > 0, got nan"),
    ({"timeout": float("inf")}, "timeout must be a finite number of seconds > 0, got inf"),
    ({"timeout": "5"}, "timeout must be a finite number of seconds > 0, got '5'"),
    ({"timeout": True}, "timeout must be a finite number"),
    ({"n": True}, "n (number of triggers) must be an integer >= 1, got True"),
    ({"n": 2.0}, "n (number of triggers) must be an integer >= 1, got 2.0"),
    ({"trials": False}, "trials must be an integer >= 1, got False"),
    ({"trials": "3"}, "trials must be an integer >= 1, got '3'"),
    ({"seed": True}, "seed must be an integer or None"),
    ({"trails": 3}, "unknown option 'trails'; did you mean 'trials'?"),
    ({"invariant": []}, "did you mean 'invariants'?"),
    ({"zzz_qqq": 1}, "unknown option 'zzz_qqq'; the options are"),
    ({"invariants": [None]}, "invariants[0] is None, not an invariant"),
    ({"invariants": ["exactly_once"]}, "invariants[0] is 'exactly_once', not an invariant"),
    ({"invariants": racecheck.no_exceptions()}, "invariants must be a list of an invariant"),
    ({"spies": ["mod:f"]}, "spies[0] is 'mod:f', not a spy"),
    ({"faults": [object()]}, "faults[0] is <object object"),
    ({"setup": 42}, "setup must be a callable"),
    ({"noise": 2}, "noise must be a probability between 0 and 1"),
    ({"kwargs": [1]}, "kwargs must be a dict"),
]


@pytest.mark.parametrize(("options", "message"), BAD, ids=[next(iter(o)) + "=" + repr(next(iter(o.values())))[:20]
                                                           for o, _ in BAD])
def test_bad_option_is_one_config_error_before_any_trial(options: dict, message: str) -> None:
    with pytest.raises(ConfigError) as info:
        racecheck.run(target, **{"n": 2, "trials": 1, **options})
    text = str(info.value)
    assert message in text
    assert "\n" not in text
    assert CALLS == []  # nothing ran


@pytest.mark.parametrize("bad", [42, None, "no-colon", ":f", "m:"])
def test_non_callable_target_is_refused_up_front(bad: object) -> None:
    with pytest.raises(ConfigError, match="target"):
        racecheck.run(bad, n=2, trials=1)  # type: ignore[arg-type]


def test_replay_checks_its_keywords_too() -> None:
    with pytest.raises(ConfigError, match="did you mean 'timeout'"):
        racecheck.replay(target, "rc1:whatever", timout=3)


def test_good_options_still_run() -> None:
    res = racecheck.run(target, n=2, trials=2, timeout=5, seed=1,
                        invariants=[racecheck.no_exceptions()])
    assert res.ok and len(CALLS) == 4
