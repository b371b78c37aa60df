"""The JSON report: one stable document for a batch of scenarios (schema in docs/reports.md)."""

from __future__ import annotations

import datetime as _dt
import json
import os
import platform
import socket
from pathlib import Path
from typing import Any

from ..backends.info import merge_infos
from .outcomes import check_outcome, elapsed, result_dict, summary

FORMAT = "racecheck-report"
VERSION = 1
FIELDS = ("scenario", "file", "line", "expect", "status", "error_kind", "message", "elapsed_s",
          "result", "error", "html", "backends", "emulated", "verdict", "reasons")


def machine() -> dict[str, Any]:
    return {"hostname": socket.gethostname(), "platform": platform.platform(),
            "python": platform.python_version(), "cpus": os.cpu_count()}


def build_json(outcomes: list[dict[str, Any]]) -> dict[str, Any]:
    """The report document as a dict (what ``write_json`` writes)."""
    from .. import __version__

    for i, o in enumerate(outcomes):
        check_outcome(o, i)
    scenarios = []
    for o in outcomes:
        s = {k: o.get(k) for k in FIELDS}
        s["expect"] = o.get("expect", "violation")
        s["ok"] = o["status"] == "as-expected"
        s["result"] = result_dict(o.get("result"))
        s["verdict"] = (s["result"] or {}).get("verdict")
        s["reasons"] = (s["result"] or {}).get("reasons") or []
        s["emulated"] = list(o.get("emulated") or [])
        s["html"] = os.fspath(o["html"]) if o.get("html") else None
        s["file"] = os.fspath(o["file"]) if o.get("file") else None
        s["elapsed_s"] = elapsed(o)
        s["backends"] = o.get("backends") or {}
        scenarios.append(s)
    return {
        "format": FORMAT,
        "version": VERSION,
        "racecheck_version": __version__,
        "created": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "backends": merge_infos([o.get("backends") for o in outcomes]),
        "summary": summary(outcomes),
        "scenarios": scenarios,
    }


def write_json(outcomes: list[dict[str, Any]], path: str | os.PathLike[str]) -> str:
    """Write the JSON report for ``outcomes`` to ``path`` (atomically); return the path."""
    from ..redact import redact_obj

    doc = redact_obj(build_json(outcomes))
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    tmp = p.with_name(p.name + ".tmp")
    tmp.write_text(json.dumps(doc, indent=2, default=repr) + "\n", encoding="utf-8")
    os.replace(tmp, p)
    return str(p)
