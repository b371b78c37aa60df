"""The workers of a process-mode trial start together, once all are ready, and none starts when one failed."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import racecheck


def test_a_worker_whose_setup_failed_keeps_the_others_from_starting(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """Worker setup (here: importing the target) failed in one worker: the other, ready and waiting,
    is told at once and exits without running its trigger (not after the trial timeout)."""
    monkeypatch.setenv("RACECHECK_GUN_DIR", str(tmp_path))
    res = racecheck.run("speed.first_importer_only:work", n=2, trials=1, mode="processes", timeout=5,
                        start_method="spawn")
    tr = res.trials[0]
    assert not tr.hung, tr.stacks
    errors = [e.payload.get("message", "") for e in tr.history if e.kind == "error"]
    assert len(errors) == 1 and "worker setup failed" in errors[0], errors
    assert not list(tmp_path.glob("ran-*"))  # the worker that set up never ran its trigger
    assert not res.ok


@pytest.mark.parametrize("start_method", ["auto", "spawn"])
def test_every_worker_runs_once_all_are_ready(start_method: str) -> None:
    res = racecheck.run("speed.warm_targets:count_calls", n=5, trials=3, mode="processes", timeout=60,
                        worker_args=lambda i: (i,), start_method=start_method)
    res.assert_ok()
    assert all(len([e for e in tr.history if e.kind == "end"]) == 5 for tr in res.trials)
    assert res.worker_start.startswith("fork" if start_method == "auto" else "spawn")
    assert os.getpid() not in {e.pid for tr in res.trials for e in tr.history if e.kind == "end"}


@pytest.mark.parametrize("start_method", ["auto", "spawn"])
def test_arguments_that_cannot_be_pickled_are_a_config_error(start_method: str) -> None:
    from racecheck.errors import ConfigError

    with pytest.raises(ConfigError, match="cannot be pickled"):
        racecheck.run("speed.warm_targets:count_calls", n=2, trials=1, mode="processes", timeout=60,
                      worker_args=lambda i: (lambda: i,), start_method=start_method)
