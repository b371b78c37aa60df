"""fakeredis as a TCP server (so spawned worker processes reach it): Redis only, labelled emulated.

fakeredis expires keys lazily by wall clock and lacks some commands: fine for
fast unit tests, never proof for a claim about real Redis. Tests that need
real Redis (marker ``racecheck_real_redis`` or ``require_real=True``) refuse it.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from typing import Any

from .redis import RedisServer


def fakeredis_available() -> tuple[bool, str]:
    import importlib.util

    if importlib.util.find_spec("fakeredis") is None:
        return False, "package fakeredis not installed (pip install racecheck[fake])"
    return True, "fakeredis TcpFakeServer (EMULATED, not real Redis)"


class FakeRedisServer(RedisServer):
    """A fakeredis TcpFakeServer on 127.0.0.1, served from a daemon thread of this process."""

    def __init__(self) -> None:
        self._socks: dict[str, socket.socket] = {}
        self._srv: Any = None
        self._thread: threading.Thread | None = None
        self.port = 0
        self._serve()
        super().__init__(provider="fakeredis", owned=True, emulated=True,
                         url=f"redis://127.0.0.1:{self.port}/0",
                         detail="fakeredis TcpFakeServer in this process (emulated)")
        import fakeredis

        self.version = f"fakeredis {getattr(fakeredis, '__version__', '?')} (emulated)"

    def _serve(self) -> None:
        from fakeredis import TcpFakeServer
        from fakeredis._clients._tcp_server import TCPFakeRequestHandler

        socks = self._socks

        class Handler(TCPFakeRequestHandler):  # type: ignore[misc,valid-type]
            def setup(self) -> None:
                socks[str(self.client_address)] = self.request
                super().setup()

            def finish(self) -> None:
                socks.pop(str(self.client_address), None)
                with contextlib.suppress(Exception):
                    super().finish()

        class Server(TcpFakeServer):  # type: ignore[misc,valid-type]
            def __init__(self, addr: tuple[str, int]) -> None:
                super().__init__(addr)
                self.RequestHandlerClass = Handler
                self.daemon_threads = True  # never keep the interpreter alive

        self._srv = Server(("127.0.0.1", self.port))
        self.port = int(self._srv.server_address[1])
        self._thread = threading.Thread(target=self._srv.serve_forever, name="racecheck-fakeredis",
                                        daemon=True)
        self._thread.start()

    @property
    def running(self) -> bool:
        return self._srv is not None

    def kill_connections(self, db: int | None = None, name_prefix: str | None = None) -> int:
        n = 0
        for c in self.admin().client_list():
            name = str(c.get("name", ""))
            if name.startswith("racecheck-admin"):
                continue
            if name_prefix is not None and not name.startswith(name_prefix):
                continue
            sock = self._socks.get(str(c.get("addr")))
            if sock is not None:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                n += 1
        return n

    def stop(self) -> None:
        """Stop serving (connections drop); start() serves an empty emulation on the same port."""
        self._close_admin()
        for rdb in list(self.databases):
            rdb._close_clients()
        if self._srv is None:
            return
        for sock in list(self._socks.values()):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        self._srv.shutdown()
        self._srv.server_close()
        self._srv = None

    def start(self) -> None:
        if self._srv is None:
            self._serve()

    def close(self) -> None:
        if self.closed:
            return
        super().close()
        self.stop()
