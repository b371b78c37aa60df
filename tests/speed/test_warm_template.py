"""Process workers forked from a warm template: fresh module state per process and per trial, and spawn
whenever forking from the template would not be the same as a fresh interpreter."""

from __future__ import annotations

import ast
import os

import pytest

import racecheck
from racecheck.errors import ConfigError

FORK = "fork (from a warm template)"


def _results(res: racecheck.RunResult) -> list[dict[str, object]]:
    return [ast.literal_eval(e.payload["result"]) for tr in res.trials for e in tr.history if e.kind == "end"]


def test_module_dict_dedup_is_still_caught_across_forked_processes() -> None:
    """The seed-002 lesson holds with the template: 4 forked workers have 4 dicts, so 4 spawns."""
    res = racecheck.run("speed.warm_targets:dedup", n=4, trials=2, mode="processes", timeout=60,
                        stop_on_failure=False, invariants=[racecheck.exactly_once("spawn")])
    assert res.worker_start == FORK
    assert len(res.failing) == 2
    assert all("4 times" in tr.violations[0].message for tr in res.failing)


def test_every_trigger_starts_from_the_module_as_imported(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each trial's workers are new processes forked from a template that never ran a trigger."""
    monkeypatch.setenv("RACECHECK_SPEED_PROBE", "parent-env")
    res = racecheck.run("speed.warm_targets:count_calls", n=3, trials=3, mode="processes", timeout=60,
                        worker_args=lambda i: (i,), strategy="random", seed=4)
    assert res.worker_start == FORK
    out = _results(res)
    assert len(out) == 9
    assert all(r["before"] == {} for r in out)  # no state from another worker, trial or the template
    assert len({r["pid"] for r in out}) == 9  # a fresh process for every trigger of every trial
    template = {r["imported_in"] for r in out}
    assert len(template) == 1 and template.isdisjoint({r["pid"] for r in out} | {os.getpid()})
    assert {r["probe"] for r in out} == {"parent-env"}  # the parent's environment, as spawn gives


def test_spawn_on_request_reports_it() -> None:
    res = racecheck.run("speed.warm_targets:count_calls", n=2, trials=1, mode="processes", timeout=60,
                        worker_args=lambda i: (i,), start_method="spawn")
    assert res.worker_start == "spawn (start_method='spawn')"
    out = _results(res)
    assert all(r["before"] == {} and r["imported_in"] == r["pid"] for r in out)  # imported in the worker


def test_an_env_fault_at_start_spawns_so_it_applies_before_the_import() -> None:
    res = racecheck.run("speed.warm_targets:count_calls", n=2, trials=1, mode="processes", timeout=60,
                        worker_args=lambda i: (i,),
                        faults=[racecheck.scrub_env(["RACECHECK_SPEED_PROBE"], when="start")])
    assert res.worker_start.startswith("spawn (an env fault at 'start'")
    with pytest.raises(ConfigError, match="start_method='fork'"):
        racecheck.run("speed.warm_targets:count_calls", n=2, trials=1, mode="processes", timeout=60,
                      worker_args=lambda i: (i,), start_method="fork",
                      faults=[racecheck.scrub_env(["RACECHECK_SPEED_PROBE"], when="start")])


def test_an_env_fault_after_import_still_forks() -> None:
    res = racecheck.run("speed.warm_targets:count_calls", n=2, trials=1, mode="processes", timeout=60,
                        worker_args=lambda i: (i,),
                        faults=[racecheck.scrub_env(set={"RACECHECK_SPEED_PROBE": "scrubbed"}, when="after_import")])
    assert res.worker_start == FORK
    assert {r["probe"] for r in _results(res)} == {"scrubbed"}


@pytest.mark.parametrize(("module", "why"), [
    ("speed.warm_thread_at_import", "started a thread"),
    ("speed.warm_socket_at_import", "opened a socket"),
])
def test_a_template_unsafe_to_fork_falls_back_to_spawn(module: str, why: str) -> None:
    res = racecheck.run(f"{module}:work", n=2, trials=1, mode="processes", timeout=60,
                        worker_args=lambda i: (i,))
    assert res.worker_start.startswith("spawn (") and why in res.worker_start
    assert res.ok and res.trials[0].history  # the run itself still works, spawned
    with pytest.raises(ConfigError, match=why):
        racecheck.run(f"{module}:work", n=2, trials=1, mode="processes", timeout=60,
                      worker_args=lambda i: (i,), start_method="fork")


def test_start_method_is_validated() -> None:
    with pytest.raises(ConfigError, match="start_method"):
        racecheck.run("speed.warm_targets:count_calls", mode="processes", start_method="vfork")
