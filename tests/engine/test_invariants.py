"""Each invariant both ways: a violating target is reported (naming keys/workers), a correct one passes."""

from __future__ import annotations

import racecheck
from engine import targets
from racecheck import history as h


def _cta(invariant, target=targets.check_then_act, **kw):  # noqa: ANN001, ANN202
    opts = dict(n=2, trials=20, strategy="random", seed=7, setup=targets.reset_runs, invariants=[invariant])
    opts.update(kw)
    return racecheck.run(target, **opts)


def test_exactly_once_catches_duplicate_and_names_key_and_workers() -> None:
    """exactly_once reports two spawns for one key, naming the key and both workers."""
    res = _cta(racecheck.exactly_once("spawn"))
    v = res.violations[0]
    assert v.invariant == "exactly_once" and v.keys == ("k",) and sorted(v.workers) == [0, 1]
    assert "2 times for key 'k'" in v.message and "w0" in v.message and "w1" in v.message


def test_exactly_once_passes_locked_target() -> None:
    """exactly_once passes the lock-protected check-then-act."""
    _cta(racecheck.exactly_once("spawn"), targets.check_then_act_locked).assert_ok()


def test_exactly_once_reports_expected_key_that_never_happened() -> None:
    """exactly_once with expected keys reports a key that got no effect."""
    res = _cta(racecheck.exactly_once("spawn", keys=["k", "k2"]), targets.check_then_act_locked)
    assert [(v.keys, "never happened" in v.message) for v in res.violations] == [(("k2",), True)]


def test_exactly_once_reports_no_effect_at_all() -> None:
    """exactly_once with no expected keys fails when the effect never happened."""
    res = racecheck.run(targets.noop, n=2, trials=1, invariants=[racecheck.exactly_once("spawn")])
    assert "never happened" in res.violations[0].message


def test_at_most_once_catches_duplicate() -> None:
    """at_most_once reports the duplicate spawn of the unprotected check-then-act."""
    res = _cta(racecheck.at_most_once("spawn"))
    assert res.violations[0].invariant == "at_most_once" and res.violations[0].keys == ("k",)


def test_at_most_once_passes_locked_target_and_no_effect() -> None:
    """at_most_once passes the locked twin; when nothing happened at all it had nothing to count."""
    _cta(racecheck.at_most_once("spawn"), targets.check_then_act_locked).assert_ok()
    res = racecheck.run(targets.noop, n=2, trials=1, invariants=[racecheck.at_most_once("spawn")])
    assert res.ok and res.verdict == "inconclusive"
    assert "effect 'spawn' was never recorded in any of 1 trials" in res.reasons[0]


def test_at_least_once_reports_missing_expected_key() -> None:
    """at_least_once with expected keys names the key that no worker did."""
    res = racecheck.run(targets.one_effect_per_worker, n=2, trials=1,
                        invariants=[racecheck.at_least_once("spawn", keys=["k0", "k1", "k2"])])
    assert [v.keys for v in res.violations] == [("k2",)]
    assert "never happened for key 'k2'" in res.violations[0].message


def test_at_least_once_passes_when_every_key_happened() -> None:
    """at_least_once passes when every expected key has an effect (duplicates allowed)."""
    racecheck.run(targets.one_effect_per_worker, n=3, trials=1,
                  invariants=[racecheck.at_least_once("spawn", keys=["k0", "k1", "k2"])]).assert_ok()
    _cta(racecheck.at_least_once("spawn", keys=["k"]), trials=3).assert_ok()


def test_mutual_exclusion_catches_overlapping_sections() -> None:
    """mutual_exclusion reports two workers inside section() for one key at once, naming both."""
    res = racecheck.run(targets.section_unlocked, n=4, trials=5,
                        invariants=[racecheck.mutual_exclusion("critical")])
    v = res.violations[0]
    assert v.invariant == "mutual_exclusion" and v.keys == ("res",) and len(set(v.workers)) == 2
    assert "critical section 'critical' for key 'res'" in v.message


def test_mutual_exclusion_passes_locked_sections() -> None:
    """mutual_exclusion passes when a lock serialises the section()s."""
    racecheck.run(targets.section_locked, n=4, trials=5,
                  invariants=[racecheck.mutual_exclusion("critical")]).assert_ok()


def test_mutual_exclusion_over_spied_spans() -> None:
    """A spy with section=True makes each call a critical section: overlapping calls are caught."""
    spy = racecheck.spy("engine.targets:critical_work", key="key", section=True)
    res = racecheck.run(targets.call_critical_unlocked, n=4, trials=5, spies=[spy],
                        invariants=[racecheck.mutual_exclusion("critical_work")])
    res.assert_violation("mutual_exclusion")


def test_mutual_exclusion_over_spied_spans_passes_when_locked() -> None:
    """A spy with section=True on calls serialised by a lock passes mutual_exclusion."""
    spy = racecheck.spy("engine.targets:critical_work", key="key", section=True)
    racecheck.run(targets.call_critical_locked, n=4, trials=5, spies=[spy],
                  invariants=[racecheck.mutual_exclusion("critical_work")]).assert_ok()


def test_no_exceptions_reports_the_raising_worker() -> None:
    """no_exceptions names the worker and exception type of a trigger that raised."""
    res = racecheck.run(targets.raise_value_error, n=2, trials=1, invariants=[racecheck.no_exceptions()])
    assert sorted(v.workers for v in res.violations) == [(0,), (1,)]
    assert "raised ValueError: boom from the trigger" in res.violations[0].message


def test_no_exceptions_allows_listed_types() -> None:
    """no_exceptions(allow=[ValueError]) passes a trigger that raises ValueError."""
    racecheck.run(targets.raise_value_error, n=2, trials=1,
                  invariants=[racecheck.no_exceptions(allow=[ValueError])]).assert_ok()
    racecheck.run(targets.raise_value_error, n=2, trials=1,
                  invariants=[racecheck.no_exceptions(allow=["ValueError"])]).assert_ok()


def _two_spawns(history: h.History) -> str | None:
    n = len(history.filter("effect", name="spawn"))
    return None if n <= 1 else f"{n} spawns"


def test_custom_invariant_reports_its_text() -> None:
    """A custom check returning text is a violation carrying that text and the function's name."""
    res = _cta(racecheck.custom(_two_spawns))
    assert str(res.violations[0]) == "_two_spawns: 2 spawns"


def test_custom_invariant_passes_when_it_returns_none() -> None:
    """A custom check returning None passes on the locked target."""
    _cta(racecheck.custom(_two_spawns), targets.check_then_act_locked).assert_ok()


def test_custom_invariant_false_and_list() -> None:
    """A custom check returning False or a list of texts yields one violation per failure."""
    res = racecheck.run(targets.noop, n=1, trials=1,
                        invariants=[racecheck.custom(lambda hist: False, name="never"),
                                    racecheck.custom(lambda hist: ["a", "b"], name="two")])
    assert [str(v) for v in res.violations] == ["never: never returned False", "two: a", "two: b"]
