"""The choice half of a scheduling gate (used by the asyncio gate).

A gate knows *when* a choice is due (nobody runs and somebody waits) and how to hand the
turn over (resolve a future); this mixin decides *who*: bounded unfairness first, then
section holders last, then the strategy, and it records every choice, which is what the
schedule string (and so replay) is made of. It applies the same rule as the thread
``Controller._schedule`` (which keeps incremental structures of its own for large N);
the two are meant to be one, see changes/async-control.md.
"""

from __future__ import annotations

from .controller import HELD, RELEASE
from .strategies import Strategy


class Decisions:
    """Mixin: ``init_decisions`` sets the state below, ``decide`` picks and records one choice."""

    strategy: Strategy
    fairness: int  # 0: none; else a waiting worker runs after this many pass-overs
    burst: int  # steps a starved worker runs once fairness picks it
    passed_over: dict[int, int]
    forced_fair: int
    step: int
    last: int | None
    choices: list[int]
    steps: list[tuple[int, str]]
    labels: dict[int, str]
    inside: dict[int, int]  # worker -> depth of critical sections it is inside
    _leaving: set[int]
    _burst_worker: int | None
    _burst_left: int

    def init_decisions(self, strategy: Strategy, fairness: int, burst: int) -> None:
        self.strategy = strategy
        self.fairness, self.burst = fairness, burst
        self.passed_over, self.forced_fair = {}, 0
        self._burst_worker, self._burst_left = None, 0
        self.step, self.last = 0, None
        self.choices, self.steps, self.labels = [], [], {}
        self.inside, self._leaving = {}, set()

    def _track_section(self, worker: int, label: str) -> None:
        """Called as ``worker`` arrives at ``label``: follow its critical sections (held/release)."""
        if worker in self._leaving:
            self._leaving.discard(worker)
            self.inside[worker] = max(0, self.inside.get(worker, 0) - 1)
        if label.endswith(HELD):
            self.inside[worker] = self.inside.get(worker, 0) + 1
        elif label.endswith(RELEASE) and self.inside.get(worker):
            self._leaving.add(worker)  # still inside until it moves past the release point

    def decide(self, waiting: list[int], force: bool) -> int | None:
        """Choose among ``waiting`` (sorted) and record the choice; None: the strategy waits for more."""
        starved = [w for w in waiting if self.passed_over.get(w, 0) >= self.fairness] if self.fairness else []
        if not starved and self._burst_left > 0 and self._burst_worker in waiting:
            starved = [self._burst_worker]
        if starved:
            # Bounded unfairness: a worker passed over this many times runs now, for a short burst.
            # Without it a strategy can park a lock holder while a contender burns all its retries,
            # a legal but unrealistic stall that would be reported as the target's failure.
            choice: int | None = max(starved, key=lambda w: (self.passed_over.get(w, 0), -w))
            if choice != self._burst_worker or self._burst_left <= 0:
                self._burst_worker, self._burst_left = choice, self.burst
            self._burst_left -= 1
            self.forced_fair += 1
            note = getattr(self.strategy, "note_forced", None)
            if note is not None:
                note(waiting, self.step, self.last, choice)
        else:
            self._burst_left = 0
            outside = [w for w in waiting if not self.inside.get(w)]
            candidates = outside or waiting  # holders of a section wait while others can move
            choice = self.strategy.choose(candidates, self.step, self.last, force)
        if choice is None:
            return None
        if choice not in waiting:
            choice = waiting[0]
        for w in waiting:
            self.passed_over[w] = 0 if w == choice else self.passed_over.get(w, 0) + 1
        self.last = choice
        self.choices.append(choice)
        self.steps.append((choice, self.labels.get(choice, "")))
        self.step += 1
        return choice
