"""The `pipelines` package has no import cycle, and every module in it imports.

The graph is read from the source (ast), not from a running interpreter, so a cycle that happens
to work in today's import order is still found. An edge `a -> b` means module `a` imports module
`b`: `import pipelines.x.y` and `from pipelines.x import y` (when `y` is a module) point at
`pipelines.x.y`; `from pipelines.x import name` points at `pipelines.x`. Importing a submodule
also runs its parent packages' `__init__`, but Python resolves that order itself, so parents are
not edges (the convention of import-linter and grimp). Imports under `if TYPE_CHECKING:` never
run and are left out.

Module-level imports run when the module is imported and are the graph that must be acyclic.
Imports inside a function run on the first call; they are a graph of their own and are checked
separately, because a deferred import is the usual way a cycle is hidden rather than removed.
"""

from __future__ import annotations

import ast
import importlib
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from pipelines.settings import REPO_ROOT

PACKAGE = "pipelines"


@dataclass
class ImportGraph:
    modules: dict[str, Path]
    module_level: dict[str, set[str]] = field(default_factory=dict)
    function_level: dict[str, set[str]] = field(default_factory=dict)


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imported_names(node: ast.Import | ast.ImportFrom, current: str, is_package: bool) -> list:
    """Dotted names a statement imports, relative imports resolved against `current`."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    base = node.module or ""
    if node.level:
        parts = current.split(".") if is_package else current.split(".")[:-1]
        parts = parts[: len(parts) - (node.level - 1)]
        base = ".".join([*parts, base] if base else parts)
    return [base, *(f"{base}.{alias.name}" for alias in node.names)]


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports_of(
    tree: ast.Module, name: str, is_package: bool, modules: dict[str, Path]
) -> tuple[set[str], set[str]]:
    """(module-level, function-level) modules of the package that `tree` imports."""
    top: set[str] = set()
    deferred: set[str] = set()

    def visit(node: ast.AST, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
                visit(child, True)
            elif isinstance(child, ast.If) and _is_type_checking(child.test):
                for stmt in child.orelse:
                    visit(ast.Module(body=[stmt], type_ignores=[]), in_function)
            elif isinstance(child, (ast.Import, ast.ImportFrom)):
                names = _imported_names(child, name, is_package)
                if isinstance(child, ast.ImportFrom):
                    # each imported name that is a submodule, else the module named
                    hits = [n if n in modules else names[0] for n in names[1:]]
                else:
                    hits = names
                for n in hits:
                    t = _longest_module_prefix(n, modules)
                    if t is not None and t != name:
                        (deferred if in_function else top).add(t)
            else:
                visit(child, in_function)

    visit(tree, False)
    return top, deferred - top


def build_graph(root: Path, package: str = PACKAGE) -> ImportGraph:
    modules = {module_name(p, root): p for p in sorted((root / package).rglob("*.py"))}
    graph = ImportGraph(modules)
    for name, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        top, deferred = _imports_of(tree, name, path.name == "__init__.py", modules)
        graph.module_level[name] = top
        graph.function_level[name] = deferred
    return graph


def _longest_module_prefix(name: str, modules: dict[str, Path]) -> str | None:
    parts = name.split(".")
    while parts:
        candidate = ".".join(parts)
        if candidate in modules:
            return candidate
        parts.pop()
    return None


def find_cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Every strongly connected component of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []
    counter = 0
    for start in sorted(edges):
        if start in index:
            continue
        work = [(start, iter(sorted(edges.get(start, ()))))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            v, children = work[-1]
            for w in children:
                if w not in index:
                    index[w] = low[w] = counter
                    counter += 1
                    stack.append(w)
                    on_stack.add(w)
                    work.append((w, iter(sorted(edges.get(w, ())))))
                    break
                if w in on_stack:
                    low[v] = min(low[v], index[w])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[v])
                if low[v] == index[v]:
                    component = []
                    while True:
                        w = stack.pop()
                        on_stack.discard(w)
                        component.append(w)
                        if w == v:
                            break
                    if len(component) > 1:
                        cycles.append(sorted(component))
    return cycles


def _describe(cycles: list[list[str]], graph: ImportGraph) -> str:
    return "; ".join(
        " <-> ".join(str(graph.modules[m].relative_to(REPO_ROOT)) for m in c) for c in cycles
    )


@pytest.fixture(scope="module")
def graph() -> ImportGraph:
    return build_graph(REPO_ROOT)


def test_the_graph_sees_the_package(graph):
    # Known edges, so an empty or wrongly resolved graph cannot pass the cycle tests.
    assert len(graph.modules) > 50
    assert "pipelines.classify.reference" in graph.module_level["pipelines.classify.pd"]
    assert "pipelines.warehouse.db" in graph.module_level["pipelines.assets.sql_models"]
    assert "pipelines.classify.severity" in graph.module_level["pipelines.classify.lead"]


def test_no_import_cycle_at_module_level(graph):
    cycles = find_cycles(graph.module_level)
    assert not cycles, f"import cycles: {_describe(cycles, graph)}"


def test_no_cycle_through_function_level_imports(graph):
    """A deferred import may make a module cheaper to load; it may not stand in for a cycle."""
    both = {m: graph.module_level[m] | graph.function_level[m] for m in graph.modules}
    cycles = find_cycles(both)
    assert not cycles, f"import cycles through function-level imports: {_describe(cycles, graph)}"


def _write_package(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text, encoding="utf-8")


def test_detector_finds_cycles_of_every_import_form(tmp_path):
    _write_package(
        tmp_path,
        {
            "pkg/__init__.py": "",
            "pkg/a.py": "from pkg.b import thing\n",
            "pkg/b.py": "from . import c\nthing = 1\n",
            "pkg/c.py": "import pkg.a\n",
            "pkg/sub/__init__.py": "",
            "pkg/sub/d.py": "from ..sub import e\n",
            "pkg/sub/e.py": (
                "from typing import TYPE_CHECKING\n"
                "if TYPE_CHECKING:\n    from pkg.sub import d\n"
                "def f():\n    from pkg.sub.d import x\n"
            ),
            "pkg/leaf.py": "import os\nfrom pkg import a\n",
        },
    )
    g = build_graph(tmp_path, "pkg")
    assert find_cycles(g.module_level) == [["pkg.a", "pkg.b", "pkg.c"]]
    assert g.function_level["pkg.sub.e"] == {"pkg.sub.d"}
    both = {m: g.module_level[m] | g.function_level[m] for m in g.modules}
    assert find_cycles(both) == [["pkg.a", "pkg.b", "pkg.c"], ["pkg.sub.d", "pkg.sub.e"]]


MODULES = sorted(build_graph(REPO_ROOT).modules)


@pytest.mark.parametrize("name", MODULES)
def test_every_module_imports(name):
    module = importlib.import_module(name)
    assert module.__name__ == name
