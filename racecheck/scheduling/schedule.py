"""The schedule string: one compact, versioned line that replays a trial.

``rc1:<n>:<seed>:<trial>:<choices>[:f<bits>]`` where choices is the chosen worker per
step, run-length encoded (``0x3.1.0x2`` = 0,0,0,1,0,0). The seed and trial index restore
seeded fault choices; the optional ``f`` field holds fault decisions made by Hypothesis
(1 = fired), in the order they were asked.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import ConfigError

VERSION = "rc1"


@dataclass(frozen=True)
class Schedule:
    n: int
    seed: int
    trial: int
    choices: tuple[int, ...]
    faults: tuple[int, ...] = ()

    def encode(self) -> str:
        text = f"{VERSION}:{self.n}:{self.seed}:{self.trial}:{_rle(self.choices)}"
        return text + (":f" + "".join(map(str, self.faults)) if self.faults else "")

    def __str__(self) -> str:
        return self.encode()

    @property
    def context_switches(self) -> int:
        return sum(1 for a, b in zip(self.choices, self.choices[1:], strict=False) if a != b)

    @classmethod
    def decode(cls, text: str) -> Schedule:
        parts = text.strip().split(":")
        faults: tuple[int, ...] = ()
        if len(parts) == 6 and parts[5].startswith("f") and set(parts[5][1:]) <= {"0", "1"}:
            faults = tuple(int(c) for c in parts[5][1:])
            parts = parts[:5]
        if len(parts) != 5 or parts[0] != VERSION:
            raise ConfigError(
                f"schedule {text!r} is not a racecheck schedule; copy the whole 'rc1:...' string from the failure report"
            )
        try:
            n, seed, trial = int(parts[1]), int(parts[2]), int(parts[3])
            choices = _unrle(parts[4])
        except ValueError as exc:
            raise ConfigError(f"schedule {text!r} is damaged ({exc}); copy it again from the failure report") from exc
        if any(c < 0 or c >= n for c in choices):
            raise ConfigError(f"schedule {text!r} names a worker outside 0..{n - 1}; it was recorded with another n")
        return cls(n, seed, trial, choices, faults)


def _rle(choices: tuple[int, ...]) -> str:
    out: list[str] = []
    i = 0
    while i < len(choices):
        j = i
        while j < len(choices) and choices[j] == choices[i]:
            j += 1
        run = j - i
        out.append(f"{choices[i]}x{run}" if run > 1 else str(choices[i]))
        i = j
    return ".".join(out) or "-"


def _unrle(text: str) -> tuple[int, ...]:
    if text in ("", "-"):
        return ()
    out: list[int] = []
    for tok in text.split("."):
        w, _, run = tok.partition("x")
        out.extend([int(w)] * (int(run) if run else 1))
    return tuple(out)
