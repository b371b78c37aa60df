"""The command trigger: N processes started together, their exit codes and output kept in the history."""

from __future__ import annotations

from pathlib import Path

import pytest

import racecheck
from racecheck.errors import ConfigError
from racecheck.external import COMMAND, CommandTrigger

# Append this worker's id to $OUT unless something is there already: check, then act.
CHECK_THEN_APPEND = 'if [ ! -s "$OUT" ]; then sleep 0.02; echo "$RACECHECK_WORKER" >> "$OUT"; fi'


def one_line(path: Path) -> racecheck.invariants.Custom:
    def check(_history: object) -> str | None:
        lines = path.read_text().splitlines() if path.exists() else []
        return None if len(lines) == 1 else f"{path.name} has {len(lines)} lines, expected exactly 1: {lines}"

    return racecheck.custom(check, "one_line")


def test_check_then_append_is_caught(tmp_path: Path) -> None:
    """Simultaneous processes that check the file, then append, write more than one line."""
    out = tmp_path / "claims"
    res = racecheck.run(CommandTrigger(CHECK_THEN_APPEND, env={"OUT": str(out)}), n=4, trials=5,
                        setup=lambda: out.write_text(""), invariants=[one_line(out)])
    assert not res.ok
    assert res.first_failure.violations[0].invariant == "one_line"


def test_flock_protected_append_passes(tmp_path: Path) -> None:
    """The same check-then-append under flock writes exactly one line in every trial."""
    out = tmp_path / "claims"
    cmd = f"flock {tmp_path / 'lock'} sh -c '{CHECK_THEN_APPEND}'"
    res = racecheck.run(CommandTrigger(cmd, env={"OUT": str(out)}), n=4, trials=5,
                        setup=lambda: out.write_text(""), invariants=[one_line(out)])
    res.assert_ok()
    assert res.trials_run == 5


def test_exit_code_and_output_are_recorded(tmp_path: Path) -> None:
    """Each process's exit code and stdout/stderr excerpts become a command event of its worker."""
    res = racecheck.run(CommandTrigger("echo out-$RACECHECK_WORKER; echo err >&2"), n=2, trials=1)
    res.assert_ok()
    events = res.trials[0].history.filter(COMMAND)
    assert sorted((e.worker, e.payload["exit_code"], e.payload["stdout"].strip(), e.payload["stderr"].strip())
                  for e in events) == [(0, 0, "out-0", "err"), (1, 0, "out-1", "err")]


def test_nonzero_exit_is_a_worker_error() -> None:
    """A process exiting 3 is an error event naming the exit code and its stderr; ok=[3] accepts it."""
    bad = racecheck.run(CommandTrigger("echo no claim >&2; exit 3"), n=2, trials=1)
    assert not bad.ok
    assert "exited 3: no claim" in bad.first_failure.violations[0].message
    racecheck.run(CommandTrigger("exit 3", ok=[3]), n=2, trials=1).assert_ok()


def test_argument_list_runs_without_a_shell(tmp_path: Path) -> None:
    """An argument list is run as is, with '{worker}' replaced in each argument."""
    res = racecheck.run(CommandTrigger(["touch", str(tmp_path / "w{worker}")]), n=3, trials=1)
    res.assert_ok()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["w0", "w1", "w2"]


def test_timeout_kills_the_process_and_is_an_error() -> None:
    """A command outliving its timeout is killed (with its children) and reported as an error."""
    res = racecheck.run(CommandTrigger("sleep 30", timeout=0.3), n=1, trials=1, timeout=10)
    assert not res.ok and "did not finish within 0.3s" in res.first_failure.violations[0].message


def test_missing_env_reference_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    """An argument naming ${VAR} fails with a message naming the variable when it is unset, and runs when set."""
    monkeypatch.delenv("RACECHECK_NO_SUCH_VAR", raising=False)
    bad = racecheck.run(CommandTrigger(["test", "${RACECHECK_NO_SUCH_VAR}", "=", "x"]), n=1, trials=1)
    assert not bad.ok and "RACECHECK_NO_SUCH_VAR is not set" in bad.first_failure.violations[0].message
    monkeypatch.setenv("RACECHECK_NO_SUCH_VAR", "x")
    racecheck.run(CommandTrigger(["test", "${RACECHECK_NO_SUCH_VAR}", "=", "x"]), n=1, trials=1).assert_ok()


@pytest.mark.parametrize("kwargs", [{"command": ""}, {"command": []}, {"command": "true", "timeout": 0},
                                    {"command": "true", "cwd": "/no/such/dir"}])
def test_bad_command_is_refused(kwargs: dict) -> None:
    """An empty command, a non-positive timeout or a missing cwd is a ConfigError."""
    with pytest.raises(ConfigError):
        CommandTrigger(**kwargs)
