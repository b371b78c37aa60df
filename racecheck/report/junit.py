"""JUnit XML: one testcase per scenario, for CI dashboards.

``as-expected`` passes; ``unexpected-violation``, ``unexpected-pass`` and
``inconclusive`` (the run could not have shown a bug: a CI must not count it green) are
``<failure>`` elements carrying the text report; ``error`` (bad input, backend down, a
racecheck-side error) is an ``<error>`` element. A scenario run on an emulated backend
carries an ``emulated`` property and an ``EMULATED`` line in its system-out.
"""

from __future__ import annotations

import datetime as _dt
import os
import re
import socket
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from ..backends.info import backends_text, merge_infos
from .outcomes import check_outcome, elapsed, result_dict, summary, text_report

# Characters XML 1.0 cannot carry at all (control characters other than tab/newline/CR).
_BAD_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _clean(text: str) -> str:
    return _BAD_XML.sub("\ufffd", text)


def _classname(o: dict[str, Any]) -> str:
    f = o.get("file")
    if not f:
        return "racecheck"
    stem = Path(os.fspath(f)).stem
    return "racecheck." + (re.sub(r"[^A-Za-z0-9_]+", "_", stem) or "scenario")


def _failure_message(o: dict[str, Any]) -> str:
    r = result_dict(o.get("result")) or {}
    if o["status"] == "unexpected-pass":
        n = r.get("trials_run", o.get("trials_run", 0))
        return (f"expected a violation but {n} trials passed; the race may be fixed "
                "or need more trials or another strategy")
    if o["status"] == "inconclusive":
        return "inconclusive: " + ("; ".join(r.get("reasons") or []) or str(o.get("message") or ""))
    vs = r.get("violations") or []
    first = vs[0]["message"] if vs else "violation"
    inv = vs[0]["invariant"] + ": " if vs else ""
    return f"unexpected violation: {inv}{first}"


def _racecheck_version() -> str:
    from .. import __version__

    return __version__


def _backend_props(infos: dict[str, Any]) -> dict[str, str]:
    """``backend.postgres`` -> ``PostgreSQL 15.4 (local)``, one property per kind."""
    return {f"backend.{kind}": backends_text({kind: i}).split(": ", 1)[1] for kind, i in sorted(infos.items())}


def _properties(parent: ET.Element, props: dict[str, str]) -> None:
    el = ET.SubElement(parent, "properties")
    for name, value in props.items():
        ET.SubElement(el, "property", name=name, value=_clean(value))


def build_junit(outcomes: list[dict[str, Any]]) -> ET.Element:
    """The ``<testsuites>`` element for ``outcomes``."""
    for i, o in enumerate(outcomes):
        check_outcome(o, i)
    s = summary(outcomes)
    failures = s["unexpected-pass"] + s["unexpected-violation"] + s["inconclusive"]
    total_time = sum(elapsed(o) for o in outcomes)
    root = ET.Element("testsuites", name="racecheck", tests=str(s["total"]), failures=str(failures),
                      errors=str(s["error"]), time=f"{total_time:.3f}")
    suite = ET.SubElement(root, "testsuite", name="racecheck", tests=str(s["total"]), failures=str(failures),
                          errors=str(s["error"]), skipped="0", time=f"{total_time:.3f}",
                          timestamp=_dt.datetime.now(_dt.UTC).strftime("%Y-%m-%dT%H:%M:%S"),
                          hostname=socket.gethostname())
    _properties(suite, {"racecheck.version": _racecheck_version(),
                        **_backend_props(merge_infos([o.get("backends") for o in outcomes]))})
    for o in outcomes:
        attrs = {"classname": _classname(o), "name": _clean(str(o["scenario"])), "time": f"{elapsed(o):.3f}"}
        if o.get("file"):
            attrs["file"] = _clean(os.fspath(o["file"]))
        case = ET.SubElement(suite, "testcase", attrs)
        props = _backend_props(o["backends"]) if o.get("backends") else {}
        if o.get("emulated"):
            props["emulated"] = ", ".join(o["emulated"])
        if props:
            _properties(case, props)
        status = o["status"]
        if status == "error":
            err = _clean(str(o.get("error") or o.get("message") or "error"))
            kind = str(o.get("error_kind") or "error")
            el = ET.SubElement(case, "error", message=err.splitlines()[0] if err else "error", type=kind)
            el.text = err
        elif status in ("unexpected-pass", "unexpected-violation", "inconclusive"):
            el = ET.SubElement(case, "failure", message=_clean(_failure_message(o)), type=status)
            el.text = _clean(text_report(o))
        out = [f"expect: {o.get('expect', 'violation')}, status: {status}"]
        if o.get("emulated"):
            out.append(f"EMULATED: {', '.join(o['emulated'])} (not the real server)")
        r = result_dict(o.get("result"))
        if r:
            out.append(f"trials run: {r.get('trials_run')}, trials to detection: {r.get('trials_to_detection')}")
            if r.get("replay"):
                out.append(f"replay with: {r['replay']}")
        if o.get("html"):
            out.append(f"HTML timeline: {os.path.abspath(os.fspath(o['html']))}")
        ET.SubElement(case, "system-out").text = _clean("\n".join(out))
    return root


def write_junit(outcomes: list[dict[str, Any]], path: str | os.PathLike[str]) -> str:
    """Write JUnit XML for ``outcomes`` to ``path`` (atomically); return the path."""
    from ..redact import redact_obj

    root = build_junit(redact_obj(outcomes))
    ET.indent(root)
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    tmp = p.with_name(p.name + ".tmp")
    ET.ElementTree(root).write(tmp, encoding="utf-8", xml_declaration=True)
    os.replace(tmp, p)
    return str(p)
