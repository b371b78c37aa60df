"""The example database: failing schedules saved in ``.racecheck/`` and replayed first next time.

Like Hypothesis's ``.hypothesis/``: when a test (keyed by its pytest node id, or a scenario by
its path and name) fails with a replayable schedule, the schedule is saved; the next run of
that test replays the saved schedules before it draws new seeds, so a found bug stays found
while it is being fixed. A saved schedule that no longer fails is dropped.

``racecheck run`` uses it for the scenarios that expect ``pass`` (an unexpected violation is
their failure) in files under the working directory; a scenario that expects a violation never
saves one: its detection statistics (trials to detection) stay those of fresh seeds.

Layout: ``<root>/examples/<sha256(key)[:20]>.json`` holding ``{"key": ..., "schedules": [...]}``.
Writes go to a temporary file then ``os.replace``: xdist workers and parallel runs never see
a half-written file (different tests use different files; the last writer of one test wins).
Disable it with ``--racecheck-example-db=off`` (pytest), ``racecheck run --no-example-db`` or
``RACECHECK_EXAMPLE_DB=off``; ``RACECHECK_EXAMPLE_DB=DIR`` moves it.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

DEFAULT_DIR = ".racecheck"
OFF = ("off", "none", "0", "false", "no")
MAX_PER_KEY = 10
# options a replay takes from the schedule itself
_FROM_SCHEDULE = ("n", "seed", "strategy", "trials", "schedule")


class ExampleDB:
    """Saved failing schedules under ``root`` (a folder; created on first save)."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)

    def _path(self, key: str) -> Path:
        return self.root / "examples" / (hashlib.sha256(key.encode()).hexdigest()[:20] + ".json")

    def load(self, key: str) -> list[str]:
        """The saved schedules of ``key``, oldest first ([] when none or unreadable)."""
        try:
            doc = json.loads(self._path(key).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return []
        if not isinstance(doc, dict) or doc.get("key") != key:
            return []
        return [s for s in doc.get("schedules", []) if isinstance(s, str)]

    def _write(self, key: str, schedules: list[str]) -> None:
        path = self._path(key)
        if not schedules:
            try:
                path.unlink()
            except FileNotFoundError:
                pass
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=path.name, suffix=".tmp", dir=path.parent)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump({"key": key, "schedules": schedules[-MAX_PER_KEY:]}, f, indent=1)
        os.replace(tmp, path)

    def save(self, key: str, schedule: str) -> None:
        have = self.load(key)
        if schedule not in have:
            self._write(key, have + [schedule])

    def forget(self, key: str, schedule: str) -> None:
        have = self.load(key)
        if schedule in have:
            self._write(key, [s for s in have if s != schedule])


def from_setting(value: str | None, base: str | os.PathLike[str] = ".") -> ExampleDB | None:
    """The database a setting names: None/"" -> ``<base>/.racecheck``, "off" -> None, else that folder."""
    value = value if value not in (None, "") else os.environ.get("RACECHECK_EXAMPLE_DB")
    if value is not None and value.strip().lower() in OFF:
        return None
    return ExampleDB(Path(base) / (value or DEFAULT_DIR))


def run_examples_first(db: ExampleDB | None, key: str, target: Any, options: dict[str, Any],
                       run: Callable[..., Any] | None = None, replay: Callable[..., Any] | None = None,
                       note: Callable[[str], None] | None = None) -> Any:
    """Replay ``key``'s saved failing schedules first; the first that fails again is the result.

    Otherwise run as asked (``run(target, **options)``) and save the first failing trial's
    schedule, if it has one. ``note`` is told what happened (for a terminal line).
    """
    from .errors import ConfigError, DidNotReproduce

    if run is None or replay is None:
        from . import runner

        run, replay = run or runner.run, replay or runner.replay
    if db is not None:
        rest = {k: v for k, v in options.items() if k not in _FROM_SCHEDULE}
        for schedule in db.load(key):
            try:
                rep = replay(target, schedule, times=1, **rest)
            except (DidNotReproduce, ConfigError, ValueError):
                db.forget(key, schedule)  # fixed, or the test changed: no longer an example
                if note:
                    note(f"racecheck: saved example {schedule} no longer fails; dropped it")
                continue
            if rep.result is not None and not rep.result.ok:
                if note:
                    note(f"racecheck: replayed saved example {schedule} from {db.root}: it still fails")
                return rep.result
    result = run(target, **options)
    if db is not None:
        first = result.first_failure
        if first is not None and first.schedule:
            db.save(key, first.schedule)
    return result


def scenario_key(file: str | os.PathLike[str], name: str) -> str:
    """The key of a YAML scenario: its file relative to the working directory (as pytest ids are) and name."""
    path = Path(os.path.abspath(file))
    try:
        rel = path.relative_to(Path.cwd()).as_posix()
    except ValueError:
        rel = path.as_posix()
    return f"{rel}::{name}"


def uses_examples(expect: str, file: str | os.PathLike[str]) -> bool:
    """Whether a scenario replays and saves examples: one that expects ``pass``, in a file under the
    working directory (the project; a file elsewhere, e.g. a temporary one, has no stable key)."""
    return expect == "pass" and Path(os.path.abspath(file)).is_relative_to(Path.cwd())


def run_scenario_examples(root: str | os.PathLike[str] | None, loaded: Any, target: Any,
                          options: dict[str, Any]) -> Any:
    """``racecheck run``'s use of the database (folder ``root``; None: off) for one loaded scenario."""
    from . import runner

    if root is None or not uses_examples(loaded.spec.expect, loaded.file):
        return runner.run(target, **options)
    return run_examples_first(ExampleDB(root), scenario_key(loaded.file, loaded.name), target, options)


def scenario_note(db: ExampleDB, key: str, before: list[str], result_dict: dict[str, Any] | None) -> str | None:
    """The line ``racecheck run`` prints after a scenario about its saved examples, if any changed or ran."""
    after = db.load(key)
    replayed = (result_dict or {}).get("strategy") == "replay"
    rel = os.path.relpath(db.root)
    where = str(db.root) if rel.startswith("..") else rel
    if replayed and before:
        return (f"replayed the saved failing schedule from {where}/ first: it still fails "
                "(--no-example-db runs fresh seeds only)")
    dropped = [s for s in before if s not in after]
    added = [s for s in after if s not in before]
    if added:
        return f"saved the failing schedule in {where}/: the next run replays it first"
    if dropped:
        return f"{len(dropped)} saved failing schedule(s) in {where}/ no longer fail: dropped"
    return None
