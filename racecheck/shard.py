"""Scale-out: a stable split of scenarios over N CI runners, and the merge of their reports.

A scenario belongs to shard ``K`` of ``N`` when ``sha256("<path relative to its PATH
argument>::<name>") mod N == K - 1``: the same on every machine and checkout location, and every
scenario in exactly one shard. ``racecheck merge`` joins the shards' JSON reports (and JUnit
files) into one report and one exit code.
"""

from __future__ import annotations

import hashlib
import json
import os
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from pathlib import Path
from typing import Any


def parse_shard(text: str) -> tuple[int, int]:
    """``"2/4"`` -> ``(2, 4)``; ValueError with the fix otherwise."""
    k, sep, n = text.partition("/")
    try:
        kk, nn = int(k), int(n)
    except ValueError:
        kk = nn = 0
    if not sep or nn < 1 or not 1 <= kk <= nn:
        raise ValueError(f"--shard {text!r}: write K/N with 1 <= K <= N, e.g. --shard 1/4")
    return kk, nn


def shard_key(file: str | os.PathLike[str], name: str | None, roots: Sequence[str | os.PathLike[str]]) -> str:
    """The scenario's path relative to the PATH argument it was found under, plus its name."""
    f = Path(file).resolve()
    rel = f.name
    for root in roots:
        r = Path(root).resolve()
        base = r.parent if r.is_file() else r
        if f == r or r in f.parents:
            rel = f.relative_to(base).as_posix()
            break
    return f"{rel}::{name or ''}"


def shard_of(key: str, n: int) -> int:
    """The 1-based shard of ``key`` among ``n``."""
    return int(hashlib.sha256(key.encode()).hexdigest(), 16) % n + 1


def in_shard(file: str | os.PathLike[str], name: str | None, roots: Sequence[str | os.PathLike[str]],
             shard: tuple[int, int]) -> bool:
    k, n = shard
    return shard_of(shard_key(file, name, roots), n) == k


# -- merge ----------------------------------------------------------------------------------------
EXIT_OF_STATUS = {"as-expected": 0, "unexpected-pass": 1, "unexpected-violation": 1}


def outcome_exit(s: dict[str, Any]) -> int:
    if s.get("status") == "error":
        return 3 if s.get("error_kind") in ("infrastructure", "infra") else 2
    if s.get("verdict") == "inconclusive":
        return 4
    return EXIT_OF_STATUS.get(str(s.get("status")), 2)


def load_json_reports(paths: Sequence[str]) -> list[dict[str, Any]]:
    """Every scenario of the given JSON reports, in order; ValueError naming a bad file."""
    out: list[dict[str, Any]] = []
    for p in paths:
        try:
            doc = json.loads(Path(p).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ValueError(f"{p}: not a readable racecheck JSON report ({exc})") from None
        if not isinstance(doc, dict) or doc.get("format") != "racecheck-report":
            raise ValueError(f"{p}: not a racecheck JSON report (no \"format\": \"racecheck-report\")")
        out.extend(doc.get("scenarios") or [])
    return out


def merge_junit(paths: Sequence[str], out: str) -> None:
    """One ``<testsuites>`` holding every shard's testcases (counts and time summed)."""
    root = ET.Element("testsuites", name="racecheck")
    suite = ET.SubElement(root, "testsuite", name="racecheck")
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    time_s = 0.0
    props: dict[str, str] = {}
    for p in paths:
        try:
            tree = ET.parse(p)
        except (OSError, ET.ParseError) as exc:
            raise ValueError(f"{p}: not a readable JUnit XML file ({exc})") from None
        for s in tree.getroot().iter("testsuite"):
            for k in totals:
                totals[k] += int(s.get(k, "0") or 0)
            time_s += float(s.get("time", "0") or 0)
            for prop in s.findall("properties/property"):
                props.setdefault(prop.get("name", ""), prop.get("value", ""))
            for case in s.findall("testcase"):
                suite.append(case)
    if props:
        pe = ET.Element("properties")
        for k, v in props.items():
            ET.SubElement(pe, "property", name=k, value=v)
        suite.insert(0, pe)
    for el in (root, suite):
        for k, count in totals.items():
            if el is root and k == "skipped":
                continue
            el.set(k, str(count))
        el.set("time", f"{time_s:.3f}")
    ET.indent(root)
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(out).with_name(Path(out).name + ".tmp")
    ET.ElementTree(root).write(tmp, encoding="utf-8", xml_declaration=True)
    os.replace(tmp, out)
