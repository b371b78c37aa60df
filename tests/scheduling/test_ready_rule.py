"""The rule that tells a slow worker from a blocked one, on a clock and a kernel the test owns.

After a quantum with too little CPU the controller asks the kernel: a runnable task is slow, a task
that ran or sat queued for a fifth of the time since the mark is slow, and a task asleep all along is
blocked, at the quantum, not a tick later (a sleeper judged late shifts every delay-timed schedule).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from racecheck.scheduling import Controller, controller
from racecheck.scheduling.strategies import make_strategy

Q = 0.01  # the quantum, seconds


class Kernel:
    """What /proc says of the running worker's task: runnable now, and ns run plus queued."""

    def __init__(self) -> None:
        self.runnable = False
        self.spent = 1_000_000

    def state(self, tid: int | None) -> tuple[bool, int] | None:
        return None if tid is None else (self.runnable, self.spent)


@pytest.fixture
def kernel(monkeypatch: pytest.MonkeyPatch) -> Kernel:
    k = Kernel()
    monkeypatch.setattr(controller, "_task_state", k.state)
    return k


@pytest.fixture
def ctl(kernel: Kernel) -> Iterator[Controller]:
    c = Controller(make_strategy("random", seed=1), 2, quantum=Q)
    c.close()  # the watchdog thread stops; the test drives the rule itself
    c.current, c._acked, c._acked_at, c._released_at = 0, True, 0.0, 0.0
    c.task_of[0] = 12345
    c._clock.clear()
    c._cpu_mark = 5_000_000
    c._cpu_ns = lambda worker: 5_000_000  # type: ignore[method-assign]  # no CPU used in the step
    yield c


def test_a_sleeper_is_blocked_at_the_quantum(ctl: Controller, kernel: Kernel) -> None:
    ctl._mark_ready(0.6 * Q)  # the watchdog's tick half a quantum in
    assert not ctl._still_busy(0, 1.1 * Q)


def test_a_runnable_worker_is_slow(ctl: Controller, kernel: Kernel) -> None:
    ctl._mark_ready(0.6 * Q)
    kernel.runnable = True
    assert ctl._still_busy(0, 1.1 * Q)


def test_a_worker_that_ran_or_queued_since_the_mark_is_slow(ctl: Controller, kernel: Kernel) -> None:
    ctl._mark_ready(0.6 * Q)
    kernel.spent += int(0.3 * 0.5 * Q * 1e9)  # 30% of the half quantum since the mark
    assert ctl._still_busy(0, 1.1 * Q)


def test_a_little_progress_is_still_blocked(ctl: Controller, kernel: Kernel) -> None:
    ctl._mark_ready(0.6 * Q)
    kernel.spent += int(0.1 * 0.5 * Q * 1e9)  # 10%: a sleeper woken now and then
    assert not ctl._still_busy(0, 1.1 * Q)


def test_no_mark_before_half_a_quantum(ctl: Controller, kernel: Kernel) -> None:
    ctl._mark_ready(0.4 * Q)
    assert ctl._ready_mark is None
    ctl._mark_ready(0.6 * Q)
    assert ctl._ready_mark == (0.6 * Q, kernel.spent)


def test_a_late_watchdog_gives_one_more_tick(ctl: Controller, kernel: Kernel) -> None:
    """No mark (the watchdog missed the half-quantum tick): one more tick, then the usual rule."""
    assert ctl._still_busy(0, 1.1 * Q)
    assert not ctl._still_busy(0, 1.4 * Q)


def test_cpu_used_extends_the_quantum_and_drops_the_mark(ctl: Controller, kernel: Kernel) -> None:
    ctl._mark_ready(0.6 * Q)
    ctl._cpu_ns = lambda worker: 5_000_000 + int(0.5 * Q * 1e9)  # type: ignore[method-assign]
    assert ctl._still_busy(0, 1.1 * Q)
    assert ctl._released_at == 1.1 * Q and ctl._ready_mark is None
