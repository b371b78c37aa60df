"""Two Redis locks around a critical section named ``job``.

``naive`` checks and sets in two commands (GET, then SET if empty): two workers can
both see the key empty and both enter. ``correct`` takes the lock with one
``SET NX PX`` and releases it with a compare-and-delete Lua script.
"""

from __future__ import annotations

import uuid
from typing import Any

import racecheck

RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end"


def _naive_acquire(r: Any, key: str, token: str) -> bool:
    if r.get(key) is None:
        r.set(key, token, px=10_000)
        return True
    return False


def _naive_release(r: Any, key: str, token: str) -> None:
    r.delete(key)


def _correct_acquire(r: Any, key: str, token: str) -> bool:
    return bool(r.set(key, token, nx=True, px=10_000))


def _correct_release(r: Any, key: str, token: str) -> None:
    r.eval(RELEASE, 1, key, token)


def _job(r: Any, key: str, acquire: Any, release: Any) -> str:
    token = uuid.uuid4().hex
    if not acquire(r, key, token):
        return "busy"
    try:
        with racecheck.section("job", key=key):
            r.incr(key + ":work")
    finally:
        release(r, key, token)
    return "done"


def naive(r: Any, key: str) -> str:
    """Buggy: GET then SET."""
    return _job(r, key, _naive_acquire, _naive_release)


def correct(r: Any, key: str) -> str:
    """Correct: SET NX PX, compare-and-delete release."""
    return _job(r, key, _correct_acquire, _correct_release)


def do_work(r: Any, key: str) -> None:
    """The work a spied section wraps (``race.spy('...:do_work', section=True)``)."""
    r.incr(key + ":work")


def naive_spied(r: Any, key: str) -> str:
    """Buggy, with the section coming from a spy on ``do_work`` instead of ``racecheck.section``."""
    token = uuid.uuid4().hex
    if not _naive_acquire(r, key, token):
        return "busy"
    try:
        do_work(r, key)
    finally:
        _naive_release(r, key, token)
    return "done"


def correct_spied(r: Any, key: str) -> str:
    token = uuid.uuid4().hex
    if not _correct_acquire(r, key, token):
        return "busy"
    try:
        do_work(r, key)
    finally:
        _correct_release(r, key, token)
    return "done"
