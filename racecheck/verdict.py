"""The verdict of a run: pass, violation, inconclusive or error.

A run *passes* only if it could have seen the bugs it looks for. Each check below looks
at a finished run (its config and trials) and returns the reasons it could not have, one
sentence each, naming the fix; any reason makes the run *inconclusive*. A violation wins
over everything (a bug was shown); a racecheck-side failure in a trial (an invariant or
setup() that raised: ``TrialRecord.errors``) makes it *error*.

To add a way a run "could not have seen a bug", write a small function
``(cfg, result) -> list[str]`` and decorate it with :func:`check`.
"""

from __future__ import annotations

import difflib
import importlib.util
import inspect
import sys
from collections import Counter
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from . import history as h
from .errors import ConfigError
from .faults.kind import phase_of

if TYPE_CHECKING:
    from .config import RunConfig
    from .faults import Fault
    from .result import RunResult, TrialRecord

PASS, VIOLATION, INCONCLUSIVE, ERROR = "pass", "violation", "inconclusive", "error"
VERDICTS = (PASS, VIOLATION, INCONCLUSIVE, ERROR)

# Events recorded at a scheduling point (a driver statement, a spied call, a section, racecheck.point).
POINT_KINDS = {h.POINT, h.SQL, h.REDIS, h.EFFECT_BEGIN, h.EFFECT_END, h.SECTION_BEGIN, h.SECTION_END}

Check = Callable[["RunConfig", "RunResult"], list[str]]
CHECKS: list[Check] = []


def check(fn: Check) -> Check:
    """Register ``fn`` as one of the checks every finished run goes through."""
    CHECKS.append(fn)
    return fn


def verdict_of(result: RunResult) -> str:
    """The verdict of a finished run (reads nothing the pytest fixture counts as looked at)."""
    if result._failing():
        return VIOLATION
    if any(t.errors for t in result.trials):
        return ERROR
    if result.inconclusive:
        return INCONCLUSIVE
    return PASS


def judge(cfg: RunConfig, result: RunResult) -> RunResult:
    """Run every check on a finished run and record its inconclusive reasons on ``result``."""
    if result._failing():
        return result  # a violation was shown: the run saw enough
    for fn in CHECKS:
        result.inconclusive.extend(fn(cfg, result))
    return result


def _grouped(items: Iterable[tuple[int, str]], total: int) -> list[str]:
    """Per-trial messages, the same text once with the trials it happened in."""
    where: dict[str, list[int]] = {}
    for index, text in items:
        where.setdefault(text, []).append(index)
    out = []
    for text, idx in where.items():
        if len(idx) == 1:
            out.append(f"trial {idx[0] + 1}: {text}")
        else:
            out.append(f"{len(idx)} of {total} trials (first: trial {idx[0] + 1}): {text}")
    return out


def error_reasons(result: RunResult) -> list[str]:
    return _grouped(((t.index, e) for t in result.trials for e in t.errors), result.trials_run)


# -- per trial: did any trigger body run? ----------------------------------------------
def _workers(trial: TrialRecord, kind: str) -> set[int]:
    return {e.worker for e in trial.history.filter(kind) if e.worker is not None and e.worker >= 0}


def _first_error(trial: TrialRecord) -> str:
    errs = [e for e in trial.history.filter(h.ERROR) if e.worker is not None and e.worker >= 0]
    if not errs:
        return ""
    e = min(errs, key=lambda e: (e.worker, e.t))  # the same worker every trial: equal notes group
    stage = "'s prepare hook raised" if e.payload.get("stage") == "prepare" else ""
    return f"w{e.worker}{stage} {e.payload.get('type', 'error')}: {e.payload.get('message', '')}".rstrip(": ")


def note_trial(cfg: RunConfig, trial: TrialRecord) -> None:
    """Add the trial-level reasons it tested nothing to ``trial.notes`` (called by the runner)."""
    if trial.hung:
        return
    started = _workers(trial, h.START)
    first = _first_error(trial)
    if not started:
        trial.notes.append("no trigger body ran" + (f" ({first})" if first else "")
                           + "; fix the failure before the trigger (prepare hook, worker import, setup)")
        return
    raised = _workers(trial, h.ERROR) & started
    if raised != started or _workers(trial, h.END) & started:
        return
    if trial.history.filter(h.FAULT) or trial.history.effects():
        return  # an injected fault explains the raise, or an effect was there to check
    if any(getattr(inv, "name", "") == "no_exceptions" for inv in cfg.invariants or ()):
        return  # the invariants judge exceptions (with an allow list: raising is accepted)
    trial.notes.append(f"every trigger raised before any effect ({first}) and no fault explains it, so the "
                       "invariants had nothing to check; fix the trigger or its arguments, or add "
                       "no_exceptions() if raising is the bug")


@check
def trial_notes(cfg: RunConfig, result: RunResult) -> list[str]:
    return _grouped(((t.index, n) for t in result.trials for n in t.notes), result.trials_run)


# -- item 1: controlled strategies on code racecheck cannot see -------------------------
def reached_point(trial: TrialRecord) -> bool:
    """True when some worker reached a scheduling point between its start and its end."""
    started: dict[int, int] = {}
    for e in trial.history:
        if e.worker is None or e.worker < 0:
            continue
        if e.kind == h.START:
            started.setdefault(e.worker, e.t)
        elif e.kind in POINT_KINDS and e.worker in started:
            return True
    return False


def _target_module(cfg: RunConfig) -> str | None:
    t = cfg.target
    if isinstance(t, str):
        return t.partition(":")[0]
    return getattr(t, "__module__", None) or getattr(type(t), "__module__", None)


@check
def unseen_interleavings(cfg: RunConfig, result: RunResult) -> list[str]:
    from .scheduling.strategies import is_controlled  # every registered strategy, not a fixed list

    if not is_controlled(cfg.strategy) or cfg.n < 2:
        return []
    trials = [t for t in result.trials if _workers(t, h.START)]
    if not trials or any(reached_point(t) for t in trials):
        return []
    from .drivers.known import (
        INSTRUMENTED,
        UNINSTRUMENTED,
        uninstrumented_in,
        uninstrumented_loaded,
    )

    mods = uninstrumented_in(cfg.target, _target_module(cfg))
    head = (f"no scheduling point reached in any of {len(trials)} trials under strategy '{cfg.strategy}', "
            "so every trigger ran alone, start to end")
    if mods:
        fixes = sorted({UNINSTRUMENTED[m] for m in mods})
        return [f"{head}: {', '.join(mods)} {'is' if len(mods) == 1 else 'are'} imported but not instrumented; "
                f"use {' or '.join(fixes)}, add racecheck.point() calls, or strategy='stress'"]
    loaded = uninstrumented_loaded()
    also = f" (uninstrumented clients loaded in this process: {', '.join(loaded)})" if loaded else ""
    return [f"{head}: the target reaches nothing racecheck instruments (the {', '.join(INSTRUMENTED)} drivers, "
            f"spies, sections, racecheck.point){also}; add racecheck.point() calls between its steps, spy on its side effects, or use "
            "strategy='stress'"]


# -- item 5: faults that never fired ----------------------------------------------------
def _labels(trial: TrialRecord) -> dict[int, set[str]]:
    """The point labels each worker (and the recovery step, -1) reached in a trial."""
    suffix = {h.EFFECT_BEGIN: ":before", h.EFFECT_END: ":after", h.SECTION_BEGIN: ":enter"}
    out: dict[int, set[str]] = {}
    for e in trial.history:
        if e.worker is None or e.kind not in POINT_KINDS:
            continue
        out.setdefault(e.worker, set()).add(e.name + suffix.get(e.kind, ""))
    return out


def _fault_matches(fault: Fault, label: str) -> bool:
    return fault.matches(label, "before") or fault.matches(label, "after")


@check
def faults_fired(cfg: RunConfig, result: RunResult) -> list[str]:
    fired: Counter[int] = Counter()
    reached: dict[int, set[str]] = {}
    for t in result.trials:
        for e in t.history.filter(h.FAULT):
            if isinstance(e.payload.get("index"), int):
                fired[e.payload["index"]] += 1
        for w, labs in _labels(t).items():
            reached.setdefault(w, set()).update(labs)
    out = []
    trials = result.trials_run
    for idx, f in enumerate(cfg.faults):
        if f.optional or fired[idx] or phase_of(f) != "point":
            continue
        ws = [w for w in reached if w >= 0] if f.workers is None else list(f.workers)
        labels = sorted({lab for w in ws for lab in reached.get(w, ())})
        hits = [lab for lab in labels if _fault_matches(f, lab)]
        mark = "mark it optional=True if it may legitimately not fire"
        if not hits:
            near = difflib.get_close_matches(f.at, labels, n=1, cutoff=0.5)
            seen = f"did you mean {near[0]!r}?" if near else (
                f"points reached: {', '.join(labels[:5])}{', ...' if len(labels) > 5 else ''}" if labels
                else "its workers reached no point at all")
            out.append(f"fault {f.describe()} matched no point in any of {trials} trials ({seen}); "
                       f"fix its 'at' glob or its worker, or {mark}")
        elif f.probability is not None:
            out.append(f"fault {f.describe()} never fired in {trials} trials: it fires with probability "
                       f"{f.probability} per occurrence, so a short run may not fire it; run more trials, raise p, "
                       f"or {mark}")
        else:
            out.append(f"fault {f.describe()} never fired in {trials} trials although its point was reached "
                       f"({hits[0]!r}): the occurrence or worker it names never came; check nth= and worker=, or "
                       f"{mark}")
    return out


# -- item 6: invariants over effects nobody records --------------------------------------
# Invariants that count an effect: with no such effect recorded they have nothing to count.
COUNTING = ("exactly_once", "at_most_once", "at_least_once", "fencing")


def _effect_invariants(cfg: RunConfig) -> list[tuple[str, str]]:
    """(invariant name, effect name) of every invariant of the run that counts an effect."""
    out = []
    for inv in cfg.invariants or ():
        name, effect = getattr(inv, "name", ""), getattr(inv, "effect", None)
        if name in COUNTING and isinstance(effect, str):
            out.append((name, effect))
    return out


@check
def effects_recorded(cfg: RunConfig, result: RunResult) -> list[str]:
    seen = {r.name for t in result.trials for r in t.history.effects()}
    out = []
    for inv_name, effect in _effect_invariants(cfg):
        if effect in seen:
            continue
        known = sorted(seen)
        near = difflib.get_close_matches(effect, known, n=1)
        hint = f"did you mean {near[0]!r}? " if near else (f"effects recorded: {', '.join(known)}; " if known else "")
        out.append(f"{inv_name}: effect {effect!r} was never recorded in any of {result.trials_run} trials, so "
                   f"it had nothing to count; {hint}check the name or the spy")
    return out


def _target_source(cfg: RunConfig) -> str | None:
    """The source of the target's module (found without importing it in process mode), or None."""
    name = _target_module(cfg) or ""
    module = sys.modules.get(name)
    try:
        if module is not None:
            return inspect.getsource(module)
        spec = importlib.util.find_spec(name)
        if spec is None or not spec.origin or not spec.origin.endswith(".py"):
            return None
        with open(spec.origin, encoding="utf-8") as fh:
            return fh.read()
    except (OSError, TypeError, ImportError, ValueError):
        return None


def _literal_in_target(cfg: RunConfig, name: str) -> bool:
    """True when the target's module spells ``name`` as a string (a racecheck.effect call), or when
    its source cannot be read (then nothing is refused)."""
    source = _target_source(cfg)
    return source is None or f'"{name}"' in source or f"'{name}'" in source


def validate(cfg: RunConfig) -> None:
    """Refuse, before any trial, a run that could not judge what it claims to (a ConfigError)."""
    for f in cfg.faults:
        bad = [w for w in f.workers or () if w >= cfg.n or w < -1]
        if bad:
            raise ConfigError(f"fault {f.describe()} names worker {bad[0]} but the run has n={cfg.n} workers "
                              f"(0..{cfg.n - 1}, or -1 for the recovery step); fix worker= or raise n")
    if not cfg.spies or _sink_running():
        return
    spied = sorted({s.effect_name for s in cfg.spies})
    for inv_name, effect in _effect_invariants(cfg) + _fail_closed_effects(cfg):
        if effect in spied:
            continue
        near = difflib.get_close_matches(effect, spied, n=1)
        # A name far from every spy may come from a racecheck.effect call anywhere: the run goes
        # ahead and effects_recorded() reports it if no trial recorded it.
        if not near or _literal_in_target(cfg, effect):
            continue
        raise ConfigError(f"{inv_name}({effect!r}) names an effect no spy records and the target's module never "
                          f"names (did you mean {near[0]!r}? the spies record {', '.join(spied)}); fix the name "
                          "or add a spy for it")


def _fail_closed_effects(cfg: RunConfig) -> list[tuple[str, str]]:
    out = []
    for inv in cfg.invariants or ():
        effect = getattr(inv, "effect", None)
        if getattr(inv, "name", "") == "fail_closed" and isinstance(effect, str):
            out.append(("fail_closed", effect))
    return out


def _sink_running() -> bool:
    """An effect sink turns HTTP calls into effects named by their path: any name may come."""
    sink = sys.modules.get("racecheck.external.sink")
    return bool(sink is not None and getattr(sink, "RUNNING", None))


__all__ = ["CHECKS", "ERROR", "INCONCLUSIVE", "PASS", "VERDICTS", "VIOLATION", "check", "judge",
           "note_trial", "validate", "verdict_of"]

