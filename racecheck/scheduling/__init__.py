"""Controlled interleaving: a controller that lets one worker move between points, and strategies.

A strategy is a small object answering one question (which waiting worker runs next);
the controller records every answer, so replay is just another strategy that hands the
recorded answers back.
"""

from __future__ import annotations

from .controller import Controller
from .schedule import Schedule
from .strategies import (
    DFS,
    PCT,
    STRATEGY_NAMES,
    RandomWalk,
    Replay,
    Strategy,
    make_strategy,
)

__all__ = [
    "DFS",
    "PCT",
    "STRATEGY_NAMES",
    "Controller",
    "RandomWalk",
    "Replay",
    "Schedule",
    "Strategy",
    "make_strategy",
]
