"""Item 10 of issue 14: every replay line racecheck prints runs as printed.

The Python API prints ``racecheck.replay(<target>, '<schedule>')`` (executed here, in
the process that ran the race), pytest prints its ``--racecheck-replay`` line and the CLI
``racecheck replay <file> '<schedule>'`` (both executed in a subprocess, exactly as
printed, and both say "reproduced k/K"). A schedule that no longer fails says so neutrally.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import racecheck
from racecheck import replay_lines

from . import replay_targets as rt

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = os.path.dirname(sys.executable)
LINE = re.compile(r"replay with: (.+)")


def _env(extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), extra])
    env["PATH"] = VENV_BIN + os.pathsep + env.get("PATH", "")
    env.pop("PYTEST_XDIST_WORKER", None)
    env.pop("PYTEST_ADDOPTS", None)
    return env


def _printed_line(text: str) -> str:
    m = LINE.search(text)
    assert m, text[-3000:]
    return m.group(1).strip()


def test_python_api_line_runs_as_printed() -> None:
    res = racecheck.run(rt.dispatch, n=2, trials=30, strategy="pct", seed=3, setup=rt.reset,
                        invariants=[racecheck.exactly_once("spawn")])
    res.assert_violation("exactly_once")
    line = _printed_line(res.report())
    assert line.startswith("racecheck.replay('verdicts_semantics.replay_targets:dispatch', 'rc1:")
    rep = eval(line, {"racecheck": racecheck})  # noqa: S307 - executing the printed line is the test
    assert rep.reproduced >= 1 and str(rep).startswith("reproduced ")
    assert rep.result is not None and rep.result.violations[0].invariant == "exactly_once"


def test_python_api_replay_of_a_passing_schedule_says_so_neutrally() -> None:
    """A schedule whose trial passed (a correct target) does not reproduce: said neutrally, no blame."""
    res = racecheck.run(rt.dispatch_locked, n=2, trials=2, strategy="pct", seed=3, setup=rt.reset,
                        invariants=[racecheck.exactly_once("spawn")])
    res.assert_ok()
    schedule = res.trials[0].schedule
    assert schedule
    with pytest.raises(racecheck.DidNotReproduce) as err:
        racecheck.replay(rt.dispatch_locked, schedule, times=3, setup=rt.reset,
                         invariants=[racecheck.exactly_once("spawn")])
    assert "did not reproduce in 3 replays: fixed, or timing-dependent" in str(err.value)
    assert "racecheck does not control" not in str(err.value)


def test_target_expressions() -> None:
    assert replay_lines.target_expr("pkg.mod:fn") == "'pkg.mod:fn'"
    assert replay_lines.target_expr(rt.dispatch) == "'verdicts_semantics.replay_targets:dispatch'"

    def local() -> None: ...

    assert replay_lines.target_expr(local) == "local"


INNER = '''
import pytest
import racecheck
import vs_inner_targets as t


@pytest.mark.racecheck(n=2, trials=30, strategy="pct", seed=3)
def test_buggy(race):
    res = race.run(t.dispatch, setup=t.reset, invariants=[racecheck.exactly_once("spawn")])
    res.assert_ok()
'''


def _project(tmp_path: Path) -> Path:
    (tmp_path / "vs_inner_targets.py").write_text((Path(rt.__file__)).read_text())
    (tmp_path / "test_inner.py").write_text(INNER)
    return tmp_path


def test_pytest_line_runs_as_printed_and_reports_reproduced(tmp_path: Path) -> None:
    proj = _project(tmp_path)
    env = _env(str(proj))
    first = subprocess.run([sys.executable, "-m", "pytest", "test_inner.py", "-q", "-p", "no:cacheprovider"],
                           cwd=proj, env=env, capture_output=True, text=True, timeout=300)
    assert first.returncode == 1, first.stdout[-3000:]
    line = _printed_line(first.stdout)
    assert line.startswith("pytest 'test_inner.py::test_buggy' --racecheck-replay='rc1:")
    again = subprocess.run(["bash", "-c", line + " -q -p no:cacheprovider"], cwd=proj, env=env,
                           capture_output=True, text=True, timeout=300)
    assert again.returncode == 1, again.stdout[-3000:]
    assert re.search(r"reproduced [1-9]\d*/10", again.stdout), again.stdout[-3000:]


SCENARIO = '''
name: vs-replay-buggy
target: vs_inner_targets:dispatch
n: 2
trials: 30
strategy: pct
seed: 3
setup: vs_inner_targets:reset
invariants:
  - exactly_once: spawn
expect: pass
'''


def test_cli_line_runs_as_printed(tmp_path: Path) -> None:
    proj = _project(tmp_path)
    (proj / "buggy.race.yaml").write_text(textwrap.dedent(SCENARIO))
    env = _env(str(proj))
    first = subprocess.run([sys.executable, "-m", "racecheck.cli", "run", "buggy.race.yaml"],
                           cwd=proj, env=env, capture_output=True, text=True, timeout=300)
    assert first.returncode == 1, first.stdout[-3000:] + first.stderr[-2000:]
    line = _printed_line(first.stdout)
    assert line.startswith("racecheck replay buggy.race.yaml 'rc1:")
    again = subprocess.run(["bash", "-c", line], cwd=proj, env=env, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stdout[-3000:] + again.stderr[-2000:]
    assert re.search(r"reproduced [1-9]\d*/10", again.stdout), again.stdout[-3000:]


def _process_run(target: str) -> racecheck.RunResult:
    return racecheck.run(f"verdicts_semantics.replay_targets:{target}", n=2, trials=12, mode="processes",
                         strategy="random", seed=5, faults=[racecheck.faults.error("claim", p=0.5)],
                         invariants=[racecheck.fail_closed("spawn")])


def test_process_mode_fault_decisions_are_in_the_schedule_and_replayed() -> None:
    res = _process_run("claim_fail_open")
    res.assert_violation("fail_closed")
    t = res.first_failure
    assert t is not None and t.schedule
    from racecheck.scheduling import Schedule

    bits = Schedule.decode(t.schedule).faults
    fired = [e for e in t.history.filter("fault")]
    assert bits and sum(bits) == len(fired) >= 1  # every decision the workers asked for, in the string
    line = _printed_line(res.report())
    assert line.endswith("')")
    rep = eval(line[:-1] + ", times=3)", {"racecheck": racecheck})  # noqa: S307 - the printed call, 3 replays
    assert rep.reproduced == rep.times  # the recorded decisions fire the same faults every time


def test_process_mode_correct_target_passes_with_the_same_faults() -> None:
    res = _process_run("claim_fail_closed")
    res.assert_ok()
    assert any(t.history.filter("fault") for t in res.trials)  # the faults did fire: passing is not vacuous


def test_replay_without_the_runs_options_says_what_is_missing() -> None:
    """A printed call run where the run did not happen replays with defaults: the message says so."""
    with pytest.raises(racecheck.DidNotReproduce) as err:
        racecheck.replay(rt.dispatch_locked, "rc1:2:99:0:0x3.1x3", times=1)
    assert "without the run's options" in str(err.value)
