"""The opt-in that lets racecheck reset a server it was given by URL (``RACECHECK_ALLOW_RESET``).

racecheck never flushes or drops what it did not create unless told to. ``--allow-reset``
(CLI), ``--racecheck-allow-reset`` (pytest), ``allow_reset=True`` (API) or
``RACECHECK_ALLOW_RESET`` say it may:

* ``1`` / ``true`` / ``yes``: the databases the URLs name (the Redis URL's db index, plus the
  xdist worker number under pytest-xdist; the Postgres URL's database);
* a comma list such as ``redis:3,redis:4,postgres:scratch``: exactly those, nothing else.
"""

from __future__ import annotations

import os

ENV = "RACECHECK_ALLOW_RESET"
_TRUE = {"1", "true", "yes", "on", "all"}
_FALSE = {"", "0", "false", "no", "off"}


def _value() -> str:
    return os.environ.get(ENV, "").strip()


def env_allows() -> bool:
    """True when the environment opts in to resets on URL servers (all or a list)."""
    return _value().lower() not in _FALSE


def allowed(kind: str, database: str | int) -> bool:
    """May racecheck reset ``database`` of a ``kind`` server it was given (after an opt-in)?"""
    raw = _value()
    if raw.lower() in _TRUE or raw.lower() in _FALSE:
        return True  # the caller's own allow_reset decides; no list narrows it
    entries = {e.strip() for e in raw.split(",") if e.strip()}
    return f"{kind}:{database}" in entries
