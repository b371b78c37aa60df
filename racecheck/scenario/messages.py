"""Pydantic validation errors as one sentence each: the union tags dropped from the field path,
unknown keys answered with "did you mean", literals with their options."""

from __future__ import annotations

import difflib
import types
import typing
from typing import Any

from pydantic import BaseModel

from .schema import Scenario

Loc = tuple[str | int, ...]
MAX_ECHO = 80              # characters of a value echoed in a message
_NOPE = object()


def _step(tp: Any, part: str | int) -> Any:
    """The type found at ``part`` inside ``tp``, or _NOPE when ``part`` is a pydantic union tag."""
    if tp is Any:
        return Any
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        for arg in typing.get_args(tp):
            if arg is type(None):
                continue
            r = _step(arg, part)
            if r is not _NOPE:
                return r
        return _NOPE
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        if isinstance(part, str):
            for name, f in tp.model_fields.items():
                if part in (name, f.alias):
                    return f.annotation
        return _NOPE
    if origin is list and isinstance(part, int):
        return typing.get_args(tp)[0]
    if origin is dict and isinstance(part, str):
        return typing.get_args(tp)[1]
    return _NOPE


def _clean(loc: Loc) -> tuple[Loc, Any]:
    """Drop pydantic's union tags from ``loc``; return it with the type reached."""
    cur: Any = Scenario
    out: list[str | int] = []
    for part in loc:
        nxt = _step(cur, part)
        if nxt is _NOPE:
            continue
        out.append(part)
        cur = nxt
    return tuple(out), cur


def _keys_of(tp: Any) -> list[str]:
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        for arg in typing.get_args(tp):
            if keys := _keys_of(arg):
                return keys
        return []
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        return [f.alias or name for name, f in tp.model_fields.items()]
    return []


def echo(value: Any) -> str:
    try:
        text = repr(value)
    except ValueError:  # an int too long to print
        text = f"<{type(value).__name__} too long to show>"
    return text if len(text) <= MAX_ECHO else text[:MAX_ECHO - 3] + "..."


def explain_error(err: dict[str, Any]) -> tuple[Loc, str]:
    """Turn one pydantic error into (clean loc, one-sentence message)."""
    raw = tuple(err["loc"])
    typ = err["type"]
    msg = str(err["msg"])
    if typ == "extra_forbidden" and raw:
        loc, parent = _clean(raw[:-1])
        key = str(raw[-1])
        loc = loc + (key,)
        allowed = _keys_of(parent)
        close = difflib.get_close_matches(key, allowed, n=1, cutoff=0.6)
        if close:
            return loc, f"unknown key {key!r}; did you mean {close[0]!r}?"
        return loc, f"unknown key {key!r}; allowed keys: {', '.join(allowed)}"
    loc, _ = _clean(raw)
    if typ == "missing":
        return loc, f"required field {str(loc[-1]) if loc else ''!r} is missing; add it"
    if typ in ("value_error", "assertion_error"):
        return loc, msg.removeprefix("Value error, ").removeprefix("Assertion failed, ")
    if typ == "literal_error":
        expected = str(err.get("ctx", {}).get("expected", ""))
        options = [o.strip().strip("'") for o in expected.replace(" or ", ",").split(",") if o.strip()]
        close = difflib.get_close_matches(str(err.get("input")), options, n=1, cutoff=0.6)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        return loc, f"{echo(err.get('input'))} is not one of {expected}{hint}"
    first = msg[:1].lower() + msg[1:]
    return loc, f"{first} (got {echo(err.get('input'))})"
