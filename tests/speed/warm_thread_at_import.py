"""A target whose import starts a thread: forking from a template holding it is unsafe."""

from __future__ import annotations

import threading

_stop = threading.Event()
threading.Thread(target=_stop.wait, name="started-at-import", daemon=True).start()


def work(worker: int) -> int:
    return worker
