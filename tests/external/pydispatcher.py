"""A tiny dispatcher service (run as a separate process) used to test the http trigger and the sink.

POST /reset makes job "j1" pending; POST /dispatch sends every pending job to the reviewer
(REVIEWER_URL/review/<job>) and marks it done. VARIANT=buggy checks, waits, then acts;
VARIANT=fixed claims under a lock first.
"""

from __future__ import annotations

import os
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PENDING: set[str] = set()
LOCK = threading.Lock()
VARIANT = os.environ.get("VARIANT", "fixed")
REVIEWER = os.environ["REVIEWER_URL"].rstrip("/")


def send_to_reviewer(job: str, worker: str | None) -> None:
    req = urllib.request.Request(f"{REVIEWER}/review/{job}", data=b"{}", method="POST")
    if worker is not None:
        req.add_header("X-Racecheck-Worker", worker)
    urllib.request.urlopen(req, timeout=5).read()


def dispatch(worker: str | None) -> int:
    sent = 0
    if VARIANT == "buggy":
        for job in sorted(PENDING):
            time.sleep(0.01)  # "prepare the payload" between the check and the act
            send_to_reviewer(job, worker)
            PENDING.discard(job)
            sent += 1
        return sent
    with LOCK:
        claimed = sorted(PENDING)
        PENDING.clear()
    for job in claimed:
        send_to_reviewer(job, worker)
        sent += 1
    return sent


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        return

    def do_GET(self) -> None:
        self._reply(200, b"ok")

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        if self.path == "/reset":
            with LOCK:
                PENDING.clear()
                PENDING.add("j1")
            self._reply(200, b"reset")
        elif self.path == "/dispatch":
            self._reply(200, str(dispatch(self.headers.get("X-Racecheck-Worker"))).encode())
        elif self.path == "/boom":
            self._reply(503, b"unavailable")
        else:
            self._reply(404, b"no route")

    def _reply(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


if __name__ == "__main__":
    ThreadingHTTPServer(("127.0.0.1", int(os.environ["PORT"])), Handler).serve_forever()
