"""A target whose import opens a socket (a module-level connection): every fork would share it."""

from __future__ import annotations

import socket

CONN = socket.create_connection(("127.0.0.1", 5432))


def work(worker: int) -> int:
    return worker
