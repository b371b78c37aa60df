"""Spies: patch a function for the run so every call becomes an effect and two points.

A spied call records ``effect_begin`` before and ``effect_end`` after (``ok=False`` if
it raised); a begin without an end is an indeterminate effect. The points
``<name>:before`` and ``<name>:after`` let the scheduler switch and faults fire there.
Every module attribute bound to the original function is patched, so
``from app.engine import spawn`` references are caught too.
"""

from __future__ import annotations

import functools
import importlib
import inspect
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from . import _runtime as rt_mod
from . import history as h
from .errors import ConfigError

KeySpec = str | Callable[..., Any] | None


@dataclass(frozen=True)
class Spy:
    """Spy on ``target`` ("pkg.mod:func" or "pkg.mod:Class.method").

    ``key`` is a comma-separated list of argument names (dotted attribute access allowed:
    ``"req.sha"``) or a callable receiving the bound arguments as keywords.
    ``section=True`` also treats each call as a critical section for ``mutual_exclusion``,
    with scheduling points just inside its begin and end (``<name>:held``,
    ``<name>:release``) so a controlled strategy can run another worker meanwhile.
    """

    target: str
    key: KeySpec = None
    name: str | None = None
    section: bool = False

    @property
    def effect_name(self) -> str:
        return self.name or self.target.rpartition(":")[2].rpartition(".")[2]


def spy(target: str, key: KeySpec = None, name: str | None = None, section: bool = False) -> Spy:
    """Record every call of ``target`` as an effect (``effect_begin``/``effect_end`` events).

    No change to the spied code: the function is replaced for the run and restored after.

    Args:
        target: ``"package.module:function"`` (or ``"module:Class.method"``).
        key: what identifies one effect: an argument name, ``"a,b"`` (several, joined by a
            comma), or a callable over the call's bound arguments; ``None``: no key.
        name: the effect's name in invariants and reports (default: the function's name).
        section: also make each call a critical section of that name, for
            ``mutual_exclusion`` (two workers inside the call at once is a violation).
    """
    if ":" not in target:
        raise ConfigError(f"spy target {target!r} must look like 'package.module:function'")
    return Spy(target, key, name, section)


def resolve(target: str) -> tuple[Any, str, Any]:
    """Return (owner object, attribute name, current value) for "pkg.mod:attr.path"."""
    mod_name, _, path = target.partition(":")
    if not mod_name or not path:
        raise ConfigError(f"target {target!r} must look like 'package.module:function'")
    try:
        owner: Any = importlib.import_module(mod_name)
    except ImportError as exc:
        raise ConfigError(f"cannot import module {mod_name!r} for {target!r}: {exc}; check the name and sys.path") from exc
    parts = path.split(".")
    for part in parts[:-1]:
        try:
            owner = getattr(owner, part)
        except AttributeError as exc:
            raise ConfigError(f"{target!r}: {mod_name} has no attribute {part!r}") from exc
    if not hasattr(owner, parts[-1]):
        raise ConfigError(f"{target!r}: {getattr(owner, '__name__', owner)!r} has no attribute {parts[-1]!r}")
    return owner, parts[-1], inspect.getattr_static(owner, parts[-1])


def load_callable(target: str) -> Callable[..., Any]:
    owner, attr, _ = resolve(target)
    fn = getattr(owner, attr)
    if not callable(fn):
        raise ConfigError(f"{target!r} is not callable")
    return fn  # type: ignore[no-any-return]


def _key_fn(spec: KeySpec, fn: Callable[..., Any]) -> Callable[[tuple[Any, ...], dict[str, Any]], Any]:
    if spec is None:
        return lambda a, k: None
    try:
        sig: inspect.Signature | None = inspect.signature(fn)
    except (TypeError, ValueError):
        sig = None

    def bound(args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
        if sig is None:
            return dict(kwargs)
        try:
            b = sig.bind_partial(*args, **kwargs)
        except TypeError:
            return dict(kwargs)
        b.apply_defaults()
        return dict(b.arguments)

    if callable(spec):
        return lambda a, k: spec(**bound(a, k))
    names = [n.strip() for n in spec.split(",") if n.strip()]
    if sig is not None:
        for n in names:
            if n.split(".")[0] not in sig.parameters:
                raise ConfigError(
                    f"spy key field {n!r} is not a parameter of {getattr(fn, '__qualname__', fn)}; "
                    f"parameters are: {', '.join(sig.parameters)}"
                )

    def from_names(a: tuple[Any, ...], k: dict[str, Any]) -> Any:
        values = bound(a, k)
        out = []
        for n in names:
            head, *rest = n.split(".")
            v = values.get(head)
            for attr in rest:
                v = v.get(attr) if isinstance(v, dict) else getattr(v, attr, None)
            out.append(v)
        return tuple(out) if len(out) > 1 else out[0]

    return from_names


def _wrap(s: Spy, original: Callable[..., Any]) -> Callable[..., Any]:
    name = s.effect_name
    keyf = _key_fn(s.key, original)
    begin_kind = h.SECTION_BEGIN if s.section else None

    def record_begin(rt: rt_mod.Runtime, key: Any) -> int:
        call = rt.next_call_id()
        rt.at_point(f"{name}:before", record=False)
        rt.record(h.EFFECT_BEGIN, name, key, call=call)
        if begin_kind:
            rt.record(h.SECTION_BEGIN, name, key, call=call)
            rt.schedule_point(f"{name}:held")  # another worker may run while this one is inside
        return call

    def record_end(rt: rt_mod.Runtime, key: Any, call: int, ok: bool, err: str | None) -> None:
        if begin_kind:
            rt.schedule_point(f"{name}:release")
            rt.record(h.SECTION_END, name, key, call=call)
        rt.record(h.EFFECT_END, name, key, call=call, ok=ok, **({"error": err} if err else {}))
        rt.at_point(f"{name}:after", record=False)

    if inspect.iscoroutinefunction(original):

        @functools.wraps(original)
        async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
            rt = rt_mod.active()
            if rt is None or rt_mod.current_worker() is None:
                return await original(*args, **kwargs)
            key = keyf(args, kwargs)
            call = record_begin(rt, key)
            try:
                result = await original(*args, **kwargs)
            except Exception as exc:
                record_end(rt, key, call, False, f"{type(exc).__name__}: {exc}")
                raise
            record_end(rt, key, call, True, None)
            return result

        async_wrapper.__racecheck_original__ = original  # type: ignore[attr-defined]
        return async_wrapper

    @functools.wraps(original)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        rt = rt_mod.active()
        if rt is None or rt_mod.current_worker() is None:
            return original(*args, **kwargs)
        key = keyf(args, kwargs)
        call = record_begin(rt, key)
        try:
            result = original(*args, **kwargs)
        except Exception as exc:
            record_end(rt, key, call, False, f"{type(exc).__name__}: {exc}")
            raise
        record_end(rt, key, call, True, None)
        return result

    wrapper.__racecheck_original__ = original  # type: ignore[attr-defined]
    return wrapper


def install_spies(spies: list[Spy] | tuple[Spy, ...]) -> Callable[[], None]:
    """Patch every spy's function (and each module-level alias of it); returns the undo."""
    undo: list[tuple[Any, str, Any]] = []
    for s in spies:
        owner, attr, static = resolve(s.target)
        func = static.__func__ if isinstance(static, staticmethod | classmethod) else static
        if not callable(func):
            raise ConfigError(f"spy target {s.target!r} is not a function")
        wrapped: Any = _wrap(s, func)
        if isinstance(static, staticmethod):
            wrapped = staticmethod(wrapped)
        elif isinstance(static, classmethod):
            wrapped = classmethod(wrapped)
        undo.append((owner, attr, static))
        setattr(owner, attr, wrapped)
        if inspect.ismodule(owner):
            for mod in list(sys.modules.values()):
                d = getattr(mod, "__dict__", None)
                if not d or mod is owner:
                    continue
                for k, v in list(d.items()):
                    if v is func:
                        undo.append((mod, k, v))
                        setattr(mod, k, wrapped)

    def restore() -> None:
        for owner, attr, value in reversed(undo):
            setattr(owner, attr, value)

    return restore
