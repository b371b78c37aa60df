"""Start a system under test (any language) on a free loopback port for a run, and always stop it.

``with Service(["node", "server.js"], env={...}, ready="/health") as svc:`` picks a free
port, passes it as ``PORT`` (or ``port_env``) and as ``{port}`` in the command, waits until the port answers, and on exit
terminates the whole process group (SIGTERM, then SIGKILL): no orphans.
"""

from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import tempfile
import time
from typing import Any

from ..errors import ConfigError, InfrastructureError


class ServiceError(InfrastructureError):
    """The service did not start (it exited, or its port never answered): infrastructure, exit 3."""


def free_port(host: str = "127.0.0.1") -> int:
    """A port on ``host`` that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


class Service:
    """A process started for a run; ``url`` is ``http://127.0.0.1:<port>``."""

    def __init__(self, command: str | list[str], env: dict[str, str] | None = None, cwd: str | None = None,
                 port_env: str = "PORT", ready: str | None = None, ready_timeout: float = 20.0,
                 host: str = "127.0.0.1") -> None:
        if isinstance(command, str):
            command = ["/bin/sh", "-c", command]
        if not command:
            raise ConfigError("service command is empty; give a shell string or an argument list")
        if cwd is not None and not os.path.isdir(cwd):
            raise ConfigError(f"service cwd {cwd!r} is not a directory")
        self.command = list(command)
        self.env = dict(env or {})
        self.cwd = cwd
        self.port_env = port_env
        self.ready = ready
        self.ready_timeout = ready_timeout
        self.host = host
        self.port = 0
        self.proc: subprocess.Popen[bytes] | None = None
        self._log: Any = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def log_tail(self, chars: int = 2000) -> str:
        """The end of what the service printed (stdout and stderr)."""
        if self._log is None:
            return ""
        self._log.flush()
        self._log.seek(0)
        return str(self._log.read().decode("utf-8", "replace")[-chars:])

    def start(self) -> Service:
        self.port = free_port(self.host)
        env = dict(os.environ)
        env.update({k: v.replace("{port}", str(self.port)) for k, v in self.env.items()})
        env[self.port_env] = str(self.port)
        argv = [a.replace("{port}", str(self.port)) for a in self.command]
        self._log = tempfile.TemporaryFile()
        try:
            self.proc = subprocess.Popen(argv, cwd=self.cwd, env=env, stdin=subprocess.DEVNULL,
                                         stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True)
        except OSError as exc:
            self._log.close()
            self._log = None
            raise ServiceError(f"service {self.command[0]!r} could not start: {exc}; check the command and cwd") from exc
        try:
            self._wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_ready(self) -> None:
        assert self.proc is not None
        deadline = time.monotonic() + self.ready_timeout
        while time.monotonic() < deadline:
            code = self.proc.poll()
            if code is not None:
                raise ServiceError(f"service {' '.join(self.command)!r} exited {code} before it was ready; "
                                   f"its output:\n{self.log_tail()}")
            if self._answers():
                return
            time.sleep(0.05)
        raise ServiceError(f"service {' '.join(self.command)!r} did not answer on port {self.port} within "
                           f"{self.ready_timeout}s; raise ready_timeout or check its output:\n{self.log_tail()}")

    def _answers(self) -> bool:
        try:
            if self.ready is None:
                with socket.create_connection((self.host, self.port), timeout=0.5):
                    return True
            conn = http.client.HTTPConnection(self.host, self.port, timeout=1.0)
            try:
                conn.request("GET", self.ready)
                return conn.getresponse().status < 500
            finally:
                conn.close()
        except OSError:
            return False

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is not None:
            for sig, wait in ((signal.SIGTERM, 5.0), (signal.SIGKILL, 5.0)):
                try:
                    os.killpg(proc.pid, sig)
                except (ProcessLookupError, PermissionError):
                    pass
                try:
                    proc.wait(wait)
                    break
                except subprocess.TimeoutExpired:
                    continue
            try:  # anything the service left in its session
                os.killpg(proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
            _wait_group_gone(proc.pid)
        if self._log is not None:
            self._log.close()
            self._log = None

    def __enter__(self) -> Service:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _live_members(pgid: int) -> list[int]:
    """Processes of group ``pgid`` that have not exited (zombies waiting to be reaped do not count)."""
    out: list[int] = []
    try:
        entries = os.listdir("/proc")
    except OSError:
        return out
    for entry in entries:
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if len(fields) > 2 and int(fields[2]) == pgid and fields[0] not in ("Z", "X"):
            out.append(int(entry))
    return out


def _wait_group_gone(pgid: int, timeout: float = 3.0) -> None:
    """A signal is not an exit: wait until every process of the group has really gone."""
    end = time.monotonic() + timeout
    while time.monotonic() < end and _live_members(pgid):
        time.sleep(0.02)
