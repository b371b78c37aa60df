"""What every scenario-schema model shares: strict models, name and glob checks, one-key items."""

from __future__ import annotations

import re
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, model_validator

from ..errors import ConfigError
from ..faults import validate_glob


class _Strict(BaseModel):
    # nan/inf are never a valid timeout, delay or probability (``timeout: .inf`` would hang)
    model_config = ConfigDict(extra="forbid", populate_by_name=True, allow_inf_nan=False)


_ERROR_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*")


def _error_class(value: str) -> str:
    if len(value) > 200 or not _ERROR_NAME.fullmatch(value):
        raise ValueError(f"error {value[:80]!r} is not an exception class name; give a name such as "
                         "'OperationalError' or a dotted path such as 'mypkg.errors.Timeout'")
    return value


def _import_path(value: str, what: str) -> str:
    mod, sep, attr = value.partition(":")
    if not sep or not mod.strip() or not attr.strip() or " " in value:
        raise ValueError(f"{what} {value!r} must look like 'package.module:function'")
    return value


def _check_glob(value: str) -> str:
    try:
        validate_glob(value, "fault")
    except ConfigError as exc:
        raise ValueError(str(exc).removeprefix("fault: ")) from None
    return value


def _one_key(item: Any) -> Any:
    """A bare string item (``- no_exceptions``) is the one-key mapping ``{no_exceptions: None}``."""
    return {item: None} if isinstance(item, str) else item


def _exactly_one(model: BaseModel, kinds: tuple[str, ...], what: str) -> None:
    given = [k for k in kinds if getattr(model, k) is not None]
    if len(given) != 1:
        raise ValueError(
            f"each {what} is a one-key mapping such as '- {kinds[0]}: ...'; got "
            + (", ".join(given) if given else "none") + f" (kinds: {', '.join(kinds)})")


class OneKindItem(_Strict):
    """A list item naming one kind: a one-key mapping from the kind to its options, where a bare
    kind name means no options and a bare string value fills the kind's main option.

    Subclasses set ``KINDS`` (the kinds, in documented order), ``WHAT`` (``"fault"``) and
    ``SHORTHAND`` (kind -> (the option a bare string fills, whether that option is a list)).
    """

    KINDS: ClassVar[tuple[str, ...]] = ()
    WHAT: ClassVar[str] = "item"
    SHORTHAND: ClassVar[dict[str, tuple[str, bool]]] = {}

    @model_validator(mode="before")
    @classmethod
    def _shape(cls, data: Any) -> Any:
        data = _one_key(data)
        if isinstance(data, dict):
            out = {}
            for k, v in data.items():
                if v is None:
                    v = {}
                elif isinstance(v, str) and k in cls.SHORTHAND:
                    field, is_list = cls.SHORTHAND[k]
                    v = {field: [v] if is_list else v}
                out[k] = v
            data = out
        return data

    @model_validator(mode="after")
    def _one(self) -> OneKindItem:
        _exactly_one(self, self.KINDS, self.WHAT)
        return self

    @property
    def kind(self) -> str:
        return next(k for k in self.KINDS if getattr(self, k) is not None)

    @property
    def spec(self) -> BaseModel:
        return getattr(self, self.kind)  # type: ignore[no-any-return]
