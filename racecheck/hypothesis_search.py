"""Hypothesis drives the scheduling choices, so a failing schedule shrinks to the fewest switches.

Each example draws a list of small integers; choice 0 keeps the last worker running,
so Hypothesis's shrinking towards zeros removes context switches. The minimal failing
trial is reported with its schedule string and a per-worker step list.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from .result import RunResult, TrialRecord
from .scheduling.strategies import Drawn

if TYPE_CHECKING:
    from .runner import Runner

MAX_STEPS = 400
EXPLICIT_SWITCHES = 8  # explicit examples: one switch at step 0, 1, ... (at most half the trials)


class _Found(Exception):
    def __init__(self, trial: TrialRecord) -> None:
        super().__init__(trial.violations[0].message if trial.violations else "violation")
        self.trial = trial


def run_with_hypothesis(runner: Runner) -> RunResult:
    try:
        from hypothesis import HealthCheck, Phase, given, settings
        from hypothesis import strategies as st
    except ImportError as exc:  # pragma: no cover - depends on the environment
        from .errors import ConfigError

        raise ConfigError("strategy 'hypothesis' needs Hypothesis: pip install 'racecheck[hypothesis]'") from exc

    from hypothesis import example

    cfg = runner.cfg
    trials: list[TrialRecord] = []
    counter = [0]
    t0 = time.monotonic()
    # First the schedules with one context switch at each of the first steps (cheap, and where
    # most races live), then Hypothesis's own search over the rest of the budget.
    one_switch = min(EXPLICIT_SWITCHES, cfg.trials // 2)

    @settings(max_examples=cfg.trials, database=None, deadline=None, derandomize=True,
              suppress_health_check=list(HealthCheck),
              phases=(Phase.explicit, Phase.generate, Phase.shrink), report_multiple_bugs=False)
    @given(st.lists(st.integers(0, 7), max_size=MAX_STEPS), st.lists(st.booleans(), max_size=MAX_STEPS))
    def explore(choices: list[int], fault_bits: list[bool]) -> None:
        if counter[0] >= cfg.trials:
            return
        it = iter(choices)
        bits = iter(fault_bits)

        def draw(k: int) -> int:
            return next(it, 0) % k

        # Probabilistic faults fire when Hypothesis says so; shrinking turns needless ones off.
        runner.fault_decider = lambda idx, worker: next(bits, False)
        strategy = Drawn(draw)
        trial = runner.run_trial(counter[0], strategy)
        counter[0] += 1
        trials.append(trial)
        if trial.violations:
            raise _Found(trial)

    for k in reversed(range(one_switch)):
        explore = example([0] * k + [1], [])(explore)

    from hypothesis.errors import Flaky

    found: TrialRecord | None = None
    with runner._instrumented():
        try:
            explore()
        except _Found as exc:
            found = exc.trial
        except Flaky:
            # A real database does not replay every interleaving exactly, so Hypothesis may see a
            # failure it cannot reproduce while shrinking. The failure it saw is still real: report
            # the smallest failing trial seen rather than Hypothesis's complaint.
            failing = [t for t in trials if t.violations]
            if failing:
                found = min(failing, key=lambda t: (_switches(t), t.index))
    elapsed = time.monotonic() - t0
    first = next((t for t in trials if t.violations), None)
    kept: list[TrialRecord] = [t for t in trials if not t.violations]
    if found is not None:
        assert first is not None
        # Report the shrunk trial as the failing one, numbered where detection first happened.
        found.index = first.index
        kept = [t for t in trials if t.index < first.index] + [found]
    runner.fault_decider = None
    result = runner.result(kept, elapsed, False, None)
    result.strategy = "hypothesis"
    return result


def _switches(trial: TrialRecord) -> int:
    if not trial.schedule:
        return 0
    from .scheduling import Schedule

    return Schedule.decode(trial.schedule).context_switches
