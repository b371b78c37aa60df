"""What every scenario-schema model shares: strict models, name and glob checks, one-key items."""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, ConfigDict

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
