"""No import cycle inside racecheck/: module-level and function-level imports alike.

Imports under ``if TYPE_CHECKING:`` do not run, so they do not count; importing ``a.b`` also
imports the package ``a`` implicitly, which does not count either; an explicit
``from racecheck import x`` or ``import racecheck`` does.
"""

from __future__ import annotations

import ast
from pathlib import Path

import racecheck

PACKAGE_ROOT = Path(racecheck.__file__).resolve().parent.parent


def _modules(root: Path, package: str) -> dict[str, tuple[Path, bool]]:
    """Dotted module name -> (file, is a package ``__init__``)."""
    out = {}
    for path in sorted((root / package).rglob("*.py")):
        parts = list(path.relative_to(root).with_suffix("").parts)
        is_pkg = parts[-1] == "__init__"
        if is_pkg:
            parts = parts[:-1]
        out[".".join(parts)] = (path, is_pkg)
    return out


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _runtime_imports(tree: ast.AST) -> list[ast.Import | ast.ImportFrom]:
    """Every import statement that can run (at module level or inside a function), skipping the
    body of ``if TYPE_CHECKING:`` (its ``else:`` branch runs, so it is kept)."""
    found: list[ast.Import | ast.ImportFrom] = []

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            for sub in node.orelse:
                visit(sub)
            return
        if isinstance(node, ast.Import | ast.ImportFrom):
            found.append(node)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return found


def import_graph(root: Path, package: str) -> dict[str, set[str]]:
    """Module -> the modules of ``package`` it imports (a name that is not a module resolves to the
    module that defines it, e.g. ``from racecheck.faults import crash`` -> ``racecheck.faults``)."""
    mods = _modules(root, package)

    def resolve(name: str) -> str | None:
        while name and name not in mods:
            name = name.rpartition(".")[0]
        return name or None

    graph: dict[str, set[str]] = {m: set() for m in mods}
    for mod, (path, is_pkg) in mods.items():
        here = mod if is_pkg else mod.rpartition(".")[0]
        for node in _runtime_imports(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            else:
                if node.level:
                    base = here
                    for _ in range(node.level - 1):
                        base = base.rpartition(".")[0]
                    origin = base + ("." + node.module if node.module else "")
                else:
                    origin = node.module or ""
                targets = [f"{origin}.{a.name}" if f"{origin}.{a.name}" in mods else origin for a in node.names]
            for target in targets:
                if target != package and not target.startswith(package + "."):
                    continue
                found = resolve(target)
                if found is not None and found != mod:
                    graph[mod].add(found)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []
    counter = 0
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                comp = []
                while True:
                    w = stack.pop()
                    on_stack.discard(w)
                    comp.append(w)
                    if w == node:
                        break
                if len(comp) > 1:
                    out.append(sorted(comp))
    return out


def _write(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def test_racecheck_has_no_import_cycle() -> None:
    graph = import_graph(PACKAGE_ROOT, "racecheck")
    # The analyser sees the package: known edges are there (a blind analyser would pass trivially).
    assert "racecheck.verdict" in graph["racecheck.result"]
    assert "racecheck.trial_text" in graph["racecheck.result"]  # a function-level import
    assert "racecheck.pytest_options" in graph["racecheck.scenario.pytest_collect"]
    found = cycles(graph)
    assert found == [], "import cycles inside racecheck/ (move the shared code to a lower module): " + "; ".join(
        " <-> ".join(c) for c in found)


def test_the_analyser_reports_a_cycle(tmp_path: Path) -> None:
    _write(tmp_path, {
        "pkg/__init__.py": "",
        "pkg/a.py": "from .b import thing\n",
        "pkg/b.py": "def thing():\n    from pkg.sub import c\n    return c\n",  # function level, absolute
        "pkg/sub/__init__.py": "",
        "pkg/sub/c.py": "from .. import a\n",  # relative, two levels
        "pkg/x.py": "import pkg.y\n",
        "pkg/y.py": "from pkg import x\n",  # explicit import of a sibling through the package
    })
    graph = import_graph(tmp_path, "pkg")
    assert graph["pkg.sub.c"] == {"pkg.a"}
    assert sorted(cycles(graph)) == [["pkg.a", "pkg.b", "pkg.sub.c"], ["pkg.x", "pkg.y"]]


def test_the_analyser_finds_no_cycle_where_none_runs(tmp_path: Path) -> None:
    _write(tmp_path, {
        "pkg/__init__.py": "from .a import A\n",
        "pkg/a.py": "from typing import TYPE_CHECKING\nimport os\n"
                    "if TYPE_CHECKING:\n    from .b import B\nclass A: ...\n",
        "pkg/b.py": "from .a import A\nimport typing\nif typing.TYPE_CHECKING:\n    from pkg.c import C\n"
                    "class B(A): ...\n",
        "pkg/c.py": "from pkg.b import B\n",  # importing pkg.b implicitly imports pkg: not a cycle
    })
    graph = import_graph(tmp_path, "pkg")
    assert graph == {"pkg": {"pkg.a"}, "pkg.a": set(), "pkg.b": {"pkg.a"}, "pkg.c": {"pkg.b"}}
    assert cycles(graph) == []


def test_an_else_branch_of_type_checking_runs(tmp_path: Path) -> None:
    _write(tmp_path, {
        "pkg/__init__.py": "",
        "pkg/a.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    pass\nelse:\n    from . import b\n",
        "pkg/b.py": "from . import a\n",
    })
    assert cycles(import_graph(tmp_path, "pkg")) == [["pkg.a", "pkg.b"]]
