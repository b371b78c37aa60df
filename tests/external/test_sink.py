"""The effect sink: each call is an effect keyed from path or body; faults delay, fail or hang calls."""

from __future__ import annotations

import threading
import urllib.error
import urllib.request

import pytest

import racecheck
from racecheck import history as h
from racecheck.errors import ConfigError
from racecheck.external import EffectSink, SinkFault


def call(url: str, body: bytes = b"{}", timeout: float = 5.0) -> int:
    req = urllib.request.Request(url, data=body, method="POST")
    w = racecheck._runtime.current_worker()
    if w is not None:
        req.add_header("X-Racecheck-Worker", str(w))
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return int(resp.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


def test_every_call_is_an_effect_and_duplicates_are_caught(sink: EffectSink) -> None:
    """Two workers calling the sink for one key break exactly_once, with both workers attributed."""
    res = racecheck.run(lambda: call(f"{sink.url}/review/r1"), n=2, trials=1,
                        invariants=[racecheck.exactly_once("review")])
    assert not res.ok
    v = res.first_failure.violations[0]
    assert v.keys == ("r1",) and set(v.workers) == {0, 1}


def test_one_call_per_key_passes(sink: EffectSink) -> None:
    """Each worker calling for its own key satisfies exactly_once for every expected key."""
    res = racecheck.run(lambda: call(f"{sink.url}/review/r{racecheck._runtime.current_worker()}"), n=3, trials=2,
                        invariants=[racecheck.exactly_once("review", keys=["r0", "r1", "r2"])])
    res.assert_ok()


def test_key_from_json_body_field() -> None:
    """With key 'body:job.id' the effect key is read from the JSON body, and the effect name is fixed."""
    with EffectSink(effect="spawn", key="body:job.id") as s:
        res = racecheck.run(lambda: call(f"{s.url}/anything", b'{"job": {"id": 7}}'), n=1, trials=1,
                            invariants=[racecheck.exactly_once("spawn", keys=["7"])])
    res.assert_ok()
    assert [c.key for c in s.calls] == ["7"]


def test_error_status_fault_makes_the_effect_failed(sink: EffectSink) -> None:
    """A status fault answers 500 on the first call and the effect counts as failed, not done."""
    sink.faults = (SinkFault(status=500, calls=(1,)),)
    res = racecheck.run(lambda: call(f"{sink.url}/review/r1"), n=1, trials=1,
                        invariants=[racecheck.at_least_once("review")])
    assert not res.ok
    assert [r.status for r in res.first_failure.history.effects("review")] == ["failed"]
    assert res.first_failure.history.filter(h.FAULT, name="sink")


def test_ambiguous_error_still_counts_as_done(sink: EffectSink) -> None:
    """An ambiguous error status (work done, ack lost) counts as a done effect, so a retry duplicates it."""
    sink.faults = (SinkFault(status=502, calls=(1,), ambiguous=True),)

    def retrying() -> None:
        if call(f"{sink.url}/review/r1") >= 500:
            call(f"{sink.url}/review/r1")

    res = racecheck.run(retrying, n=1, trials=1, invariants=[racecheck.at_most_once("review")])
    assert not res.ok and "2 times" in res.first_failure.violations[0].message


def test_hang_fault_leaves_the_effect_indeterminate(sink: EffectSink) -> None:
    """A hung call is never answered within the trial: the caller times out and the effect is indeterminate."""
    sink.faults = (SinkFault(hang=True),)

    def target() -> None:
        with pytest.raises(OSError):
            call(f"{sink.url}/review/r1", timeout=0.3)

    res = racecheck.run(target, n=1, trials=1, invariants=[racecheck.exactly_once("review", indeterminate="ignore")])
    res.assert_ok()
    assert [r.status for r in res.trials[0].history.effects("review")] == ["indeterminate"]


def test_delay_fault_answers_late_and_the_effect_is_done(sink: EffectSink) -> None:
    """A delay fault still answers 200, and the effect's end comes after its beginning by the delay."""
    sink.faults = (SinkFault(delay=0.05),)
    res = racecheck.run(lambda: call(f"{sink.url}/review/r1"), n=1, trials=1,
                        invariants=[racecheck.exactly_once("review")])
    res.assert_ok()
    (rec,) = res.trials[0].history.effects("review")
    assert rec.end is not None and rec.end - rec.begin >= 40_000_000


def test_call_numbers_restart_each_trial(sink: EffectSink) -> None:
    """A fault on call 1 fires once in every trial, because call numbers are counted per trial."""
    sink.faults = (SinkFault(status=503, calls=(1,)),)
    res = racecheck.run(lambda: call(f"{sink.url}/review/r1"), n=1, trials=3, stop_on_failure=False,
                        invariants=[racecheck.at_least_once("review")])
    assert sum(1 for t in res.trials if t.violations) == 3
    assert [c.status for c in sink.calls] == [503, 503, 503]


def test_stop_releases_hung_calls_and_leaves_no_threads() -> None:
    """Stopping the sink answers nothing more, releases a hung handler and joins every thread it started."""
    before = set(threading.enumerate())
    s = EffectSink(faults=[SinkFault(hang=True)]).start()
    caller = threading.Thread(target=lambda: pytest.raises(OSError, call, f"{s.url}/x/1", timeout=5))
    caller.start()
    while not s.calls:
        threading.Event().wait(0.01)
    s.stop()
    caller.join(10)
    assert not caller.is_alive()
    assert set(threading.enumerate()) <= before


def test_outside_a_run_calls_are_kept_but_not_recorded(sink: EffectSink) -> None:
    """Calls made outside any run are answered and listed in sink.calls, and nothing is recorded."""
    assert call(f"{sink.url}/review/r9") == 200
    assert [(c.effect, c.key, c.status) for c in sink.calls] == [("review", "r9", 200)]


@pytest.mark.parametrize("spec", ["nowhere", "query", "path:x", "header:"])
def test_bad_key_spec_is_refused(spec: str) -> None:
    """A key spec that names no known source or lacks its argument is a ConfigError."""
    with pytest.raises(ConfigError):
        EffectSink(key=spec)


def test_bad_fault_is_refused() -> None:
    """A fault with an impossible status or call number is a ConfigError."""
    with pytest.raises(ConfigError):
        SinkFault(status=42)
    with pytest.raises(ConfigError):
        SinkFault(calls=(0,))
