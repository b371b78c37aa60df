"""The fault options of a scenario file, generated from the fault registry (racecheck.faults).

Each registered kind's YAML options are its Python constructor's parameters: the same names,
types and defaults, described by the constructor's ``Args:`` docstring; the kind adds lower
bounds (``minimum``) and fixed choices (``choices``). A kind registered with ``yaml=False``
(an alias) is not offered. So a new fault kind needs no schema edit, and the schema cannot
drift from the faults.
"""

from __future__ import annotations

import inspect
import re
import typing
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, Field, create_model, field_validator

from .. import faults as F
from .schema_base import OneKindItem, _check_glob, _error_class, _Strict

# Bounds every kind's common options have (the constructors check them too).
_COMMON_LIMITS: dict[str, dict[str, float]] = {"nth": {"ge": 1}, "p": {"ge": 0.0, "le": 1.0}}


def arg_docs(fn: Any) -> dict[str, str]:
    """Parameter name -> its description, from a Google-style ``Args:`` docstring section."""
    out: dict[str, str] = {}
    lines = inspect.cleandoc(fn.__doc__ or "").splitlines()
    if "Args:" not in lines:
        return out
    current = None
    for line in lines[lines.index("Args:") + 1:]:
        m = re.fullmatch(r" {4}(\w+): (.*)", line)
        if m:
            current = m.group(1)
            out[current] = m.group(2).strip()
        elif current and line.startswith(" " * 8):
            out[current] += " " + line.strip()
        else:
            break
    return {k: v.replace("``", "'") for k, v in out.items()}


def _model_name(kind: str) -> str:
    return "".join(part.title() for part in kind.split("_")) + "Fault"


def _validate_at(cls: type, v: str) -> str:
    return _check_glob(v)


def _validate_error(cls: type, v: str) -> str:
    return _error_class(v)


def options_model(kind: F.FaultKind) -> type[BaseModel]:
    """The pydantic model of one kind's YAML options (its constructor's parameters)."""
    hints = typing.get_type_hints(kind.make)
    docs = arg_docs(kind.make)
    fields: dict[str, Any] = {}
    for name, param in inspect.signature(kind.make).parameters.items():
        tp: Any = hints[name]
        if name in kind.choices:
            tp = Literal[kind.choices[name]]  # type: ignore[valid-type]
        limits: dict[str, float] = dict(_COMMON_LIMITS.get(name, {}))
        if name in kind.minimum:
            limits["ge"] = kind.minimum[name]
        default = ... if param.default is inspect.Parameter.empty else param.default
        if isinstance(default, tuple):
            default = list(default)
        fields[name] = (tp, Field(default, description=docs.get(name), **limits))  # type: ignore[call-overload]
    validators: dict[str, Any] = {}
    if "at" in fields:
        validators["check_at"] = field_validator("at")(_validate_at)
    if "error" in fields:
        validators["check_error"] = field_validator("error")(_validate_error)
    doc = inspect.cleandoc(kind.make.__doc__ or kind.name).split("\n\n")[0]
    model: type[BaseModel] = create_model(_model_name(kind.name), __base__=_Strict, __doc__=doc,
                                          __validators__=validators, **fields)
    return model


def _shorthand(kind: F.FaultKind) -> tuple[str, bool]:
    """The option a bare string fills (the first parameter) and whether it is a list."""
    first = next(iter(inspect.signature(kind.make).parameters))
    tp = typing.get_type_hints(kind.make)[first]
    origins = {typing.get_origin(a) for a in typing.get_args(tp)} | {typing.get_origin(tp)}
    return first, bool(origins & {list, tuple})


YAML_KINDS: tuple[F.FaultKind, ...] = tuple(k for k in F.KINDS.values() if k.yaml)
FAULT_KINDS: tuple[str, ...] = tuple(k.name for k in YAML_KINDS)
FAULT_OPTIONS: dict[str, type[BaseModel]] = {k.name: options_model(k) for k in YAML_KINDS}
_SHORTHAND = {k.name: _shorthand(k) for k in YAML_KINDS}


class FaultItemBase(OneKindItem):
    """One fault: a one-key mapping from the fault kind to its options (a string fills the first option)."""

    KINDS = FAULT_KINDS
    WHAT = "fault"
    SHORTHAND = _SHORTHAND


if TYPE_CHECKING:
    FaultItem = FaultItemBase
else:
    FaultItem = create_model(
        "FaultItem", __base__=FaultItemBase, __doc__=FaultItemBase.__doc__,
        **{name: (model | None, None) for name, model in FAULT_OPTIONS.items()})
