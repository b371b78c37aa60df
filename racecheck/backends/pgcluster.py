"""Launch a private PostgreSQL cluster from a bin dir (local packages or the embedded wheel).

* A cluster is ``initdb``'d once per bin dir and cached under
  ``~/.cache/racecheck/pg-<major>-<key>`` (``RACECHECK_CACHE_DIR`` overrides);
  each session copies it (``cp -a``, ~0.1 s) instead of running initdb (~0.7 s).
* ``postgres`` is started directly (not via ``pg_ctl``) as our child, as an
  unprivileged user when we are root, with the parent-death signal set; it
  listens on a private unix socket and on 127.0.0.1:<port> (a bind failure
  is retried on another port, so xdist workers never collide).
* It is not open to other local users: the unix socket lives in a 0700 directory
  (trust there: racecheck's admin connection), TCP needs the session's generated
  password (``scram-sha-256``), which only the URLs racecheck hands out carry.
* Durability is off (fsync, synchronous_commit, full_page_writes): the data
  is thrown away at the end of the session.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

from .cleanup import Session, kill_group, procs_in_dirs, remove_orphan_segment, session
from .errors import BackendError
from .runas import chown_for_server, preexec, server_env, server_user

SERVER_SETTINGS = {
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "autovacuum": "off",
    "jit": "off",
    "max_connections": "300",
    "max_prepared_transactions": "16",  # targets using two-phase commit work, and reset undoes them
    "shared_buffers": "32MB",
    "dynamic_shared_memory_type": "mmap",  # files in PGDATA, not /dev/shm: nothing to leak
    "max_wal_size": "1GB",
    "checkpoint_timeout": "1h",
    "wal_level": "minimal",
    "max_wal_senders": "0",
    "logging_collector": "off",
    "log_min_messages": "warning",
    "unix_socket_permissions": "0700",
    "password_encryption": "scram-sha-256",
}

# local: the socket sits in a 0700 dir only the server user (and root) can enter
PG_HBA = """\
local all all trust
host all all 127.0.0.1/32 scram-sha-256
host all all ::1/128 scram-sha-256
"""


def cache_dir() -> Path:
    env = os.environ.get("RACECHECK_CACHE_DIR")
    base = Path(env) if env else Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "racecheck"
    base.mkdir(parents=True, exist_ok=True)
    return base


def pg_version(bindir: Path) -> str:
    out = subprocess.run([str(bindir / "postgres"), "-V"], capture_output=True, text=True,
                         timeout=10, check=False, env=server_env())
    text = out.stdout.strip()
    # "postgres (PostgreSQL) 15.20 (Debian 15.20-0+deb12u1)" -> "PostgreSQL 15.20"
    parts = text.split()
    return f"PostgreSQL {parts[2]}" if len(parts) >= 3 else text or "PostgreSQL ?"


def _cache_key(bindir: Path) -> str:
    st = (bindir / "postgres").resolve().stat()
    raw = f"{(bindir / 'postgres').resolve()}|{st.st_size}|{int(st.st_mtime)}|{server_user()}"
    return hashlib.sha1(raw.encode()).hexdigest()[:10]


def _copy_tree(src: Path, dst: Path) -> None:
    if shutil.which("cp"):
        r = subprocess.run(["cp", "-a", str(src), str(dst)], capture_output=True, text=True, check=False)
        if r.returncode == 0:
            return
        shutil.rmtree(dst, ignore_errors=True)
    shutil.copytree(src, dst, symlinks=True)


def _chown_tree(path: Path) -> None:
    user = server_user()
    if user is None:
        return
    for dirpath, dirnames, filenames in os.walk(path):
        os.chown(dirpath, user.uid, user.gid)
        for name in dirnames + filenames:
            os.lchown(os.path.join(dirpath, name), user.uid, user.gid)


def _initdb(bindir: Path, target: Path) -> None:
    r = subprocess.run(
        [str(bindir / "initdb"), "-D", str(target), "-U", "postgres", "--auth=trust",
         "-E", "UTF8", "--locale=C", "--no-sync", "--wal-segsize=1"],
        capture_output=True, text=True, check=False, env=server_env(),
        preexec_fn=preexec(tie_to_parent=False), timeout=120,
    )
    if r.returncode != 0:
        raise BackendError(f"initdb failed ({bindir / 'initdb'}): {r.stderr.strip() or r.stdout.strip()}")


def cached_cluster(bindir: Path, sess: Session) -> tuple[Path, str, bool]:
    """Path of the cached initdb'd cluster for ``bindir`` (building it once), version, built-now flag."""
    root = cache_dir()
    key = _cache_key(bindir)
    final = root / f"pg-{key}"
    if (final / "PG_VERSION").exists() and (final / "racecheck-version").exists():
        return final, (final / "racecheck-version").read_text().strip(), False
    with open(root / f"pg-{key}.lock", "w") as lockf:
        fcntl.flock(lockf, fcntl.LOCK_EX)  # one xdist worker builds, the others wait
        if (final / "PG_VERSION").exists() and (final / "racecheck-version").exists():
            return final, (final / "racecheck-version").read_text().strip(), False
        version = pg_version(bindir)
        work = sess.subdir("initdb")
        chown_for_server(work)
        _initdb(bindir, work / "data")
        (work / "data" / "racecheck-version").write_text(version + "\n")
        tmp = root / f"pg-{key}.tmp-{os.getpid()}"
        shutil.rmtree(tmp, ignore_errors=True)
        _copy_tree(work / "data", tmp)
        shutil.rmtree(final, ignore_errors=True)
        os.rename(tmp, final)
        shutil.rmtree(work, ignore_errors=True)
        major = version.split()[-1].split(".")[0]
        with contextlib.suppress(OSError):
            (root / f"pg-{major}-template").unlink(missing_ok=True)
            (root / f"pg-{major}-template").symlink_to(final.name)  # human-friendly name
        return final, version, True


def _segment_exists(shmid: int, cpid: int) -> bool:
    try:
        rows = Path("/proc/sysvipc/shm").read_text().splitlines()[1:]
    except OSError:
        return False
    return any(len(c) > 4 and c[1] == str(shmid) and c[4] == str(cpid) for c in (r.split() for r in rows))


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PgProcess:
    """One postgres postmaster we own: data dir, socket dir, port, process."""

    def __init__(self, bindir: Path, *, settings: dict[str, str] | None = None) -> None:
        self.bindir = bindir
        self.sess = session()
        t0 = time.perf_counter()
        template, self.version, self.built_cache = cached_cluster(bindir, self.sess)
        self.base = self.sess.subdir("pg")
        self.sess.add_dir(self.base)
        chown_for_server(self.base)
        self.datadir = self.base / "data"
        _copy_tree(template, self.datadir)
        user = server_user()
        if user is not None and self.datadir.stat().st_uid != user.uid:
            _chown_tree(self.datadir)
        os.chmod(self.datadir, 0o700)
        (self.datadir / "pg_hba.conf").write_text(PG_HBA)
        chown_for_server(self.datadir / "pg_hba.conf")
        self.sockdir = self.base / "sock"
        self.sockdir.mkdir(mode=0o700)
        chown_for_server(self.sockdir)
        self.logfile = self.base / "postgres.log"
        self.settings = dict(SERVER_SETTINGS, **(settings or {}))
        self.proc: subprocess.Popen[bytes] | None = None
        self.port = 0
        self._shm: tuple[int, int] | None = None  # (SysV shmid, postmaster pid) to remove if leaked
        self.copy_seconds = time.perf_counter() - t0
        self.start()

    # ------------------------------------------------------------------------
    def _args(self) -> list[str]:
        args = [str(self.bindir / "postgres"), "-D", str(self.datadir), "-p", str(self.port),
                "-k", str(self.sockdir), "-h", "127.0.0.1"]
        for k, v in self.settings.items():
            args += ["-c", f"{k}={v}"]
        return args

    def start(self, *, same_port: bool = False, timeout: float = 30.0) -> None:
        if self.proc is not None and self.proc.poll() is None:
            return
        attempts = 1 if same_port else 6
        last = ""
        for _ in range(attempts):
            if not same_port or not self.port:
                self.port = _free_port()
            with open(self.logfile, "ab") as log:
                pos = log.tell()
                self.proc = subprocess.Popen(
                    self._args(), stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                    env=server_env(), preexec_fn=preexec(), start_new_session=True,
                )
            self.sess.add_proc(self.proc.pid, pgid=self.proc.pid)
            ok, last = self._wait_ready(pos, timeout)
            if ok:
                self._track_shm()
                return
            self._kill()
            if "already in use" not in last and "could not bind" not in last \
                    and "could not create" not in last:
                break
        raise BackendError(f"postgres did not start ({self.bindir}): {last.strip()[-800:]}")

    def _wait_ready(self, logpos: int, timeout: float) -> tuple[bool, str]:
        assert self.proc is not None
        pidfile = self.datadir / "postmaster.pid"
        deadline = time.monotonic() + timeout
        delay = 0.002
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                return False, self._log_tail(logpos)
            try:
                lines = pidfile.read_text().splitlines()
                if len(lines) >= 8 and lines[0].strip() == str(self.proc.pid) \
                        and lines[7].strip() == "ready":
                    return True, ""
            except OSError:
                pass
            time.sleep(delay)
            delay = min(delay * 1.5, 0.02)
        return False, "timed out waiting for ready; " + self._log_tail(logpos)

    def _track_shm(self) -> None:
        """Record the postmaster's SysV segment (postmaster.pid line 7: key, shmid) for cleanup."""
        assert self.proc is not None
        with contextlib.suppress(OSError, ValueError, IndexError):
            shmid = int((self.datadir / "postmaster.pid").read_text().splitlines()[6].split()[1])
            self._shm = (shmid, self.proc.pid)
            self.sess.add_shm(shmid, self.proc.pid)

    def _release_shm(self) -> None:
        """After the postmaster died: remove its segment if it leaked. While a dying backend
        still attaches, it stays in the manifest and the session's cleanup removes it."""
        if self._shm is None:
            return
        shmid, cpid = self._shm
        self._shm = None
        if remove_orphan_segment(shmid, cpid) or not _segment_exists(shmid, cpid):
            self.sess.remove_shm(shmid)

    def _log_tail(self, pos: int) -> str:
        try:
            with open(self.logfile, "rb") as f:
                f.seek(pos)
                return f.read().decode(errors="replace")
        except OSError:
            return ""

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self, mode: str = "fast", timeout: float = 30.0) -> None:
        """Stop the postmaster: mode fast (SIGINT), immediate (SIGQUIT) or kill (SIGKILL)."""
        if self.proc is None:
            return
        sig = {"smart": signal.SIGTERM, "fast": signal.SIGINT, "immediate": signal.SIGQUIT,
               "kill": signal.SIGKILL}[mode]
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.proc.pid, sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self._kill()
        if mode == "kill":
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self._kill_strays()
            with contextlib.suppress(OSError):
                (self.datadir / "postmaster.pid").unlink()
        self._release_shm()
        self.sess.remove_proc(self.proc.pid)

    def _kill(self) -> None:
        kill_group(self.proc, self.sess)
        self._kill_strays()
        self._release_shm()

    def _kill_strays(self, wait: float = 5.0) -> None:
        """SIGKILL backends that outlive a killed postmaster (one busy in CREATE DATABASE does not
        notice its death for a while, holds the shared memory and blocks a restart)."""
        deadline = time.monotonic() + wait
        while True:
            strays = procs_in_dirs([str(self.datadir)])
            if not strays or time.monotonic() > deadline:
                return
            for pid in strays:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(pid, signal.SIGKILL)
            time.sleep(0.01)

    def destroy(self) -> None:
        self.stop("immediate", timeout=5)
        self._kill()
        shutil.rmtree(self.base, ignore_errors=True)
        self.sess.remove_dir(self.base)
