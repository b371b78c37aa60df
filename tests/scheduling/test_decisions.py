"""The one choice rule (scheduling/decision.py) on its own: fairness from one counter, carried pass-overs."""

from __future__ import annotations

from racecheck.scheduling.decision import DONE, RUNNING, WAITING, Decisions


class First:
    """A strategy that always picks the lowest waiting worker (so others are passed over)."""

    name = "first"

    def __init__(self) -> None:
        self.forced: list[int] = []

    def choose(self, waiting: list[int], step: int, last: int | None, force: bool) -> int:
        return waiting[0]

    def note_forced(self, waiting: list[int], step: int, last: int | None, choice: int) -> None:
        self.forced.append(choice)


class Gate(Decisions):
    def __init__(self, n: int, fairness: int = 3, burst: int = 1) -> None:
        self.strategy_obj = First()
        self.init_decisions(self.strategy_obj, n, fairness, burst)  # type: ignore[arg-type]

    def step_once(self) -> int | None:
        choice = self.decide(False)
        if choice is not None:
            self._set(choice, WAITING)  # it runs one step and comes back to a point
        return choice


def test_a_worker_passed_over_fairness_times_runs_next() -> None:
    g = Gate(2, fairness=3)
    g._set(0, WAITING)
    g._set(1, WAITING)
    picks = [g.step_once() for _ in range(5)]
    assert picks == [0, 0, 0, 1, 0]  # worker 1 was passed over 3 times, then ran once (burst 1)
    assert g.strategy_obj.forced == [1] and g.forced_fair == 1
    assert g.passed_over == {0: 0, 1: 1}  # the last step ran 0 again


def test_pass_overs_carry_over_when_a_worker_leaves_unchosen() -> None:
    """A worker that leaves the waiting set without running (a cancelled task) keeps its count."""
    g = Gate(3, fairness=4)
    for w in range(3):
        g._set(w, WAITING)
    assert [g.step_once() for _ in range(2)] == [0, 0]
    assert g.passed_over == {0: 0, 1: 2, 2: 2}
    g._set(2, DONE)  # leaves unchosen
    assert g.step_once() == 0
    assert g.passed_over == {0: 0, 1: 3, 2: 2}
    g._set(2, WAITING)  # comes back with its 2 pass-overs, not 0
    assert g.step_once() == 0  # nobody at 4 yet: worker 1 has 4 after this decision
    assert g.passed_over == {0: 0, 1: 4, 2: 3}
    assert g.step_once() == 1  # the longest waiter runs
    assert g.state[1] == WAITING and g.choices == [0, 0, 0, 0, 1]


def test_states_are_counted_without_a_scan() -> None:
    g = Gate(3)
    assert g._any("new") and not g._any(WAITING, RUNNING)
    g._set(0, WAITING)
    g._set(1, WAITING)
    assert g.waiting == [0, 1] and g._any("new")
    g._set(2, WAITING)
    assert not g._any("new")
    assert g.decide(False) == 0 and g.state[0] == RUNNING and g.waiting == [1, 2]
