"""Database and cache client modules racecheck knows of, instrumented or not.

Under a controlled strategy a worker moves only between points; a client racecheck does
not instrument gives it none, so the verdict code names the one a blind run most likely
used (see racecheck.verdict).
"""

from __future__ import annotations

import sys
import types
from typing import Any

from . import DRIVERS, REGISTRY

# Top-level module name -> what to use instead. Those racecheck instruments (REGISTRY) are left out.
_KNOWN: dict[str, str] = {
    "psycopg2": "a psycopg 3 connection",
    "asyncpg": "a psycopg 3 connection",
    "pg8000": "a psycopg or psycopg2 connection",
    "pymysql": "racecheck.point() calls around each query",
    "MySQLdb": "racecheck.point() calls around each query",
    "sqlite3": "racecheck.point() calls around each query",
    "aiosqlite": "racecheck.point() calls around each query",
    "aioredis": "redis.asyncio",
    "valkey": "a redis-py client",
    "pymemcache": "racecheck.point() calls around each command",
    "pymongo": "racecheck.point() calls around each operation",
    "motor": "racecheck.point() calls around each operation",
}
UNINSTRUMENTED: dict[str, str] = {m: fix for m, fix in _KNOWN.items() if m not in {d.module for d in REGISTRY}}
INSTRUMENTED: tuple[str, ...] = DRIVERS  # every registered driver: statements and commands are points


def _root(name: object) -> str:
    return name.partition(".")[0] if isinstance(name, str) else ""


def _referenced(module: Any) -> set[str]:
    """Top-level packages of the modules, classes and functions a module's globals hold."""
    out = set()
    for value in vars(module).values():
        out.add(_root(value.__name__ if isinstance(value, types.ModuleType) else getattr(value, "__module__", None)))
    return out


def _code_names(fn: Any) -> set[str]:
    """Every global or module name a function's code (and the code nested in it) refers to."""
    code = getattr(getattr(fn, "__func__", fn), "__code__", None)
    out: set[str] = set()
    todo = [code] if isinstance(code, types.CodeType) else []
    while todo:
        c = todo.pop()
        out.update(c.co_names)
        todo.extend(k for k in c.co_consts if isinstance(k, types.CodeType))
    return out


def uninstrumented_in(target: Any, module_name: str | None) -> list[str]:
    """Uninstrumented client modules the target's code or its module refers to."""
    near = _code_names(target)
    module = sys.modules.get(module_name or "")
    if module is not None:
        near |= _referenced(module)
    return [m for m in UNINSTRUMENTED if m in near]


def uninstrumented_loaded() -> list[str]:
    """Uninstrumented client modules imported anywhere in this process."""
    loaded = {_root(n) for n in list(sys.modules)}
    return [m for m in UNINSTRUMENTED if m in loaded]
