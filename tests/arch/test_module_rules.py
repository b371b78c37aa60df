"""Structure rules of racecheck/: small modules, one home per public name, an engine that
imports no integration."""

from __future__ import annotations

import ast
import importlib
import json
import subprocess
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

import racecheck

PACKAGE = Path(racecheck.__file__).resolve().parent
ROOT = PACKAGE.parent
MAX_LINES = 500
# No exceptions: a module that grows past the limit is split along a seam.
KNOWN_OVER: dict[str, str] = {}

# The edges: the only places that may load pytest, YAML, pydantic, a database driver or Hypothesis.
EDGE_PREFIXES = ("racecheck.pytest_plugin", "racecheck.pytest_backends", "racecheck.pytest_options",
                 "racecheck.scenario", "racecheck.backends", "racecheck.drivers", "racecheck.external",
                 "racecheck.cli", "racecheck.report", "racecheck.__main__")
INTEGRATIONS = ("pytest", "_pytest", "yaml", "pydantic", "psycopg", "psycopg2", "asyncpg", "redis", "valkey",
                "django", "sqlalchemy", "hypothesis")


def _files() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _engine_modules() -> list[str]:
    names = [_module_name(p) for p in _files()]
    return [n for n in names if n != "racecheck" and not n.startswith(EDGE_PREFIXES)]


# -- size -------------------------------------------------------------------------------------
def test_no_module_is_over_500_lines() -> None:
    sizes = {str(p.relative_to(ROOT)): len(p.read_text().splitlines()) for p in _files()}
    over = {f: n for f, n in sizes.items() if n > MAX_LINES and f not in KNOWN_OVER}
    assert over == {}, f"modules over {MAX_LINES} lines (split them along a seam): {over}"
    stale = [f for f in KNOWN_OVER if sizes.get(f, 0) <= MAX_LINES]
    assert stale == [], f"no longer over {MAX_LINES} lines: remove from KNOWN_OVER: {stale}"


# -- one home per public name -------------------------------------------------------------------
def _top_level_definitions(tree: ast.Module) -> list[tuple[str, bool]]:
    """(name, is an assignment) for every public name a module defines at top level (including
    inside top-level ``if``/``try`` blocks): ``def``, ``class`` and plain assignments."""
    out: list[tuple[str, bool]] = []

    def visit(body: list[ast.stmt]) -> None:
        for node in body:
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                out.append((node.name, False))
            elif isinstance(node, ast.Assign):
                out.extend((t.id, True) for t in node.targets if isinstance(t, ast.Name))
            elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value is not None:
                out.append((node.target.id, True))
            elif isinstance(node, ast.If):
                visit(node.body)
                visit(node.orelse)
            elif isinstance(node, ast.Try):
                visit(node.body)
                for handler in node.handlers:
                    visit(handler.body)
                visit(node.orelse)
                visit(node.finalbody)

    visit(tree.body)
    return [(n, a) for n, a in out if not n.startswith("_")]


def homes(modules: dict[str, tuple[ast.Module, Any]]) -> dict[str, list[str]]:
    """Public name -> the modules defining it, for names bound to more than one distinct class or
    function (a module re-exporting the same object is not a second home)."""
    objects: dict[str, dict[int, list[str]]] = defaultdict(lambda: defaultdict(list))
    for name, (tree, module) in modules.items():
        for attr, assigned in _top_level_definitions(tree):
            obj = getattr(module, attr, None)
            if obj is None:
                continue
            if assigned and not (isinstance(obj, type) or callable(obj) and hasattr(obj, "__code__")):
                continue  # an assignment of a value (a constant, a tuple), not of a class or function
            objects[attr][id(obj)].append(name)
    return {attr: sorted(m for ms in by_obj.values() for m in ms)
            for attr, by_obj in objects.items() if len(by_obj) > 1}


# Module protocols: the same name in several modules is the interface itself (the caller picks the
# module), allowed only in the modules that implement it.
PROTOCOLS: dict[str, tuple[str, ...]] = {
    "main": ("racecheck.cli", "racecheck.scenario.child", "racecheck.backends.watchdog",
             "racecheck.backends.__main__"),  # a ``python -m`` entry point
    "install": ("racecheck.drivers.", "racecheck.scheduling.virtual_time"),  # patch for the run, return the undo
    "find_pg_bindir": ("racecheck.backends.local", "racecheck.backends.embedded"),  # a server provider
    "find_redis_binary": ("racecheck.backends.local", "racecheck.backends.embedded"),
}
_REGISTRIES = ("racecheck.faults.kind", "racecheck.scheduling.strategies")  # kinds are registered by name
PROTOCOLS.update({name: _REGISTRIES for name in ("register", "unregister", "names")})


def test_each_public_name_has_one_home() -> None:
    modules = {}
    for path in _files():
        name = _module_name(path)
        if name.endswith("__main__"):
            continue
        modules[name] = (ast.parse(path.read_text()), importlib.import_module(name))
    clashes = {name: where for name, where in homes(modules).items()
               if not all(m.startswith(PROTOCOLS.get(name, ("-",))) for m in where)}
    assert clashes == {}, ("public names defined in more than one module (rename one, or define it once "
                           f"and import it): {clashes}")


def test_one_home_sees_a_second_definition() -> None:
    import types

    def module(name: str, source: str, **attrs: Any) -> tuple[ast.Module, Any]:
        mod = types.ModuleType(name)
        mod.__dict__.update(attrs)
        exec(compile(source, name, "exec"), mod.__dict__)  # noqa: S102 - the test's own source
        return ast.parse(source), mod

    a = module("pkg.a", "class SqlCount: ...\ndef helper(): ...\nLIMIT = 3\n")
    b = module("pkg.b", "class SqlCount: ...\nLIMIT = 4\n_private = 1\n")
    helper = a[1].helper
    reexport = module("pkg.c", "", helper=helper)  # ``from .a import helper``: no definition here
    alias = module("pkg.d", "helper = other", other=helper)  # an alias of the same function
    assert homes({"pkg.a": a, "pkg.b": b, "pkg.c": reexport, "pkg.d": alias}) == {"SqlCount": ["pkg.a", "pkg.b"]}
    assert homes({"pkg.a": a, "pkg.c": reexport, "pkg.d": alias}) == {}


# -- the engine imports no integration -----------------------------------------------------------
_PROBE = """
import importlib, json, sys
import racecheck
bad = {}
bad["racecheck"] = sorted(m for m in INTEGRATIONS if m in sys.modules)
for name in MODULES:
    importlib.import_module(name)
    bad[name] = sorted(m for m in INTEGRATIONS if m in sys.modules)
print(json.dumps(bad))
"""


def _probe(modules: list[str]) -> dict[str, list[str]]:
    code = f"INTEGRATIONS = {INTEGRATIONS!r}\nMODULES = {modules!r}\n" + _PROBE
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=ROOT,
                         check=False)
    assert out.returncode == 0, out.stderr
    loaded: dict[str, list[str]] = json.loads(out.stdout.strip().splitlines()[-1])
    return loaded


def _first_loaders(loaded: dict[str, list[str]]) -> dict[str, list[str]]:
    """Module -> the integrations importing it loaded first (the probe imports cumulatively)."""
    seen: set[str] = set()
    out = {}
    for name, mods in loaded.items():
        new = sorted(set(mods) - seen)
        if new:
            out[name] = new
        seen |= set(mods)
    return out


def test_the_engine_imports_no_integration() -> None:
    engine = _engine_modules()
    assert {"racecheck.runner", "racecheck.faults", "racecheck.invariants", "racecheck.trial_text"} <= set(engine)
    culprits = _first_loaders(_probe(engine))
    assert culprits == {}, f"engine modules loading an integration at import time (import it lazily): {culprits}"


def test_the_probe_sees_an_integration() -> None:
    # An edge module does load pydantic (and the pytest edge, pytest): the probe reports them.
    culprits = _first_loaders(_probe(["racecheck.runner", "racecheck.scenario.schema", "racecheck.pytest_options"]))
    assert "pydantic" in culprits.get("racecheck.scenario.schema", [])
    assert "pytest" in culprits.get("racecheck.pytest_options", [])
    assert "racecheck.runner" not in culprits
