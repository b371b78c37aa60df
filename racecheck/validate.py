"""Check the options of ``racecheck.run`` before the first trial: one clear sentence per mistake.

``RunConfig.__post_init__`` calls :func:`check_config`; ``racecheck.run`` and ``replay`` call
:func:`check_keywords` first so an unknown keyword is a ``ConfigError`` naming the closest
option instead of a ``TypeError`` from the dataclass.
"""

from __future__ import annotations

import dataclasses
import difflib
import math
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from .errors import ConfigError


def _short(value: Any) -> str:
    try:
        text = repr(value)
    except Exception:  # noqa: BLE001 - a repr that raises must not hide the real mistake
        text = f"<{type(value).__name__}>"
    return text if len(text) <= 80 else text[:77] + "..."


def check_keywords(options: Mapping[str, Any], config_type: type) -> None:
    """Refuse keywords ``config_type`` (a dataclass) does not take, suggesting the closest one."""
    known = [f.name for f in dataclasses.fields(config_type) if f.init and f.name != "target"]
    for key in options:
        if key in known:
            continue
        if key == "target":
            raise ConfigError("target is given twice; pass it once, as the first argument of racecheck.run")
        close = difflib.get_close_matches(str(key), known, n=1, cutoff=0.6)
        hint = f"did you mean {close[0]!r}?" if close else f"the options are {', '.join(sorted(known))}"
        raise ConfigError(f"racecheck.run got an unknown option {key!r}; {hint}")


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)  # True is an int in Python


def _int(name: str, value: Any, minimum: int, what: str = "") -> None:
    if not _is_int(value) or value < minimum:
        label = f"{name} ({what})" if what else name
        raise ConfigError(f"{label} must be an integer >= {minimum}, got {_short(value)}")


def _seconds(name: str, value: Any, *, optional: bool = False) -> None:
    if value is None and optional:
        return
    ok = isinstance(value, int | float) and not isinstance(value, bool)
    if not ok or not math.isfinite(value) or value <= 0:
        raise ConfigError(f"{name} must be a finite number of seconds > 0, got {_short(value)}")


def _callable(name: str, value: Any, *, optional: bool = True) -> None:
    if value is None and optional:
        return
    if not callable(value):
        raise ConfigError(f"{name} must be a callable (a function), got {_short(value)}")


def _items(name: str, value: Any, ok: Callable[[Any], bool], what: str, how: str) -> None:
    if value is None:
        return
    if isinstance(value, str | bytes) or not isinstance(value, Iterable):
        raise ConfigError(f"{name} must be a list of {what}, got {_short(value)}")
    for i, item in enumerate(list(value)):
        if not ok(item):
            raise ConfigError(f"{name}[{i}] is {_short(item)}, not {what}; {how}")


def _is_invariant(item: Any) -> bool:
    return callable(getattr(item, "check", None)) and isinstance(getattr(item, "name", None), str)


def _check_target(target: Any) -> None:
    if isinstance(target, str):
        mod, sep, attr = target.partition(":")
        if not sep or not mod.strip() or not attr.strip():
            raise ConfigError(f"target {_short(target)} must be a callable or a 'package.module:function' "
                              "string")
        return
    if not callable(target):
        raise ConfigError(f"target must be a callable or a 'package.module:function' string, got "
                          f"{_short(target)}")


def check_config(cfg: Any) -> None:
    """Every option of a RunConfig, type and range, before anything runs."""
    from .faults import Fault
    from .spy import Spy

    _check_target(cfg.target)
    _int("n", cfg.n, 1, "number of triggers")
    _int("trials", cfg.trials, 1)
    _seconds("timeout", cfg.timeout)
    _seconds("quantum", cfg.quantum, optional=True)
    for name in ("mode", "strategy"):
        if not isinstance(getattr(cfg, name), str):
            raise ConfigError(f"{name} must be a string, got {_short(getattr(cfg, name))}")
    if cfg.seed is not None and not _is_int(cfg.seed):
        raise ConfigError(f"seed must be an integer or None, got {_short(cfg.seed)}")
    _int("depth", cfg.depth, 1, "pct bug depth")
    _int("max_preemptions", cfg.max_preemptions, 0)
    _int("fairness", cfg.fairness, 0)
    noise = cfg.noise
    if isinstance(noise, bool) or not isinstance(noise, int | float) or not 0 <= noise <= 1:
        raise ConfigError(f"noise must be a probability between 0 and 1, got {_short(noise)}")
    if not isinstance(cfg.stop_on_failure, bool):
        raise ConfigError(f"stop_on_failure must be True or False, got {_short(cfg.stop_on_failure)}")
    if not isinstance(cfg.args, list | tuple):
        raise ConfigError(f"args must be a tuple or list of positional arguments, got {_short(cfg.args)}")
    if not isinstance(cfg.kwargs, Mapping) or not all(isinstance(k, str) for k in cfg.kwargs):
        raise ConfigError(f"kwargs must be a dict of keyword arguments, got {_short(cfg.kwargs)}")
    for name in ("setup", "recover", "worker_args"):
        _callable(name, getattr(cfg, name))
    _items("invariants", cfg.invariants, _is_invariant, "an invariant",
           "use the racecheck.invariants builders (exactly_once(...), no_exceptions(), ...)")
    _items("spies", cfg.spies, lambda s: isinstance(s, Spy), "a spy", "build it with racecheck.spy(...)")
    _items("faults", cfg.faults, lambda f: isinstance(f, Fault), "a fault",
           "build it with the racecheck.faults builders (crash(...), delay(...), ...)")
    if not isinstance(cfg.backends, Mapping):
        raise ConfigError(f"backends must be a dict of name -> handle, got {_short(cfg.backends)}")
