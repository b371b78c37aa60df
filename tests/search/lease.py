"""An auto-renewing Redis lease (SET NX PX + a renewal thread): safe under pause, not under freeze."""

from __future__ import annotations

import os
import threading
import time
import uuid

import racecheck

URL_ENV = "RACECHECK_TEST_SEARCH_REDIS_URL"
KEY_ENV = "RACECHECK_TEST_SEARCH_LEASE_KEY"
TTL_MS = 300


def locked_job() -> str:
    import redis

    r = redis.Redis.from_url(os.environ[URL_ENV])
    key, token = os.environ[KEY_ENV], uuid.uuid4().hex
    deadline = time.monotonic() + 10
    while not r.set(key, token, nx=True, px=TTL_MS):
        if time.monotonic() > deadline:
            return "gave up"
        time.sleep(0.01)
    stop = threading.Event()

    def renew() -> None:
        while not stop.wait(TTL_MS / 3000):
            if r.get(key) == token.encode():
                r.pexpire(key, TTL_MS)

    renewer = threading.Thread(target=renew, daemon=True)
    renewer.start()
    try:
        with racecheck.section("job", key="lease"):
            racecheck.point("work")
            time.sleep(0.05)
    finally:
        stop.set()
        renewer.join()
        if r.get(key) == token.encode():
            r.delete(key)
    return "done"
