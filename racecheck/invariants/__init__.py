"""Invariants: plain checks over a trial's history (and, for some, the database after recovery).

An invariant is any object with a ``name`` and ``check(trial) -> list[Violation]``;
``custom(fn)`` turns a function into one. Each violation names the keys, workers and
times involved, so a report can point at them.

Layout: :mod:`.base` (``Violation``, the ``Invariant`` protocol), :mod:`.history_checks`
(the checks over one trial's events), :mod:`.fail_closed` (what a failed backend call must
lead to); this module holds the constructors users call and :data:`KINDS`, the registry of
invariant kinds the YAML schema is generated from.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from .. import history as h
from .base import Invariant, Violation
from .fail_closed import SURFACING_LEVELS, FailClosed
from .history_checks import (
    AtLeastOnce,
    AtMostOnce,
    Custom,
    ExactlyOnce,
    Fencing,
    MutualExclusion,
    NoExceptions,
    NoStuck,
    Span,
    sections,
)

__all__ = [
    "SURFACING_LEVELS", "AtLeastOnce", "AtMostOnce", "Custom", "ExactlyOnce",
    "FailClosed", "Fencing", "Invariant", "MutualExclusion", "NoExceptions", "NoStuck", "Span", "Violation",
    "at_least_once", "at_most_once", "custom", "exactly_once", "fail_closed", "fencing", "mutual_exclusion",
    "no_exceptions", "no_stuck", "sections",
]


# Public constructors (the names users type).
def exactly_once(effect: str, keys: Iterable[Any] | None = None, indeterminate: str = "report") -> ExactlyOnce:
    """Every key's effect happened exactly once per trial (no duplicate, no loss).

    Args:
        effect: the effect name (a spy's name, or ``racecheck.effect(name, ...)``).
        keys: the keys that must each be seen; ``None`` checks every key that occurred.
        indeterminate: what a call that may or may not have happened (a spied call cut by a
            crash) counts as: ``"report"`` (a violation marked indeterminate), ``"done"`` or
            ``"not_done"``.
    """
    return ExactlyOnce(effect, keys, indeterminate)


def at_most_once(effect: str, keys: Iterable[Any] | None = None, indeterminate: str = "report") -> AtMostOnce:
    """No key's effect happened twice in a trial (duplicates only; a lost effect passes).

    Args:
        effect: the effect name (a spy's name, or ``racecheck.effect(name, ...)``).
        keys: the keys that must each be seen; ``None`` checks every key that occurred.
        indeterminate: what a call that may or may not have happened (a spied call cut by a
            crash) counts as: ``"report"`` (a violation marked indeterminate), ``"done"`` or
            ``"not_done"``.
    """
    return AtMostOnce(effect, keys, indeterminate)


def at_least_once(effect: str, keys: Iterable[Any] | None = None, indeterminate: str = "report") -> AtLeastOnce:
    """Every key's effect happened at least once in a trial (losses only; duplicates pass).

    Args:
        effect: the effect name (a spy's name, or ``racecheck.effect(name, ...)``).
        keys: the keys that must each be seen; ``None`` checks every key that occurred.
        indeterminate: what a call that may or may not have happened (a spied call cut by a
            crash) counts as: ``"report"`` (a violation marked indeterminate), ``"done"`` or
            ``"not_done"``.
    """
    return AtLeastOnce(effect, keys, indeterminate)


def mutual_exclusion(section: str) -> MutualExclusion:
    """No two workers were inside the critical section ``section`` for one key at once.

    Sections come from ``with racecheck.section(name, key=...)`` blocks and from spies made
    with ``section=True`` (the spied call is the section).

    Args:
        section: the section name.
    """
    return MutualExclusion(section)


def no_exceptions(allow: Iterable[str | type[BaseException]] = ()) -> NoExceptions:
    """No trigger (and no recovery step) raised.

    Args:
        allow: exception types (classes or class names) that do not count.
    """
    return NoExceptions(allow)


def fencing(effect: str, token: str = "token") -> Fencing:
    """Fencing tokens strictly increase per resource across the effects named ``effect``.

    Args:
        effect: the effect whose calls carry a token (e.g. a spied ``write(resource, token)``).
        token: the name of the effect's argument holding the token.
    """
    return Fencing(effect, token)


def no_stuck(query: Callable[[], Iterable[Any]], describe: str = "") -> NoStuck:
    """After the trial (and the recovery step), ``query()`` returns no rows: nothing is left stuck.

    Args:
        query: a callable returning the stuck rows (e.g. jobs still ``queued``); any row is a violation.
        describe: what a row means, for the message (e.g. ``"review queued but never dispatched"``).
    """
    return NoStuck(query, describe)


def fail_closed(effect: str | None = None, failed: Callable[[list[h.Event]], bool] | None = None) -> FailClosed:
    """A trigger whose backend call failed did no effect and surfaced the failure.

    Args:
        effect: the effect that must not happen after a failure (``None``: any effect).
        failed: a callable over one worker's events saying whether that worker failed; by
            default, an injected backend fault fired in it or a driver call raised a
            connection-level error.
    """
    return FailClosed(effect, failed)


def custom(fn: Callable[..., Any], name: str | None = None) -> Custom:
    """Your own check over a trial's history.

    Args:
        fn: ``fn(history)`` returning ``None``/``True`` (passed), ``False`` or a text or a list of
            texts (each one a violation message).
        name: the invariant's name in reports (default: the function's name).
    """
    return Custom(fn, name)
