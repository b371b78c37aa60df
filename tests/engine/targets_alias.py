"""Imports the spied function by name, as application code usually does."""

from __future__ import annotations

from engine.targets import spawn_for


def call_alias(sha: str = "s1") -> str:
    return spawn_for("w9", sha)
