"""Run one scenario in a fresh interpreter (``racecheck run -j``): runs cannot nest in one process.

Usage (internal): ``python -m racecheck.scenario.child JOB.json OUT.json`` where the job
names the file, the scenario's index in it, the profile, the report folder and overrides.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from .execute import error_outcome, run_scenario
from .loader import LoadedScenario, ScenarioError, load_file


def run_job(job: dict[str, Any]) -> dict[str, Any]:
    for r in load_file(job["file"]):
        if isinstance(r, LoadedScenario) and r.index == job["index"]:
            return run_scenario(r, profile=job["profile"], report_dir=job.get("report_dir"),
                                overrides=job.get("overrides") or {}, example_db=job.get("example_db")).portable()
    err = ScenarioError(job["file"], None, None, f"scenario #{job['index']} vanished from the file while running")
    return error_outcome(err).portable()


def main(argv: list[str]) -> int:
    import signal

    # the CLI stops its children with SIGTERM: exit through atexit, closing servers and sessions
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    with open(argv[0], encoding="utf-8") as f:
        job = json.load(f)
    from ..redact import redact_obj

    out = redact_obj(run_job(job))
    with open(argv[1], "w", encoding="utf-8") as f:
        json.dump(out, f, default=repr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
