"""The README's two commands work as written, for root and for a normal user; .ci/run runs the
README's own test command (read from README.md), not a copy of it."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
INSTALL = ROOT / "scripts" / "install-system-deps.sh"
EXTRACT = ROOT / "scripts" / "readme-test-command.sh"


def _fake_system(tmp: Path, *, uid: int, have: set[str], sudo: bool) -> tuple[dict[str, str], Path]:
    """A PATH of stub commands logging their calls, and an empty fake root for the file checks."""
    bindir, log = tmp / "bin", tmp / "calls.log"
    bindir.mkdir()
    stubs = {"id": f'[ "$1" = -u ] && echo {uid}', "apt-get": f'echo "apt-get $*" >> {log}'}
    if sudo:
        stubs["sudo"] = f'echo "sudo $*" >> {log}; "$@"'
    for name in have:
        stubs[name] = "true"
    for name, body in stubs.items():
        (bindir / name).write_text(f"#!/bin/sh\n{body}\n")
        (bindir / name).chmod(0o755)
    for tool in ("sh", "ls", "cat", "echo"):  # what the script itself needs
        real = subprocess.run(["sh", "-c", f"command -v {tool}"], capture_output=True, text=True).stdout.strip()
        if real.startswith("/") and not (bindir / tool).exists():
            (bindir / tool).symlink_to(real)
    fake_root = tmp / "root"
    fake_root.mkdir()
    env = {"PATH": str(bindir), "INSTALL_DEPS_ROOT": str(fake_root), "HOME": str(tmp)}
    return env, log


def _run(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([env["PATH"] + "/sh", str(INSTALL)], env=env, capture_output=True, text=True,
                          timeout=60)


def test_root_without_sudo_installs_missing_packages_with_plain_apt_get(tmp_path: Path) -> None:
    env, log = _fake_system(tmp_path, uid=0, have={"node", "npm"}, sudo=False)
    proc = _run(env)
    assert proc.returncode == 0, proc.stderr
    calls = log.read_text().splitlines()
    assert calls[0] == "apt-get update -q"
    assert calls[1].startswith("apt-get install -y -q --no-install-recommends")
    assert calls[1].split()[-3:] == ["chromium", "redis-server", "postgresql"]
    assert "sudo" not in log.read_text()


def test_normal_user_goes_through_sudo(tmp_path: Path) -> None:
    env, log = _fake_system(tmp_path, uid=1000, have={"chromium", "redis-server"}, sudo=True)
    proc = _run(env)
    assert proc.returncode == 0, proc.stderr
    calls = log.read_text().splitlines()
    assert calls[0] == "sudo apt-get update -q"
    assert "sudo apt-get install -y -q --no-install-recommends nodejs npm postgresql" in calls


def test_normal_user_without_sudo_gets_one_clear_sentence(tmp_path: Path) -> None:
    env, log = _fake_system(tmp_path, uid=1000, have={"chromium", "node", "npm", "redis-server"}, sudo=False)
    proc = _run(env)
    assert proc.returncode == 1
    assert "missing postgresql" in proc.stderr and "as root: apt-get install -y postgresql" in proc.stderr
    assert not log.exists()


def test_nothing_missing_touches_nothing(tmp_path: Path) -> None:
    env, log = _fake_system(tmp_path, uid=1000, have={"chromium", "node", "npm", "redis-server"}, sudo=False)
    pg = Path(env["INSTALL_DEPS_ROOT"]) / "usr/lib/postgresql/15/bin"
    pg.mkdir(parents=True)
    (pg / "postgres").write_text("")
    proc = _run(env)
    assert proc.returncode == 0 and "already installed" in proc.stdout
    assert not log.exists()


def test_readme_test_command_uses_the_script_and_no_bare_sudo() -> None:
    cmd = subprocess.run(["sh", str(EXTRACT)], capture_output=True, text=True, check=True).stdout.strip()
    assert cmd.startswith("sh scripts/install-system-deps.sh && ")
    assert "sudo" not in cmd and cmd.endswith("pytest -n auto")
    assert "pip install -e '.[dev]'" in cmd


def test_ci_runs_the_extracted_readme_command_not_a_copy() -> None:
    ci = (ROOT / ".ci" / "run").read_text()
    assert "scripts/readme-test-command.sh README.md" in ci
    assert 'bash -euo pipefail -c "$readme_test_command"' in ci
    body = [ln for ln in ci.splitlines() if not ln.lstrip().startswith("#")]
    assert not any(re.search(r"\bpytest\b", ln) for ln in body), "pytest must only run via the README line"
    assert "mkdocs build --strict" in ci


def test_extract_refuses_a_readme_without_markers(tmp_path: Path) -> None:
    (tmp_path / "README.md").write_text("# x\n```sh\npytest\n```\n")
    proc = subprocess.run(["sh", str(EXTRACT), str(tmp_path / "README.md")], capture_output=True, text=True)
    assert proc.returncode == 1 and "no single command line" in proc.stderr


def test_readme_main_job_install_brings_pytest() -> None:
    readme = (ROOT / "README.md").read_text()
    main_job = re.search(r"```sh\n(python3 -m venv .*racecheck run [^\n]*)\n```", readme)
    assert main_job and "'.[embedded,pytest]'" in main_job.group(1)
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert re.search(r'^pytest = \["pytest>=8"\]', pyproject, flags=re.M)


@pytest.mark.skipif(os.geteuid() != 0, reason="checks the root-without-sudo path on the real machine")
def test_real_machine_as_root_passes_the_install_step() -> None:
    proc = subprocess.run(["sh", str(INSTALL)], capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
