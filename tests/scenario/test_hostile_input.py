"""Hostile scenario input: each bad file is one bounded, escaped `file:line: ...` sentence, exit 2,
and the other files still run (the CLI and pytest collection alike)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from helpers import claim, write_scenario

from racecheck.cli import main
from racecheck.scenario.build import check_scenario as check
from racecheck.scenario.loader import MAX_FILE_BYTES, ScenarioError, load_file

LINE = re.compile(r"^\S.*:\d+: ")


def only_error(path: Path) -> ScenarioError:
    results = load_file(path)
    assert len(results) == 1
    r = results[0]
    if not isinstance(r, ScenarioError):
        with pytest.raises(ScenarioError) as info:
            check(r)
        return info.value
    return r


def assert_one_clean_line(err: ScenarioError) -> None:
    text = str(err)
    assert LINE.match(text), text
    assert "\n" not in text and "\x1b" not in text and "Traceback" not in text
    assert len(text) < len(err.file) + 600  # field <= 160, message <= 400


def test_non_utf8_scenario_file_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "latin1.race.yaml"
    path.write_bytes(b"name: x\ntarget: m:f\nn: \xe9\n")
    err = only_error(path)
    assert_one_clean_line(err)
    assert err.line == 3 and "UTF-8" in err.message


def test_non_utf8_schema_file_is_a_clean_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "schema.sql").write_bytes(b"create table caf\xe9 (id int);\n")
    path = write_scenario(tmp_path, "s", claim("s", "fixed", "pass", extra="backends: {postgres: {schema: schema.sql}}\n"))
    err = only_error(path)
    assert_one_clean_line(err)
    assert err.field == "backends.postgres.schema" and "not UTF-8" in err.message
    assert main(["validate", str(path)]) == 2
    assert "Traceback" not in capsys.readouterr().err


def test_target_module_calling_sys_exit_at_import_is_a_bad_target(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "exits_at_import.py").write_text("import sys\nsys.exit(3)\ndef f():\n    pass\n")
    path = tmp_path / "exit.race.yaml"
    path.write_text("name: exits\ntarget: exits_at_import:f\nn: 2\ntrials: 1\n")
    assert main(["run", str(path)]) == 2
    out = capsys.readouterr().out
    assert "exit.race.yaml:2: target: importing 'exits_at_import:f' called sys.exit(3)" in out


def test_file_over_the_size_limit_is_refused_unread(tmp_path: Path) -> None:
    path = tmp_path / "big.race.yaml"
    path.write_text("name: big\ntarget: m:f\ndescription: '" + "x" * MAX_FILE_BYTES + "'\n")
    err = only_error(path)
    assert_one_clean_line(err)
    assert err.line == 1 and "KiB" in err.message


def test_control_characters_and_huge_values_are_escaped_and_truncated(tmp_path: Path) -> None:
    path = tmp_path / "ansi.race.yaml"
    path.write_text('name: "\\e]0;pwned\\a"\ntarget: m:f\n"\\e[31m' + "k" * 900 + '": 1\n')
    err = only_error(path)
    assert_one_clean_line(err)
    assert "\\x1b[31m" in str(err) and "..." in str(err)


BAD_FILES = {
    "recursive": "name: bad\ntarget: scenario_targets:noop\nargs: &a [*a]\n",
    "deep": "name: bad\ntarget: scenario_targets:noop\nargs: " + "[" * 5000 + "]" * 5000 + "\n",
    "bomb": "name: bad\ntarget: scenario_targets:noop\n" + "".join(
        f"l{i}: &l{i} [" + ",".join([f"*l{i - 1}"] * 9 if i else ["x"] * 9) + "]\n" for i in range(9)),
}


@pytest.mark.parametrize("kind", sorted(BAD_FILES))
def test_one_bad_file_is_reported_and_the_others_run(
        kind: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`racecheck run dir/`: the bad file is one ERROR line, the good one still runs (exit 2)."""
    write_scenario(tmp_path, "good", claim("good", "fixed", "pass", trials=3))
    (tmp_path / "bad.race.yaml").write_text(BAD_FILES[kind])
    assert main(["run", str(tmp_path)]) == 2
    out = capsys.readouterr().out
    errors = [ln for ln in out.splitlines() if ln.startswith("ERROR ")]
    assert len(errors) == 1 and "bad.race.yaml:" in errors[0], out
    assert re.search(r"^PASS +good: no violation in 3/3 trials", out, re.M), out


def test_pytest_collection_keeps_the_good_files(pytester: pytest.Pytester) -> None:
    """A file that cannot be loaded is one failing item of its own; every other file's scenarios run."""
    helpers = Path(__file__).with_name("scenario_targets.py")
    pytester.makepyfile(scenario_targets=helpers.read_text())
    pytester.path.joinpath("good.race.yaml").write_text(claim("good", "fixed", "pass", trials=3))
    for kind, text in BAD_FILES.items():
        pytester.path.joinpath(f"bad_{kind}.race.yaml").write_text(text)
    result = pytester.runpytest("-q", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, failed=len(BAD_FILES))
    assert "Traceback" not in result.stdout.str()
    assert "RecursionError" not in result.stdout.str()
