"""Whether a process-mode run may fork its workers from a warm template, or must spawn them."""

from __future__ import annotations

import os
import sys
from typing import Any

from .errors import ConfigError

START_METHODS = ("auto", "fork", "spawn")


def spawn_reason(cfg: Any) -> str:
    """Why this run's workers must be spawned ("" when forking from a warm template is fine).

    ``start_method="fork"`` turns a reason other than the platform into a ConfigError, so a
    run that asked for the template never silently gets spawn.
    """
    method = getattr(cfg, "start_method", "auto")
    if method == "spawn":
        return "start_method='spawn'"
    if not hasattr(os, "fork") or not sys.platform.startswith("linux"):
        return "no fork server on this platform"
    why = ""
    if any(f.action == "scrub_env" and f.params.get("when") == "start" for f in cfg.faults):
        why = ("an env fault at 'start' must apply before the target is imported, and the template "
               "imports it once for every worker")
    elif str(cfg.target).partition(":")[0] == "__main__":
        why = "the target is in __main__, which the template does not import"
    if why and method == "fork":
        raise ConfigError(f"start_method='fork' was asked for, but {why}; use 'auto' or 'spawn'")
    return why
