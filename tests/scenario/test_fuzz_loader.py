"""Fuzz the scenario loader with mutations of the real seed scenarios (Hypothesis, >= 300 malformed files a run).

Whatever the bytes, loading gives scenarios or ``ScenarioError``s, never another exception, and
every error is one bounded line ``file:line: [field: ]problem`` with no raw control characters.
"""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from racecheck.scenario.loader import LoadedScenario, ScenarioError, load_file

ROOT = Path(__file__).resolve().parents[2]
SEEDS = [p.read_bytes() for p in sorted((ROOT / "scenarios").rglob("*.race.yaml"))]
EXAMPLES = 400  # about 90% of mutations are malformed: >= 300 malformed files a run
MALFORMED = 300
LINE = re.compile(r"^.+:\d+: ")
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")

SWAPS = [b"[]", b"{}", b"null", b"true", b"-1", b"0", b"1e309", b".nan", b".inf", b"-.inf", b"'x'",
         b"!!float abc", b"!!int 0x", b"!!binary '@@'", b"!!timestamp 2020-13-45", b"9" * 4301,
         b"[1, [2, [3]]]", b"{a: {b: {c: 1}}}", b"*nope", b"&a [*a]", b"'\x1b[2J'", b"\"\\e]0;x\\a\"",
         b"!!python/object:os.system x", b"? [a, b]", b"|\n  multi\n  line", b"~", b"''"]
CONTROLS = [b"\x00", b"\x1b[31m", b"\x1b]0;title\x07", b"\x7f", b"\r", b"\t", b"\xe2\x80\xa8", b"\xc2\x85",
            b"\x08\x08", b"\xff\xfe", b"\xed\xa0\x80"]


def _alias_bomb(width: int, levels: int) -> bytes:
    out = [b"bomb0: &b0 [" + b",".join([b"x"] * width) + b"]"]
    for i in range(1, levels):
        out.append(f"bomb{i}: &b{i} [".encode() + b",".join([f"*b{i - 1}".encode()] * width) + b"]")
    return b"\n".join(out) + b"\n"


@st.composite
def mutation(draw: st.DrawFn, text: bytes) -> bytes:
    lines = text.split(b"\n")
    kind = draw(st.sampled_from(["delete", "swap", "nest", "alias", "garbage", "huge", "control",
                                 "indent", "truncate", "duplicate"]))
    i = draw(st.integers(0, max(0, len(lines) - 1)))
    if kind == "delete" and len(lines) > 1:
        del lines[i: i + draw(st.integers(1, 3))]
    elif kind == "swap":
        line = lines[i]
        head = line.split(b":", 1)[0] + b": " if b":" in line else line + b": "
        lines[i] = head + draw(st.sampled_from(SWAPS))
    elif kind == "nest":
        k = draw(st.sampled_from([5, 39, 41, 100, 1000, 5000]))
        opener, closer = draw(st.sampled_from([(b"[", b"]"), (b"{a: ", b"}")]))
        lines.insert(i, b"args: " + opener * k + closer * k)
    elif kind == "alias":
        lines.insert(0, draw(st.sampled_from([_alias_bomb(9, 9), _alias_bomb(3, 12), _alias_bomb(200, 1),
                                              b"r: &r [1, *r]", b"m: &m {k: *m}", b"x: *undefined"])))
    elif kind == "garbage":
        pos = draw(st.integers(0, len(text)))
        return text[:pos] + draw(st.binary(min_size=1, max_size=64)) + text[pos:]
    elif kind == "huge":
        size = draw(st.sampled_from([5_000, 100_000, 1_100_000]))
        lines.insert(i, b"description: '" + b"x" * size + b"'")
    elif kind == "control":
        pos = draw(st.integers(0, len(text)))
        return text[:pos] + draw(st.sampled_from(CONTROLS)) + text[pos:]
    elif kind == "indent":
        lines[i] = b" " * draw(st.integers(1, 7)) + lines[i]
    elif kind == "truncate":
        return text[: draw(st.integers(0, len(text)))]
    elif kind == "duplicate":
        lines.insert(i, lines[i])
    return b"\n".join(lines)


@st.composite
def malformed(draw: st.DrawFn) -> bytes:
    text = draw(st.sampled_from(SEEDS))
    for _ in range(draw(st.integers(1, 3))):
        text = draw(mutation(text))
    return text


def assert_rule(results: list[object], path: Path) -> None:
    assert results, "load_file returned nothing"
    for r in results:
        if isinstance(r, LoadedScenario):
            continue
        assert isinstance(r, ScenarioError), type(r)
        text = str(r)
        assert r.line is not None and r.line >= 1, text
        assert LINE.match(text) and text.startswith(f"{path}:{r.line}: "), text
        assert not CONTROL.search(text), text
        assert len(text) <= len(str(path)) + 600, len(text)
        assert "racecheck bug" not in text, text


def test_mutated_seed_scenarios_keep_the_one_line_rule() -> None:
    assert len(SEEDS) >= 5
    seen: list[int] = []
    with tempfile.TemporaryDirectory(prefix="racecheck-fuzz-") as tmp:
        path = Path(tmp) / "fuzz.race.yaml"

        @settings(max_examples=EXAMPLES, deadline=None, database=None,
                  suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                         HealthCheck.large_base_example])
        @given(malformed())
        def run(data: bytes) -> None:
            path.write_bytes(data)
            results = load_file(path)
            assert_rule(results, path)
            seen.append(sum(isinstance(r, ScenarioError) for r in results))

        run()
    malformed_files = sum(1 for n in seen if n)
    print(f"{len(seen)} files, {malformed_files} malformed, {sum(seen)} errors")
    assert len(seen) >= EXAMPLES and malformed_files >= MALFORMED
