"""What every strategy is: the protocol the controllers call, and a base with the search helpers.

The helpers read the controller's live map of where each worker waits (``see_labels``) and
the resources of those steps (``resources``): a worker at a sleep yields, and a worker about
to write a named resource lets a reader go first, which is where stale reads show.
"""

from __future__ import annotations

from typing import Protocol

from ..resources import access_of, is_sleep


class Strategy(Protocol):
    name: str

    def begin_trial(self, trial: int, n: int) -> None: ...

    def choose(self, waiting: list[int], step: int, last: int | None, force: bool) -> int | None:
        """Pick a worker from ``waiting`` (sorted); None asks the controller to wait for more arrivals."""
        ...

    def end_trial(self) -> None: ...

    def exhausted(self) -> bool: ...


class Base:
    name = "base"
    controlled = True  # it picks who runs next (stress does not: it has no strategy object)
    labels: dict[int, str] = {}  # noqa: RUF012 - replaced per trial by see_labels

    def begin_trial(self, trial: int, n: int) -> None:
        self.trial, self.n = trial, n

    def see_labels(self, labels: dict[int, str]) -> None:
        """The controller's live map of where each worker waits (its next step)."""
        self.labels = labels
        self._yields: dict[int, int] = {}

    def note_yield(self, waiting: list[int], last: int | None) -> bool:
        """True when the worker that just ran stopped at a sleep: it yields, the others go first."""
        if last is None or last not in waiting or not is_sleep(self.labels.get(last, "")):
            return False
        yields = getattr(self, "_yields", None)
        if yields is None:
            yields = self._yields = {}
        yields[last] = max(yields.values(), default=0) + 1
        return True

    def about_to_write(self, waiting: list[int], last: int | None) -> bool:
        """The last worker's next step writes a named resource (where preempting exposes stale reads)."""
        if last is None or last not in waiting or len(waiting) < 2:
            return False
        a = access_of(self.labels.get(last, ""))
        return not a.unknown and a.write and bool(a.resources)

    def readers_first(self, ws: list[int]) -> list[int]:
        """``ws`` with the workers about to write a named resource moved last (order kept otherwise)."""
        writers = [w for w in ws if self.about_to_write(ws, w)]
        if not writers or len(writers) == len(ws):
            return ws
        return [w for w in ws if w not in writers] + writers

    def awake(self, waiting: list[int]) -> list[int]:
        """Waiting workers not at a sleep point; if every one sleeps, all, the earliest to yield first.

        A worker that sleeps yields the CPU: in real time the others run first. Preferring
        them makes the search interleave steps a sleep separates, in any virtual time.
        """
        out = [w for w in waiting if not is_sleep(self.labels.get(w, ""))]
        if out:
            return out
        yields = getattr(self, "_yields", {})
        return sorted(waiting, key=lambda w: (yields.get(w, 0), w))

    def end_trial(self) -> None:
        return None

    def exhausted(self) -> bool:
        return False
