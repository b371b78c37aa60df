"""A target module only its first importer can import: every later import raises (a per-worker setup failure)."""

import os

_dir = os.environ["RACECHECK_GUN_DIR"]
os.close(os.open(os.path.join(_dir, "imported"), os.O_CREAT | os.O_EXCL | os.O_WRONLY))  # FileExistsError after


def work() -> None:
    with open(os.path.join(_dir, f"ran-{os.getpid()}"), "w"):
        pass
