"""Exceptions raised by the backends package."""

from __future__ import annotations

from ..errors import RacecheckError


class BackendError(RacecheckError):
    """A backend server could not be started, reached or controlled."""


class NoBackendError(BackendError):
    """No provider in the chain could supply the requested kind of server.

    The message is one sentence listing what was tried and how to get each.
    """

    def __init__(self, message: str, reports: list | None = None) -> None:
        super().__init__(message)
        self.reports = list(reports or [])


class ResetRefused(BackendError):
    """A destructive reset was refused on a server or database racecheck did not create."""


class NotOwnedError(BackendError):
    """stop()/start() was asked of a server racecheck did not start."""


class EmulatedBackendError(BackendError):
    """A test that needs real Redis was about to run on an emulation (fakeredis)."""
