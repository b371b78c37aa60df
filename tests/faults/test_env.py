"""scrub_env in process mode: when the scrub happens decides what import-time code sees (seed 002)."""

from __future__ import annotations

import os

import pytest

import racecheck
from racecheck import history as h

PROBE = "faults.targets.envprobe:trigger"


@pytest.mark.parametrize(("when", "at_import", "at_trigger"), [
    ("start", "None", "None"),
    ("after_import", "here", "None"),
    ("before_trigger", "here", "None"),
])
def test_scrub_is_seen_at_import_only_with_when_start(monkeypatch, when, at_import, at_trigger):
    """A module reading os.environ at import sees the scrub only with when="start"; the trigger sees it in all three."""
    monkeypatch.setenv("RACECHECK_PROBE_VAR", "here")
    res = racecheck.run(PROBE, n=1, trials=1, mode="processes",
                        faults=[racecheck.scrub_env(["RACECHECK_PROBE_VAR"], when=when)])
    res.assert_ok()
    hist = res.trials[0].history
    assert [e.key for e in hist.filter(h.EFFECT, name="at_import")] == [at_import]
    assert [e.key for e in hist.filter(h.EFFECT, name="at_trigger")] == [at_trigger]


def test_scrub_can_change_a_variable(monkeypatch):
    """scrub_env(set=...) changes a variable instead of removing it."""
    monkeypatch.setenv("RACECHECK_PROBE_VAR", "here")
    res = racecheck.run(PROBE, n=1, trials=1, mode="processes",
                        faults=[racecheck.scrub_env(set={"RACECHECK_PROBE_VAR": "elsewhere"}, when="start")])
    assert [e.key for e in res.trials[0].history.filter(h.EFFECT, name="at_import")] == ["elsewhere"]


def _dedup_run(race_redis_real, monkeypatch, target: str) -> racecheck.RunResult:
    monkeypatch.setenv("REDIS_URL", race_redis_real.url)
    return racecheck.run(target, n=2, trials=1, mode="processes", args=("pr194:9ed484d",),
                         setup=race_redis_real.reset,
                         faults=[racecheck.scrub_env(["REDIS_URL"], when="after_import")],
                         invariants=[racecheck.at_least_once("dispatch", keys=["pr194:9ed484d"]),
                                     racecheck.at_most_once("dispatch"),
                                     racecheck.fail_closed("dispatch")],
                         stop_on_failure=True)


def test_lazy_client_reading_scrubbed_url_silently_skips_work(race_redis_real, monkeypatch):
    """Caught (seed 002 follow-up): every claim fails closed and is logged as a duplicate, so nothing is dispatched.

    The claim's failure is logged at WARNING, which surfaces it (issue 14): fail_closed holds,
    at_least_once catches the skipped work.
    """
    res = _dedup_run(race_redis_real, monkeypatch, "faults.targets.dedup:trigger_lazy")
    names = {v.invariant for v in res.violations}
    assert names == {"at_least_once"}
    t = res.first_failure
    assert {e.worker for e in t.history.filter(h.FAULT, name="scrub_env")} == {0, 1}
    assert {e.worker for e in t.history.filter(h.ENV_READ, name="REDIS_URL")} == {0, 1}
    failed = [e for e in res.first_failure.history.filter(h.REDIS) if e.payload.get("backend_failed")]
    assert len(failed) == 2  # each worker's SET NX was refused by the unreachable default


def test_url_captured_at_import_survives_the_scrub(race_redis_real, monkeypatch):
    """Passes: the URL was read before the scrub, so exactly one worker claims and dispatches."""
    res = _dedup_run(race_redis_real, monkeypatch, "faults.targets.dedup:trigger_captured")
    res.assert_ok()
    assert [e.key for e in res.trials[0].history.filter(h.EFFECT, name="dispatch")] == ["pr194:9ed484d"]


def test_scrub_at_a_point_in_thread_mode_is_undone_after_the_trial(monkeypatch):
    """scrub_env(when="point") removes the variable when the point is reached; the runner restores it afterwards."""
    from faults.targets import envprobe

    monkeypatch.setenv("RACECHECK_PROBE_VAR", "here")
    res = racecheck.run(envprobe.trigger_around_point, n=1, trials=2,
                        faults=[racecheck.scrub_env(["RACECHECK_PROBE_VAR"], when="point", at="probe")])
    res.assert_ok()
    for t in res.trials:
        assert [e.key for e in t.history.filter(h.EFFECT, name="before_point")] == ["here"]
        assert [e.key for e in t.history.filter(h.EFFECT, name="after_point")] == ["None"]
    assert os.environ["RACECHECK_PROBE_VAR"] == "here"


@pytest.mark.parametrize("mode", ["threads", "asyncio"])
def test_each_trial_starts_from_the_environment_before_the_run(monkeypatch, mode):
    """A trigger that sets, changes and deletes variables: the next trial (and the caller) sees the
    environment as it was, and an unchanged environment is left alone."""
    monkeypatch.setenv("RACECHECK_ENV_KEEP", "kept")
    monkeypatch.setenv("RACECHECK_ENV_DROP", "dropped-by-trigger")
    monkeypatch.delenv("RACECHECK_ENV_NEW", raising=False)
    seen: list[tuple[object, ...]] = []

    def trigger() -> None:
        seen.append((os.environ.get("RACECHECK_ENV_NEW"), os.environ.get("RACECHECK_ENV_DROP")))
        os.environ["RACECHECK_ENV_NEW"] = "made-by-trigger"
        os.environ.pop("RACECHECK_ENV_DROP", None)
        os.environ["RACECHECK_ENV_KEEP"] = "changed"

    async def atrigger() -> None:
        trigger()

    res = racecheck.run(atrigger if mode == "asyncio" else trigger, n=1, trials=3, mode=mode)
    res.assert_ok()
    assert seen == [(None, "dropped-by-trigger")] * 3
    assert os.environ["RACECHECK_ENV_KEEP"] == "kept"
    assert os.environ["RACECHECK_ENV_DROP"] == "dropped-by-trigger"
    assert "RACECHECK_ENV_NEW" not in os.environ
