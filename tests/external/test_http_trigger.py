"""The http trigger: N simultaneous requests to a service, with its effects heard by the sink."""

from __future__ import annotations

import urllib.request

import pytest

import racecheck
from racecheck.errors import ConfigError
from racecheck.external import HTTP, EffectSink, HttpTrigger

from .conftest import py_dispatcher


def reset(url: str) -> None:
    urllib.request.urlopen(urllib.request.Request(f"{url}/reset", data=b"", method="POST"), timeout=5).read()


def test_buggy_dispatcher_dispatches_twice(sink: EffectSink) -> None:
    """Check-then-act in the service lets simultaneous requests each send job j1: a duplicate effect is caught."""
    with py_dispatcher("buggy", sink.url) as svc:
        res = racecheck.run(HttpTrigger(f"{svc.url}/dispatch"), n=4, trials=5, setup=lambda: reset(svc.url),
                            invariants=[racecheck.exactly_once("review", keys=["j1"])])
    assert not res.ok
    v = res.first_failure.violations[0]
    assert v.keys == ("j1",) and len(v.workers) >= 2  # the service propagated X-Racecheck-Worker


def test_fixed_dispatcher_dispatches_once(sink: EffectSink) -> None:
    """With the claim under a lock the same requests send job j1 exactly once in every trial."""
    with py_dispatcher("fixed", sink.url) as svc:
        res = racecheck.run(HttpTrigger(f"{svc.url}/dispatch"), n=4, trials=5, setup=lambda: reset(svc.url),
                            invariants=[racecheck.exactly_once("review", keys=["j1"])])
    res.assert_ok()
    assert res.trials_run == 5


def test_requests_and_responses_are_recorded(sink: EffectSink) -> None:
    """Each worker's request is an http event with its status and body excerpt."""
    with py_dispatcher("fixed", sink.url) as svc:
        res = racecheck.run(HttpTrigger(f"{svc.url}/dispatch"), n=3, trials=1, setup=lambda: reset(svc.url))
    events = res.trials[0].history.filter(HTTP)
    assert sorted(e.worker for e in events) == [0, 1, 2]
    assert {e.payload["status"] for e in events} == {200}
    assert sorted(e.payload["body"] for e in events) == ["0", "0", "1"]


def test_server_error_status_is_a_worker_error(sink: EffectSink) -> None:
    """A 5xx answer raises in the worker, so no_exceptions reports it; an accepted status does not."""
    with py_dispatcher("fixed", sink.url) as svc:
        bad = racecheck.run(HttpTrigger(f"{svc.url}/boom"), n=2, trials=1)
        good = racecheck.run(HttpTrigger(f"{svc.url}/boom", ok=[503]), n=2, trials=1)
    assert not bad.ok and "answered 503" in bad.first_failure.violations[0].message
    good.assert_ok()


def test_worker_placeholder_is_expanded(sink: EffectSink) -> None:
    """'{worker}' in the URL is replaced by each worker's id, so each sends its own key."""
    res = racecheck.run(HttpTrigger(f"{sink.url}/review/k{{worker}}"), n=3, trials=1,
                        invariants=[racecheck.exactly_once("review", keys=["k0", "k1", "k2"])])
    res.assert_ok()


def test_connection_refused_is_an_error() -> None:
    """A service that is not listening makes every worker record a connection error."""
    from racecheck.external import free_port

    res = racecheck.run(HttpTrigger(f"http://127.0.0.1:{free_port()}/x", timeout=1), n=2, trials=1, timeout=10)
    assert not res.ok
    assert {v.message.split(" raised ")[1].split(":")[0] for v in res.first_failure.violations} == {"ConnectionRefusedError"}


@pytest.mark.parametrize("kwargs", [{"url": "localhost:80/x"}, {"url": "http://h/x", "method": "BREW"},
                                    {"url": "http://h/x", "body": "a", "json": {}}, {"url": "http://h/x", "timeout": 0}])
def test_bad_trigger_is_refused(kwargs: dict) -> None:
    """A relative URL, unknown method, body plus json, or non-positive timeout is a ConfigError."""
    with pytest.raises(ConfigError):
        HttpTrigger(**kwargs)
