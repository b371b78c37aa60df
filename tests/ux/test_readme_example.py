"""The README's 60-second example runs as shown and prints what the README says it prints.

The files are the README's code blocks whose first line is a ``# <path>`` (``-- <path>`` in SQL)
comment, written into an empty folder. Each ``<!-- example-output -->`` pair in the README holds a
``sh`` block (the command, run as written: ``pytest`` and ``racecheck`` are the venv's console
scripts, so nothing is importable but what the project's files make importable) and a ``text``
block (what it prints: for pytest, its ``E`` lines and the ``reproduced k/K`` line; for
``racecheck run``, stdout). Both sides go through :func:`normalise`, the README's documented rule:

* numbers with a decimal point are times (t(ms) column, ``at 12.0 ms``, ``4.0s``): ``N`` --
  except inside a schedule string ``rc1:...``, which must match exactly;
* the trial that caught the violation (``trial 2``, ``2/50``) depends on the interleaving: ``k``;
* the server's provider in parentheses (``(embedded)``, ``(local)``) depends on the machine;
* a run of spaces is one space and a run of dashes is two (column padding and a table's rule
  follow the widths of the times).
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")
BIN = Path(sys.executable).parent
PROVIDER = re.compile(r"\((?:local|embedded|docker|url)\)")


def normalise(text: str) -> list[str]:
    out = []
    for line in text.strip("\n").splitlines():
        parts = re.split(r"(rc1:[^\s']+)", line)
        line = "".join(p if p.startswith("rc1:") else _times(p) for p in parts)
        out.append(re.sub(r"-{2,}", "--", re.sub(r" +", " ", line)).rstrip())
    return out


def _times(s: str) -> str:
    s = re.sub(r"\d+\.\d+", "N", s)
    s = re.sub(r"\btrial \d+\b", "trial k", s)
    s = re.sub(r"(?<![\w.:/])\d+/(\d+)\b", r"k/\1", s)
    return PROVIDER.sub("(provider)", s)


def readme_files() -> dict[str, str]:
    files = {}
    for body in re.findall(r"```(?:python|yaml|toml|sql)\n(.*?)```", README, flags=re.S):
        first = body.splitlines()[0]
        m = re.match(r"(?:#|--) ([\w./-]+\.(?:py|yaml|toml|sql))$", first)
        if m:
            files[m.group(1)] = body
    return files


def readme_outputs() -> list[tuple[str, str]]:
    pairs = re.findall(r"<!-- example-output -->\n```sh\n(.*?)\n```\n\n```text\n(.*?)```\n<!-- /example-output -->",
                       README, flags=re.S)
    return [(cmd.strip(), out) for cmd, out in pairs]


def _run(cmd: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    argv = shlex.split(cmd)
    exe = BIN / argv[0]
    assert argv[0] in ("pytest", "racecheck") and exe.exists(), f"{cmd!r}: no {exe} (pip install -e '.[dev]')"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "RACECHECK_", "COV_"))}
    env["PYTHONPATH"] = str(ROOT)  # this checkout's racecheck; the project itself is not on the path
    extra = ["-p", "no:cacheprovider"] if argv[0] == "pytest" else []
    return subprocess.run([str(exe), *argv[1:], *extra], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=600)


def printed(cmd: str, proc: subprocess.CompletedProcess[str]) -> str:
    """What the README's text block shows of a command's output."""
    if cmd.startswith("pytest"):
        keep = [ln for ln in proc.stdout.splitlines() if ln.startswith("E") or re.match(r"reproduced \d+/\d+$", ln)]
        return "\n".join(keep)
    return proc.stdout


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("readme-example")
    for rel, body in readme_files().items():
        (d / rel).parent.mkdir(parents=True, exist_ok=True)
        (d / rel).write_text(body, encoding="utf-8")
    return d


def test_readme_shows_the_files_and_two_outputs() -> None:
    assert sorted(readme_files()) == ["myapp/engine.py", "pyproject.toml", "scenarios/schema.sql",
                                      "scenarios/trigger.race.yaml", "tests/test_engine.py"]
    assert [cmd.split()[:2] for cmd, _ in readme_outputs()] == [
        ["pytest", "'tests/test_engine.py::test_trigger_spawns_once'"], ["racecheck", "run"]]


def test_plain_pytest_fails_with_one_report_and_a_replay_line(project: Path) -> None:
    proc = _run("pytest", project)
    assert proc.returncode == 1, proc.stdout[-3000:] + proc.stderr[-2000:]
    e_lines = printed("pytest", proc).splitlines()
    assert e_lines[0].startswith("E       AssertionError: exactly_once violated in 1 of ")
    assert re.match(r"E {7}racecheck: test_trigger_spawns_once: trial \d+/\d+ \(n=8, mode=threads, strategy=pct, "
                    r"seed=\d+\)$", e_lines[1])
    assert "VIOLATION exactly_once: effect 'spawn_reviewer' happened" in e_lines[2]
    assert re.match(r"E {7}replay with: pytest 'tests/test_engine.py::test_trigger_spawns_once' "
                    r"--racecheck-replay='rc1:8:\d+:\d+:[0-9x.]+'$", e_lines[-1])
    assert sum("racecheck: test_trigger_spawns_once" in ln for ln in proc.stdout.splitlines()) == 1  # once


@pytest.mark.parametrize("index", [0, 1], ids=["pytest-replay", "racecheck-run"])
def test_readme_output_matches_what_the_tool_prints(project: Path, index: int) -> None:
    cmd, shown = readme_outputs()[index]
    proc = _run(cmd, project)
    assert proc.returncode == (1 if cmd.startswith("pytest") else 0), proc.stdout[-3000:] + proc.stderr[-2000:]
    assert normalise(printed(cmd, proc)) == normalise(shown)


def test_the_rule_keeps_what_must_match() -> None:
    """The normalisation hides times, the detecting trial and the provider; not schedules, counts or names."""
    a = "E   w1 at 12.012 ms; trial 2 (2/50 trials, 4.0s) rc1:4:1:0:1x2.3x4 happened 3 times (embedded)"
    assert normalise(a) == normalise(a.replace("12.012", "7.5").replace("2 (2/", "1 (1/").replace("embedded", "local"))
    assert normalise(a) != normalise(a.replace("rc1:4:1:0:1x2.3x4", "rc1:4:1:0:1x2.3x5"))
    assert normalise(a) != normalise(a.replace("3 times", "2 times"))
    assert normalise(a) != normalise(a.replace("w1 at", "w2 at"))
    assert normalise("----  ---\nx  1.5s") == normalise("-----  ---\nx  10.5s")
