"""Temp dirs, process identity and the per-process cleanup session.

Every process that starts servers gets one *session directory* under a
racecheck-specific temp root (``/tmp/racecheck-<euid>`` unless
``RACECHECK_TMPDIR`` is set).  The directory holds an ``owner`` file (pid and
kernel start time of the owning process) and a ``manifest.json`` listing the
server processes, temp dirs and databases to remove.  A watchdog process
(:mod:`racecheck.backends.watchdog`) reads the manifest when the owner dies,
and :func:`reclaim_stale` removes what any dead owner left behind on the next
start, so nothing survives a SIGKILLed pytest.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any


def temp_root() -> Path:
    """The racecheck temp root; created 0711 so an unprivileged server user can traverse it."""
    base = os.environ.get("RACECHECK_TMPDIR")
    root = Path(base) if base else Path(tempfile.gettempdir()) / f"racecheck-{os.geteuid()}"
    root.mkdir(parents=True, exist_ok=True)
    st = root.stat()
    if st.st_uid != os.geteuid():
        raise PermissionError(f"{root} is owned by uid {st.st_uid}, not by us; set RACECHECK_TMPDIR")
    if st.st_mode & 0o777 != 0o711:
        os.chmod(root, 0o711)
    return root


def proc_starttime(pid: int) -> int | None:
    """Kernel start time of a process (clock ticks since boot), None if it is gone or a zombie."""
    try:
        data = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    except OSError:
        return None
    rest = data.rsplit(")", 1)[-1].split()
    if rest and rest[0] in ("Z", "X"):
        return None
    try:
        return int(rest[19])
    except (IndexError, ValueError):
        return None


def proc_alive(pid: int, start: int | None = None) -> bool:
    """True if ``pid`` runs and, when ``start`` is given, is the same process (no pid reuse)."""
    if pid <= 0:
        return False
    if Path("/proc").is_dir():
        cur = proc_starttime(pid)
        if cur is None:
            return False
        return start is None or cur == start
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def kill_proc(entry: dict[str, Any], sig: int = signal.SIGKILL) -> bool:
    """Kill a manifest process entry (and its process group when it leads one), if it is still the same process."""
    pid = int(entry.get("pid", 0))
    start = entry.get("start")
    alive = proc_alive(pid, start)
    if alive:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, sig)
    if entry.get("pgid"):
        # The server leads its own process group (start_new_session): its
        # children (postgres backends) share it; kill stragglers too.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(int(entry["pgid"]), sig)
    return alive


def procs_in_dirs(dirs: list[str]) -> list[int]:
    """Pids whose working directory lies under one of ``dirs``.

    Postgres children call setsid() (so they leave the postmaster's process
    group) but all chdir into PGDATA: the cwd finds them even after the
    postmaster died and they were reparented.
    """
    roots = [os.path.realpath(d) for d in dirs if d]
    if not roots or not Path("/proc").is_dir():
        return []
    me = os.getpid()
    out = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit() or int(entry.name) == me:
            continue
        try:
            cwd = os.readlink(f"/proc/{entry.name}/cwd")
        except OSError:
            continue
        cwd = cwd.removesuffix(" (deleted)")
        if any(cwd == r or cwd.startswith(r + os.sep) for r in roots):
            out.append(int(entry.name))
    return out


def kill_group(proc: Any, sess: Session) -> None:
    """SIGKILL a server's process group, reap it, and forget it in the session's manifest."""
    if proc is None:
        return
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    with contextlib.suppress(Exception):
        proc.wait(5)
    sess.remove_proc(proc.pid)


def rmtree(path: str | os.PathLike[str]) -> None:
    shutil.rmtree(path, ignore_errors=True)


def cleanup_manifest(manifest: dict[str, Any], wait: float = 5.0,
                     urls: dict[str, str] | None = None) -> None:
    """Kill listed servers, drop listed databases on foreign servers, remove listed dirs.

    The manifest holds foreign server URLs with their password masked; ``urls`` maps each
    masked URL back to the real one (kept in memory only: the owner's, or the watchdog's).
    """
    procs = list(manifest.get("procs", []))
    for entry in procs:
        kill_proc(entry)
    dirs = list(manifest.get("dirs", []))
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        strays = procs_in_dirs(dirs)
        for pid in strays:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
        if not strays and not any(proc_alive(int(e["pid"]), e.get("start")) for e in procs):
            break
        time.sleep(0.02)
    for drop in manifest.get("pg_drop", []):
        url = drop.get("url", "")
        _drop_foreign_dbs((urls or {}).get(url, url), drop.get("dbs", []))
    for d in manifest.get("dirs", []):
        rmtree(d)
    for shm in manifest.get("shm_ids", []):
        if isinstance(shm, dict):
            remove_orphan_segment(int(shm.get("id", -1)), int(shm.get("cpid", -1)))


def remove_orphan_segment(shmid: int, cpid: int) -> bool:
    """Remove SysV shared-memory segment ``shmid`` if its creator is ``cpid`` and nothing attaches.

    Postgres keeps a small SysV segment even with ``dynamic_shared_memory_type=mmap``; a
    SIGKILLed postmaster leaves it behind. The creator pid guards against a reused id.
    """
    try:
        rows = Path("/proc/sysvipc/shm").read_text().splitlines()[1:]
    except OSError:
        return False
    for row in rows:
        cols = row.split()
        if len(cols) < 7 or cols[1] != str(shmid):
            continue
        if cols[4] != str(cpid) or cols[6] != "0":
            return False
        r = subprocess.run(["ipcrm", "-m", str(shmid)], capture_output=True, check=False)
        return r.returncode == 0
    return False


def _drop_foreign_dbs(url: str, dbs: list[str]) -> None:
    if not url or not dbs:
        return
    try:
        import psycopg
    except ImportError:  # pragma: no cover
        return
    try:
        with psycopg.connect(url, autocommit=True, connect_timeout=5) as conn:
            for name in dbs:
                if not name.startswith("racecheck_"):
                    continue  # never drop anything racecheck did not name
                with contextlib.suppress(Exception):
                    conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    except Exception:
        return


def reclaim_stale(root: Path | None = None) -> int:
    """Remove session dirs (and kill their servers) whose owner process is dead. Returns how many."""
    root = root or temp_root()
    n = 0
    for d in root.glob("s-*"):
        owner = d / "owner"
        try:
            pid_s, start_s = owner.read_text().split()
            pid, start = int(pid_s), int(start_s) if start_s != "-" else None
        except (OSError, ValueError):
            # no owner file: a dir being created right now, or garbage; age decides
            try:
                if time.time() - d.stat().st_mtime < 60:
                    continue
            except OSError:
                continue
            rmtree(d)
            n += 1
            continue
        if proc_alive(pid, start):
            continue
        try:
            manifest = json.loads((d / "manifest.json").read_text())
        except (OSError, ValueError):
            manifest = {}
        cleanup_manifest(manifest, wait=2.0, urls=_known_urls())
        rmtree(d)
        n += 1
    return n


def _known_urls() -> dict[str, str]:
    """Masked -> real for the server URLs this process was handed in its environment."""
    from ..redact import redact_url

    out = {}
    for name in ("RACECHECK_POSTGRES_URL", "RACECHECK_REDIS_URL"):
        url = os.environ.get(name)
        if url:
            out[redact_url(url)] = url
    return out


def write_private(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` atomically, readable by its owner only (0600)."""
    tmp = path.with_name(f"{path.name}.{os.getpid()}.{threading.get_ident()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.replace(tmp, path)


class Session:
    """The cleanup session of one process: its temp dir, manifest and watchdog."""

    def __init__(self) -> None:
        self.owner_pid = os.getpid()
        self.root = temp_root()
        reclaim_stale(self.root)
        self.dir = self.root / f"s-{os.getpid()}-{secrets.token_hex(3)}"
        self.dir.mkdir(mode=0o711)
        os.chmod(self.dir, 0o711)
        start = proc_starttime(os.getpid())
        (self.dir / "owner").write_text(f"{os.getpid()} {start if start is not None else '-'}\n")
        self._lock = threading.RLock()
        self.manifest: dict[str, Any] = {"procs": [], "dirs": [], "pg_drop": [], "shm_ids": []}
        self._urls: dict[str, str] = {}  # masked -> real foreign URL; never written to disk
        self._write()
        self._wd_w: int | None = None
        self._wd: subprocess.Popen[bytes] | None = None
        self._start_watchdog()
        atexit.register(self.close)

    # -- manifest -------------------------------------------------------------
    def _write(self) -> None:
        write_private(self.dir / "manifest.json", json.dumps(self.manifest))

    def add_proc(self, pid: int, pgid: int | None = None) -> None:
        with self._lock:
            self.manifest["procs"].append({"pid": pid, "start": proc_starttime(pid), "pgid": pgid})
            self._write()

    def remove_proc(self, pid: int) -> None:
        with self._lock:
            self.manifest["procs"] = [e for e in self.manifest["procs"] if e["pid"] != pid]
            self._write()

    def add_dir(self, path: str | os.PathLike[str]) -> None:
        with self._lock:
            self.manifest["dirs"].append(str(path))
            self._write()

    def remove_dir(self, path: str | os.PathLike[str]) -> None:
        with self._lock:
            self.manifest["dirs"] = [d for d in self.manifest["dirs"] if d != str(path)]
            self._write()

    def _masked(self, url: str) -> str:
        """The URL as the manifest holds it (password masked); the watchdog learns the real one."""
        from ..redact import redact_url

        masked = redact_url(url)
        if masked != url and self._urls.get(masked) != url:
            self._urls[masked] = url
            if self._wd_w is not None:
                with contextlib.suppress(OSError):
                    os.write(self._wd_w, b"u" + json.dumps([masked, url]).encode() + b"\n")
        return masked

    def add_foreign_db(self, url: str, dbname: str) -> None:
        with self._lock:
            url = self._masked(url)
            for drop in self.manifest["pg_drop"]:
                if drop["url"] == url:
                    if dbname not in drop["dbs"]:
                        drop["dbs"].append(dbname)
                    break
            else:
                self.manifest["pg_drop"].append({"url": url, "dbs": [dbname]})
            self._write()

    def remove_foreign_db(self, url: str, dbname: str) -> None:
        with self._lock:
            url = self._masked(url)
            for drop in self.manifest["pg_drop"]:
                if drop["url"] == url and dbname in drop["dbs"]:
                    drop["dbs"].remove(dbname)
            self._write()

    def add_shm(self, shmid: int, cpid: int) -> None:
        with self._lock:
            self.manifest["shm_ids"].append({"id": shmid, "cpid": cpid})
            self._write()

    def remove_shm(self, shmid: int) -> None:
        with self._lock:
            self.manifest["shm_ids"] = [s for s in self.manifest["shm_ids"]
                                        if not (isinstance(s, dict) and s.get("id") == shmid)]
            self._write()

    def subdir(self, name: str) -> Path:
        p = self.dir / f"{name}-{secrets.token_hex(3)}"
        p.mkdir(mode=0o711)
        os.chmod(p, 0o711)
        return p

    # -- watchdog -------------------------------------------------------------
    def _start_watchdog(self) -> None:
        if os.environ.get("RACECHECK_NO_WATCHDOG"):
            return
        r, w = os.pipe()  # both ends are non-inheritable by default
        try:
            with open(self.dir / "watchdog.log", "ab") as log:
                self._wd = subprocess.Popen(
                    [sys.executable, "-I", str(Path(__file__).with_name("watchdog.py")),
                     str(os.getpid()), str(self.dir), str(r)],
                    pass_fds=(r,),
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.DEVNULL,
                    stderr=log,
                    start_new_session=True,  # survive a killpg aimed at our group
                )
        finally:
            os.close(r)
        self._wd_w = w

    @property
    def watchdog_pid(self) -> int | None:
        return self._wd.pid if self._wd else None

    def close(self) -> None:
        """Normal end: kill what is left, remove the session dir, release the watchdog."""
        if os.getpid() != self.owner_pid:
            return  # a forked child never cleans up its parent's servers
        with self._lock:
            manifest = json.loads(json.dumps(self.manifest))
            self.manifest = {"procs": [], "dirs": [], "pg_drop": [], "shm_ids": []}
            with contextlib.suppress(OSError):
                self._write()
        cleanup_manifest(manifest, urls=dict(self._urls))
        if self._wd_w is not None:
            with contextlib.suppress(OSError):
                os.write(self._wd_w, b"q")
                os.close(self._wd_w)
            self._wd_w = None
        if self._wd is not None:
            with contextlib.suppress(Exception):
                self._wd.wait(timeout=2)
            self._wd = None
        rmtree(self.dir)
        global _SESSION
        if _SESSION is self:
            _SESSION = None


_SESSION: Session | None = None
_SESSION_LOCK = threading.Lock()


def session() -> Session:
    """The cleanup session of this process (created, with its watchdog, on first use)."""
    global _SESSION
    with _SESSION_LOCK:
        if _SESSION is None or _SESSION.owner_pid != os.getpid():
            _SESSION = Session()
        return _SESSION
