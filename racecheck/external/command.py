"""The ``command`` trigger: N processes of a command, started together after the barrier.

Each worker starts one process (``{worker}`` in the command is replaced by its id, and
``RACECHECK_WORKER`` is set in its environment), waits for it, and records a ``command``
event with the exit code and excerpts of stdout and stderr. A non-zero exit raises
:class:`CommandFailed`, which the runner records as the worker's error.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from dataclasses import dataclass
from typing import Any

from .. import _runtime
from ..errors import ConfigError
from .http import expand, expand_env

COMMAND = "command"  # event kind of one finished process
EXCERPT = 500


class CommandFailed(Exception):
    """The command exited with a status the trigger does not accept, or timed out."""


@dataclass(frozen=True)
class CommandResult:
    exit_code: int
    stdout: str
    stderr: str

    def __repr__(self) -> str:
        out = self.stdout.strip().replace("\n", " | ")
        return f"exit {self.exit_code}" + (f": {out[:150]}" if out else "")


def _excerpt(data: bytes) -> str:
    text = data.decode("utf-8", "replace")
    return text if len(text) <= EXCERPT else "…" + text[-(EXCERPT - 1):]


class CommandTrigger:
    """A callable target running one process per worker; pass it to ``racecheck.run``.

    ``command`` is a shell string (run by ``/bin/sh -c``) or an argument list (no shell).
    """

    def __init__(self, command: str | list[str], env: dict[str, str] | None = None, cwd: str | None = None,
                 timeout: float = 30.0, ok: tuple[int, ...] | list[int] = (0,), stdin: str | None = None) -> None:
        if isinstance(command, str):
            if not command.strip():
                raise ConfigError("command trigger: the command is empty; give a shell string or an argument list")
        elif not command or not all(isinstance(a, str) for a in command):
            raise ConfigError(f"command trigger: {command!r} must be a shell string or a non-empty list of strings")
        if timeout <= 0:
            raise ConfigError(f"command trigger timeout must be > 0 seconds, got {timeout!r}")
        if cwd is not None and not os.path.isdir(cwd):
            raise ConfigError(f"command trigger cwd {cwd!r} is not a directory")
        self.command = command
        self.env = dict(env or {})
        self.cwd = cwd
        self.timeout = timeout
        self.ok = tuple(int(c) for c in ok)
        self.stdin = stdin
        shown = command if isinstance(command, str) else " ".join(command)
        self.__qualname__ = f"command {shown}"

    def __repr__(self) -> str:
        return f"CommandTrigger({self.command!r})"

    def argv(self, worker: int | None) -> list[str]:
        if isinstance(self.command, str):  # the shell expands $VARS itself
            return ["/bin/sh", "-c", expand(self.command, worker)]
        return [expand(expand_env(a, "command trigger argument"), worker) for a in self.command]

    def __call__(self) -> CommandResult:
        worker = _runtime.current_worker()
        env = dict(os.environ)
        env.update({k: expand(expand_env(v, "command trigger env"), worker) for k, v in self.env.items()})
        if worker is not None:
            env["RACECHECK_WORKER"] = str(worker)
        argv = self.argv(worker)
        rt = _runtime.active()
        t0 = time.monotonic()
        proc = subprocess.Popen(argv, cwd=self.cwd, env=env, stdin=subprocess.PIPE if self.stdin is not None else subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
        if rt is not None:
            rt.register_resource(lambda: _kill_group(proc))  # a crashed worker takes its process with it
        timed_out = False
        try:
            out, err = proc.communicate(self.stdin.encode() if self.stdin is not None else None, timeout=self.timeout)
        except subprocess.TimeoutExpired:
            timed_out = True
            _kill_group(proc)
            out, err = proc.communicate()
        finally:
            _kill_group(proc)  # also whatever the command left running in its session
            proc.wait()
        res = CommandResult(proc.returncode, _excerpt(out), _excerpt(err))
        if rt is not None:
            rt.record(COMMAND, argv[-1] if isinstance(self.command, str) else " ".join(argv), exit_code=res.exit_code,
                      stdout=res.stdout, stderr=res.stderr, timed_out=timed_out,
                      ms=round((time.monotonic() - t0) * 1000, 1))
        if timed_out:
            raise CommandFailed(f"command {self.__qualname__[8:]!r} did not finish within {self.timeout}s and was killed")
        if res.exit_code not in self.ok:
            tail = (res.stderr or res.stdout).strip()[-200:]
            raise CommandFailed(f"command exited {res.exit_code}" + (f": {tail}" if tail else ""))
        return res


def _kill_group(proc: subprocess.Popen[Any]) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def command_trigger(command: str | list[str], **options: Any) -> CommandTrigger:
    """Build a :class:`CommandTrigger` (``env``, ``cwd``, ``timeout``, ``ok``, ``stdin``)."""
    return CommandTrigger(command, **options)
