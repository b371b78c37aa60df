"""A warm template is kept between runs of one target, and only while nothing it was made from changed."""

from __future__ import annotations

import ast
import glob
import os
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

import racecheck
from racecheck import _warm

FORK = "fork (from a warm template)"
MODULE = '''
import os
import racecheck
IMPORTED_IN = os.getpid()
STATE = {}
def work(worker):
    before = dict(STATE)
    STATE["ran"] = True
    racecheck.point("p")
    return {"before": before, "imported_in": IMPORTED_IN, "pid": os.getpid()}
'''


def _run(target: str) -> list[dict[str, object]]:
    res = racecheck.run(target, n=2, trials=2, mode="processes", timeout=60, worker_args=lambda i: (i,))
    assert res.worker_start == FORK
    return [ast.literal_eval(e.payload["result"]) for tr in res.trials for e in tr.history if e.kind == "end"]


def _template_of(out: list[dict[str, object]]) -> object:
    (tpl,) = {r["imported_in"] for r in out}
    return tpl


@pytest.fixture
def kept_target(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    _warm.close_kept()
    mod = tmp_path / "kept_target_mod.py"
    mod.write_text(MODULE)
    monkeypatch.syspath_prepend(str(tmp_path))
    yield mod
    _warm.close_kept()
    sys.modules.pop("kept_target_mod", None)


def test_a_second_run_reuses_the_template_and_its_workers_still_start_fresh(kept_target: Path) -> None:
    first, second = _run("kept_target_mod:work"), _run("kept_target_mod:work")
    assert _template_of(first) == _template_of(second)  # the same template, started once
    assert all(r["before"] == {} for r in first + second)  # yet every trigger sees the module as imported
    assert len({r["pid"] for r in first + second}) == 8  # in a fresh process each


def test_a_changed_environment_or_source_file_gets_a_new_template(kept_target: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    a = _template_of(_run("kept_target_mod:work"))
    monkeypatch.setenv("RACECHECK_KEPT_PROBE", "changed")
    b = _template_of(_run("kept_target_mod:work"))
    assert b != a  # the module may read the environment at import
    st = kept_target.stat()
    os.utime(kept_target, ns=(st.st_atime_ns, st.st_mtime_ns + 10_000_000_000))
    c = _template_of(_run("kept_target_mod:work"))
    assert c != b  # the target's source changed: import it again
    assert _template_of(_run("kept_target_mod:work")) == c


def test_the_kept_template_goes_at_close_and_never_had_a_directory(kept_target: Path) -> None:
    tpl = _template_of(_run("kept_target_mod:work"))
    assert isinstance(tpl, int) and _alive(tpl)
    assert not glob.glob(os.path.join(tempfile.gettempdir(), f"{_warm.WARM_PREFIX}{os.getpid()}-*"))
    _warm.close_kept()  # what atexit runs
    assert not _alive(tpl)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_a_run_on_another_thread_does_not_keep_its_template(kept_target: Path) -> None:
    """PR_SET_PDEATHSIG ties a template to the thread that started it: only the main thread keeps one."""
    import threading

    got: list[list[dict[str, object]]] = []
    t = threading.Thread(target=lambda: got.append(_run("kept_target_mod:work")))
    t.start()
    t.join(120)
    tpl = _template_of(got[0])
    assert isinstance(tpl, int) and not _alive(tpl)  # stopped at the end of its run
    assert not glob.glob(os.path.join(tempfile.gettempdir(), f"{_warm.WARM_PREFIX}{os.getpid()}-*"))
    assert _template_of(_run("kept_target_mod:work")) != tpl  # the main thread starts (and keeps) its own


def test_the_template_undoes_each_runs_patches_before_the_next_run() -> None:
    """The template installs a run's spies once before forking its workers and undoes them after:
    the next run on the same template (same module, another spy) sees only its own spy."""
    _warm.close_kept()
    try:
        def effects(spied: str) -> set[str]:
            res = racecheck.run("speed.warm_targets:call_both", n=2, trials=2, mode="processes", timeout=60,
                                worker_args=lambda i: (i,), spies=[racecheck.spy(f"speed.warm_targets:{spied}")])
            assert res.worker_start == FORK
            return {e.name for tr in res.trials for e in tr.history if e.kind == "effect_begin"}

        assert effects("notify") == {"notify"}
        tpl = _warm._kept[0]
        assert effects("audit") == {"audit"}
        assert _warm._kept[0] is tpl  # the same template served both runs
        assert effects("notify") == {"notify"}
    finally:
        _warm.close_kept()
