"""The invariant kinds by the names scenario files and the docs use: one vocabulary for
Python, YAML and systems in any language.

The YAML schema's invariant kinds (``racecheck.scenario.schema``) come from :data:`KINDS`: a kind
registered here without its scenario options fails the schema's import, and a scenario
option model without a kind here fails it too, so the two cannot drift.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .. import state_checks as sc
from . import (
    at_least_once,
    at_most_once,
    custom,
    exactly_once,
    fail_closed,
    fencing,
    mutual_exclusion,
    no_exceptions,
)


@dataclass(frozen=True)
class InvariantKind:
    """One kind of invariant: its constructor (or state-check class), the backend it queries, and
    the option a bare string fills in a scenario file (``- exactly_once: spawn``)."""

    name: str
    make: Callable[..., Any]
    backend: str | None = None  # "postgres" / "redis": it reads that backend after each trial
    shorthand: str | None = None


REGISTRY: tuple[InvariantKind, ...] = (
    InvariantKind("exactly_once", exactly_once, shorthand="effect"),
    InvariantKind("at_most_once", at_most_once, shorthand="effect"),
    InvariantKind("at_least_once", at_least_once, shorthand="effect"),
    InvariantKind("mutual_exclusion", mutual_exclusion, shorthand="section"),
    InvariantKind("no_exceptions", no_exceptions),
    InvariantKind("fencing", fencing, shorthand="effect"),
    InvariantKind("fail_closed", fail_closed, shorthand="effect"),
    InvariantKind("no_stuck", sc.RowsQuery, backend="postgres", shorthand="sql"),
    InvariantKind("rows_unique", sc.RowsUnique, backend="postgres", shorthand="sql"),
    InvariantKind("sql_count", sc.RowCount, backend="postgres"),
    InvariantKind("redis_keys", sc.RedisKeys, backend="redis", shorthand="pattern"),
    InvariantKind("custom", custom, shorthand="check"),
)
KINDS: dict[str, InvariantKind] = {k.name: k for k in REGISTRY}
