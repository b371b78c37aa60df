"""``instrument=[module, ...]``: every line a worker runs in those modules is a point.

In-memory races have no statement to hook: ``self.count += 1`` or ``if k in seen:
... seen.add(k)``. With a module instrumented, each line a worker executes there is a
point labelled ``line:<module>:<lineno>`` and, inside a line, each store to shared state
(``STORE_ATTR``, ``STORE_SUBSCR``, ``STORE_GLOBAL``, ``STORE_DEREF``) is a point
``store:<module>:<lineno>:<name>``, so a read-modify-write on one line is split between
its read and its write. Locals (``STORE_FAST``) are thread-private and never points.

Each point carries the resources its line touches, from the bytecode: attribute, global
and closure names, with ``access`` "write" when the line stores to one or calls a
mutating container method on it (``add``, ``append``, ...). A line that calls anything
else may touch anything: its resource is unknown (``*``), which conflicts with every
step (see ``racecheck.scheduling.resources``).

Python 3.11 has no ``sys.monitoring``: this uses ``threading.settrace`` (worker threads
started after the run began) and ``sys.settrace`` in a worker process. Frames outside
the instrumented files get no local tracer, so the cost is one call per function call
elsewhere (measured in benchmarks/bench_instrument.py). A tracer installed before the
run (coverage) is suspended in worker threads for the run and restored afterwards.
"""

from __future__ import annotations

import dis
import importlib
import os
import sys
import threading
from collections.abc import Callable
from types import CodeType, FrameType
from typing import Any

from . import _runtime
from . import history as h
from .errors import ConfigError

STORE_OPS = {"STORE_ATTR", "STORE_SUBSCR", "STORE_GLOBAL", "STORE_DEREF", "DELETE_ATTR", "DELETE_SUBSCR",
             "STORE_NAME"}
MUTATORS = {"add", "append", "extend", "insert", "update", "pop", "popitem", "remove", "discard",
            "setdefault", "clear", "__setitem__", "__delitem__", "appendleft", "put", "put_nowait"}
NAMED_LOADS = {"LOAD_ATTR", "LOAD_GLOBAL", "LOAD_DEREF", "LOAD_NAME", "LOAD_CLASSDEREF"}
NAMED_STORES = {"STORE_ATTR", "STORE_GLOBAL", "STORE_DEREF", "DELETE_ATTR"}
UNKNOWN = "*"


class LineInfo:
    """What one line of instrumented code touches: resource names and whether it writes."""

    __slots__ = ("label", "resources", "write")

    def __init__(self, label: str, resources: frozenset[str], write: bool) -> None:
        self.label, self.resources, self.write = label, resources, write


# label -> (resources, write): read by the conflict-aware strategies and by explanations.
LABEL_RESOURCES: dict[str, tuple[frozenset[str], bool]] = {}


class _CodeInfo:
    """Per code object: the info of each line and the store points, by instruction offset."""

    def __init__(self, code: CodeType, module: str) -> None:
        self.lines: dict[int, LineInfo] = {}
        self.stores: dict[int, str] = {}
        per_line: dict[int, list[dis.Instruction]] = {}
        line = code.co_firstlineno
        for ins in dis.get_instructions(code):
            if ins.starts_line is not None:
                line = ins.starts_line
            per_line.setdefault(line, []).append(ins)
        for lineno, instrs in per_line.items():
            self.lines[lineno] = _line_info(f"line:{module}:{lineno}", instrs)
            LABEL_RESOURCES[self.lines[lineno].label] = (self.lines[lineno].resources, self.lines[lineno].write)
            last_obj = "?"
            for ins in instrs:
                if ins.opname in NAMED_LOADS or ins.opname == "LOAD_METHOD":
                    if ins.opname != "LOAD_METHOD":
                        last_obj = str(ins.argval)
                if ins.opname in STORE_OPS:
                    name = str(ins.argval) if ins.opname in NAMED_STORES else last_obj
                    label = f"store:{module}:{lineno}:{name}"
                    self.stores[ins.offset] = label
                    LABEL_RESOURCES[label] = (frozenset({name}), True)


def _line_info(label: str, instrs: list[dis.Instruction]) -> LineInfo:
    names: set[str] = set()
    write = False
    unknown = False
    last_obj: str | None = None
    pending_method: str | None = None
    for ins in instrs:
        op = ins.opname
        if op in NAMED_LOADS:
            last_obj = str(ins.argval)
            if op != "LOAD_GLOBAL" or not _is_builtin(last_obj):
                names.add(last_obj)
        elif op == "LOAD_METHOD":
            pending_method = str(ins.argval)
        elif op in STORE_OPS:
            # The store has its own point (store:...): the step up to it only reads.
            names.add(str(ins.argval) if op in NAMED_STORES else (last_obj or UNKNOWN))
        elif op in ("CALL", "CALL_FUNCTION_EX"):
            if pending_method in MUTATORS and last_obj:
                write = True
            elif pending_method is None or pending_method not in MUTATORS:
                unknown = True
            pending_method = None
    if unknown:
        names.add(UNKNOWN)
    return LineInfo(label, frozenset(names), write)


def _is_builtin(name: str) -> bool:
    import builtins

    return hasattr(builtins, name)


class Tracer:
    """The trace functions for one run: which files are instrumented, and the code info cache."""

    def __init__(self, files: dict[str, str]) -> None:
        self.files = files  # abspath -> module name
        self.codes: dict[CodeType, _CodeInfo | None] = {}

    def info(self, code: CodeType) -> _CodeInfo | None:
        try:
            return self.codes[code]
        except KeyError:
            pass
        module = self.files.get(code.co_filename) or self.files.get(os.path.abspath(code.co_filename))
        ci = _CodeInfo(code, module) if module is not None else None
        self.codes[code] = ci
        return ci

    def global_trace(self, frame: FrameType, event: str, arg: Any) -> Callable[..., Any] | None:
        if event != "call":
            return None
        ci = self.info(frame.f_code)
        if ci is None or _runtime.current_worker() is None:
            return None
        frame.f_trace_opcodes = True
        return self.local_trace

    def local_trace(self, frame: FrameType, event: str, arg: Any) -> Callable[..., Any] | None:
        rt = _runtime.active()
        if rt is None:
            return self.local_trace
        ci = self.codes.get(frame.f_code)
        if ci is None:
            return None
        if event == "line":
            li = ci.lines.get(frame.f_lineno)
            if li is not None:
                rt.at_point(li.label, h.POINT, resource=sorted(li.resources),
                            access="write" if li.write else "read")
        elif event == "opcode":
            label = ci.stores.get(frame.f_lasti)
            if label is not None:
                rt.at_point(label, h.POINT, resource=[label.rsplit(":", 1)[1]], access="write")
        return self.local_trace


def module_files(modules: tuple[str, ...] | list[str]) -> dict[str, str]:
    """Map every source file of the named modules (a package: all files under it) to its module name."""
    files: dict[str, str] = {}
    for name in modules:
        try:
            mod = importlib.import_module(name)
        except Exception as exc:  # noqa: BLE001 - any import failure is the same config error
            raise ConfigError(
                f"instrument names module {name!r}, which cannot be imported ({type(exc).__name__}: {exc}); "
                "give an importable dotted module name"
            ) from exc
        path = getattr(mod, "__file__", None)
        if not path:
            raise ConfigError(f"instrument names module {name!r}, which has no source file (a builtin or "
                              "namespace package); name a module with Python source")
        path = os.path.abspath(path)
        if os.path.basename(path) == "__init__.py":
            root = os.path.dirname(path)
            for d, _, names in os.walk(root):
                for f in names:
                    if f.endswith(".py"):
                        full = os.path.join(d, f)
                        rel = os.path.relpath(full, root)[:-3].replace(os.sep, ".")
                        files[full] = name if rel == "__init__" else f"{name}.{rel.removesuffix('.__init__')}"
        else:
            files[path] = name
    return files


def install_instrument(modules: tuple[str, ...] | list[str], mode: str = "threads") -> Callable[[], None]:
    """Trace the named modules in worker threads for the run; returns the undo."""
    if not modules:
        return lambda: None
    if mode == "asyncio":
        raise ConfigError("instrument works with mode 'threads' or 'processes'; asyncio tasks share one "
                          "thread, use racecheck.point() in coroutines instead")
    tracer = Tracer(module_files(modules))
    prev_thread = threading.gettrace()
    prev_sys = sys.gettrace()
    threading.settrace(tracer.global_trace)
    if mode == "processes":
        sys.settrace(tracer.global_trace)  # the worker process's main thread runs the trigger

    def undo() -> None:
        threading.settrace(prev_thread)  # type: ignore[arg-type]
        if mode == "processes":
            sys.settrace(prev_sys)

    return undo
