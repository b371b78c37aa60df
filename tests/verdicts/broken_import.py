"""A target module whose import fails in the worker process (a missing dependency)."""

import racecheck_no_such_module  # noqa: F401


def trigger() -> None:
    pass
