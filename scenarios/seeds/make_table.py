"""Turn a ``racecheck run scenarios/seeds --json PATH`` report into the markdown table of docs/seeds.md.

    python scenarios/seeds/make_table.py PATH
"""

from __future__ import annotations

import json
import sys


def table(report: dict) -> str:
    rows = ["| scenario | expected | result | trials to detection | trials run | time |",
            "|---|---|---|---|---|---|"]
    for s in report["scenarios"]:
        res = s.get("result") or {}
        ttd = res.get("trials_to_detection")
        caught = [v["invariant"] for v in res.get("violations", [])]
        if s["status"] == "as-expected":
            result = f"caught ({', '.join(sorted(set(caught)))})" if s["expect"] == "violation" else "passed"
        else:
            result = f"**{s['status']}**"
        elapsed = res.get("elapsed_s")
        rows.append(f"| {s['scenario']} | {s['expect']} | {result} | {ttd if ttd is not None else '-'} | "
                    f"{res.get('trials_run', '-')}/{res.get('trials_requested', '-')} | "
                    f"{'-' if elapsed is None else f'{elapsed:.1f} s'} |")
    summary = report["summary"]
    rows.append("")
    rows.append(f"{summary['total']} scenarios, {summary['as-expected']} as expected.")
    return "\n".join(rows)


if __name__ == "__main__":
    with open(sys.argv[1]) as fh:
        print(table(json.load(fh)))
