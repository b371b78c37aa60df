"""Real racecheck runs (in memory, threads) shared by the report tests."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
import report_targets as t

import racecheck
from racecheck.result import RunResult

SPAWN = f"{t.__name__}:spawn"


@pytest.fixture(scope="session")
def dup_result() -> RunResult:
    """Buggy check-then-act dispatcher with a spy, a crash of w2 and a recovery step: spawns twice."""
    r = racecheck.run(t.buggy_dispatch, n=3, trials=200, strategy="random", seed=1, setup=t.reset,
                      recover=t.recover, spies=[racecheck.spy(SPAWN, key="sha")],
                      faults=[racecheck.crash(at="check", worker=2)],
                      invariants=[racecheck.exactly_once("spawn")])
    r.assert_violation("exactly_once")
    return r


@pytest.fixture(scope="session")
def clean_dispatch_result() -> RunResult:
    """Atomic-claim dispatcher with the same spy: spawns exactly once in every trial."""
    r = racecheck.run(t.correct_dispatch, n=3, trials=20, strategy="random", seed=1, setup=t.reset,
                      spies=[racecheck.spy(SPAWN, key="sha")], invariants=[racecheck.exactly_once("spawn")])
    r.assert_ok()
    return r


@pytest.fixture(scope="session")
def overlap_result() -> RunResult:
    """Lock with separate test and set: two workers inside the 'job' section at once."""
    r = racecheck.run(t.buggy_lock, n=3, trials=200, strategy="random", seed=1, setup=t.reset,
                      invariants=[racecheck.mutual_exclusion("job")])
    r.assert_violation("mutual_exclusion")
    return r


@pytest.fixture(scope="session")
def clean_lock_result() -> RunResult:
    """Atomic test-and-set lock: the 'job' section never overlaps."""
    r = racecheck.run(t.correct_lock, n=3, trials=20, strategy="random", seed=1, setup=t.reset,
                      invariants=[racecheck.mutual_exclusion("job")])
    r.assert_ok()
    return r


class Node:
    def __init__(self, tag: str, attrs: dict[str, str]) -> None:
        self.tag, self.attrs, self.text = tag, attrs, ""

    @property
    def classes(self) -> set[str]:
        return set(self.attrs.get("class", "").split())


class Dom(HTMLParser):
    """A flat list of elements with their attributes and direct text: enough to query the report."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.nodes: list[Node] = []
        self._stack: list[Node] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        node = Node(tag, {k: v or "" for k, v in attrs})
        self.nodes.append(node)
        if tag not in ("meta", "input", "br", "col", "img", "link"):
            self._stack.append(node)

    def handle_endtag(self, tag: str) -> None:
        while self._stack:
            if self._stack.pop().tag == tag:
                break

    def handle_data(self, data: str) -> None:
        for node in self._stack:
            node.text += data

    def find(self, *classes: str, **attrs: str) -> list[Node]:
        want = set(classes)
        return [n for n in self.nodes if want <= n.classes
                and all(n.attrs.get(k.replace("_", "-")) == v for k, v in attrs.items())]

    def by_id(self, id_: str) -> Node | None:
        return next((n for n in self.nodes if n.attrs.get("id") == id_), None)


@pytest.fixture
def parse():
    return Dom


@pytest.fixture
def outcomes(dup_result, overlap_result, clean_lock_result, clean_dispatch_result, tmp_path):
    """One outcome of each status, from real runs (results given as RunResult and as to_dict())."""
    return [
        {"scenario": "dispatch-dup", "file": "scenarios/dispatch.yaml", "expect": "violation",
         "status": "as-expected", "result": dup_result, "error": None, "html": str(tmp_path / "d.html")},
        {"scenario": "lock-overlap", "file": "scenarios/lock.yaml", "expect": "pass",
         "status": "unexpected-violation", "result": overlap_result.to_dict(), "error": None, "html": None},
        {"scenario": "lock-fixed", "file": "scenarios/lock.yaml", "expect": "violation",
         "status": "unexpected-pass", "result": clean_lock_result, "error": None, "html": None},
        {"scenario": "dispatch-ok", "file": "scenarios/dispatch.yaml", "expect": "pass",
         "status": "as-expected", "result": clean_dispatch_result, "error": None, "html": None},
        {"scenario": "broken-yaml", "file": "scenarios/broken.yaml", "expect": "violation",
         "status": "error", "result": None, "error": "scenario broken.yaml: unknown key 'invariant'; did you mean 'invariants'?",
         "html": None},
    ]
