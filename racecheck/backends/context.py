"""``with`` support for provided servers and databases: the block's end closes them."""

from __future__ import annotations

from typing import Any, TypeVar

T = TypeVar("T", bound="ClosedOnExit")


class ClosedOnExit:
    """``with provide_postgres() as pg:`` ... ``pg.close()`` runs when the block ends (also on error)."""

    def close(self) -> None:  # pragma: no cover - every subclass defines it
        raise NotImplementedError

    def __enter__(self: T) -> T:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
