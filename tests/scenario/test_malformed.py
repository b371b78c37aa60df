"""Bad scenario files: each gives one clean file:line: field message, exit 2, and loses nothing else."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from helpers import MALFORMED, claim, write_scenario

from racecheck.cli import main
from racecheck.scenario.build import check_scenario as check
from racecheck.scenario.loader import ScenarioError, load_paths

FILES = sorted(MALFORMED.glob("*.race.yaml"))
HEADER = re.compile(r"# expect-error: line=(\d+) field=(\S+) text=(.*)")


def expected(path: Path) -> tuple[int, str | None, str]:
    m = HEADER.match(path.read_text().splitlines()[0])
    assert m, f"{path} lacks its '# expect-error:' header"
    return int(m[1]), (None if m[2] == "-" else m[2]), m[3]


def errors_of(path: Path) -> list[ScenarioError]:
    out = []
    for r in load_paths([path]):
        if isinstance(r, ScenarioError):
            out.append(r)
            continue
        try:
            check(r)
        except ScenarioError as err:
            out.append(err)
    return out


def test_there_are_at_least_25_malformed_files() -> None:
    """The suite keeps at least 25 distinct kinds of bad input."""
    assert len(FILES) >= 25


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name.removesuffix(".race.yaml"))
def test_one_message_with_file_line_and_field(path: Path) -> None:
    """A malformed file yields exactly one error naming its file, line and field, with the expected text."""
    line, field, text = expected(path)
    errs = errors_of(path)
    assert len(errs) == 1, [str(e) for e in errs]
    err = errs[0]
    assert (err.line, err.field) == (line, field), str(err)
    assert text in err.message, str(err)
    prefix = f"{path}:{line}: " + (f"{field}: " if field else "")
    assert str(err).startswith(prefix)
    assert "\n" not in str(err) and "Traceback" not in str(err)


def test_cli_run_reports_each_bad_file_once_and_still_runs_the_good_one(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`racecheck run good bad...` exits 2, prints one ERROR line per bad file, and still runs and reports the good one."""
    good = write_scenario(tmp_path, "good", claim("good-fixed", "fixed", "pass", trials=5))
    report = tmp_path / "out.json"
    code = main(["run", str(good), *map(str, FILES), "--json", str(report)])
    out, err = capsys.readouterr()
    assert code == 2
    assert "Traceback" not in out + err
    error_lines = [ln for ln in out.splitlines() if ln.startswith("ERROR ")]
    assert len(error_lines) == len(FILES)
    for path in FILES:
        line, field, _ = expected(path)
        assert sum(f"{path}:{line}: " + (f"{field}: " if field else "") in ln for ln in error_lines) == 1, path
    assert re.search(r"^PASS +good-fixed: no violation in 5/5 trials", out, re.M)
    doc = json.loads(report.read_text())
    by_name = {s["scenario"]: s for s in doc["scenarios"]}
    assert by_name["good-fixed"]["status"] == "as-expected"
    assert doc["summary"]["error"] == len(FILES)


def test_cli_validate_exit_codes(capsys: pytest.CaptureFixture[str]) -> None:
    """`racecheck validate` exits 2 on a malformed file and 0 on the examples, without tracebacks."""
    from helpers import EXAMPLES

    assert main(["validate", str(FILES[0])]) == 2
    assert main(["validate", str(EXAMPLES)]) == 0
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    assert "ok     " in out and "0 with errors" in out


def test_duplicate_names_across_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Two files using one scenario name: the second is an error naming the first's location; the first still runs."""
    a = write_scenario(tmp_path, "a", claim("same-name", "fixed", "pass", trials=2))
    b = write_scenario(tmp_path, "b", claim("same-name", "fixed", "pass", trials=2))
    code = main(["run", str(a), str(b)])
    out = capsys.readouterr().out
    assert code == 2
    assert f"{b}:1: name: duplicate scenario name 'same-name' (already used at {a}:1)" in out
    assert re.search(r"^PASS +same-name", out, re.M)


def test_missing_path_is_bad_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A path that does not exist is reported as bad input (exit 2), not a crash."""
    assert main(["run", str(tmp_path / "nope.race.yaml")]) == 2
    assert "no such file or folder" in capsys.readouterr().out
