"""Reports for machines and people: a JSON document, JUnit XML, and a self-contained HTML timeline.

The text report lives in :mod:`racecheck.timeline` / ``RunResult.report()``.
"""

from __future__ import annotations

from .html import render_html, report_paths_line, write_failing_html, write_html
from .json_report import build_json, write_json
from .junit import build_junit, write_junit

__all__ = [
    "build_json",
    "build_junit",
    "render_html",
    "report_paths_line",
    "write_failing_html",
    "write_html",
    "write_json",
    "write_junit",
]
