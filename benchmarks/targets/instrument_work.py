"""A loop of attribute updates for bench_instrument: every line of it is a point when instrumented."""

from __future__ import annotations


class Acc:
    def __init__(self) -> None:
        self.total = 0


def work(iterations: int) -> int:
    acc = Acc()
    for i in range(iterations):
        acc.total += i
    return acc.total
