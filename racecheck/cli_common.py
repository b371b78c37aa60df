"""What every ``racecheck`` subcommand module shares: the exit-code priority and the version."""

from __future__ import annotations

from collections.abc import Sequence


def exit_code(codes: Sequence[int]) -> int:
    """The run's exit code from its scenarios' codes: 2, then 3, then 1, then 4 win; else 0."""
    for c in (2, 3, 1, 4):
        if c in codes:
            return c
    return 0


def version() -> str:
    """The installed racecheck version (the package's own when it is not installed)."""
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as dist_version

    try:
        return dist_version("racecheck")
    except PackageNotFoundError:
        from . import __version__

        return __version__
