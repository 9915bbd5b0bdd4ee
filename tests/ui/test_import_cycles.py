"""No two modules of ui/ import each other, directly or round a longer circle.

Imports are read from the source (nothing is imported). The first check is
the one that matters at run time: module-level imports, ``if TYPE_CHECKING:``
ones left out. The next ones also count imports made inside functions, so a
lazy import cannot be hiding a circle (lazy imports that keep start-up fast stay
allowed, as long as they would not close one), and then type-only imports, so
two modules cannot lean on each other through their annotations either.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("ui",)


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(
    node: ast.AST, *, nested: bool, typing: bool = False
) -> list[ast.Import | ast.ImportFrom]:
    """The import statements under ``node``: module level, or also inside functions
    (``nested``), and with those under ``if TYPE_CHECKING:`` (``typing``)."""
    found: list[ast.Import | ast.ImportFrom] = []
    for child in ast.iter_child_nodes(node):
        if isinstance(child, (ast.Import, ast.ImportFrom)):
            found.append(child)
        elif isinstance(child, ast.If) and _is_type_checking(child) and not typing:
            found.extend(i for n in child.orelse for i in _imports(n, nested=nested))
        elif isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            if nested:
                found.extend(_imports(child, nested=nested, typing=typing))
        else:
            found.extend(_imports(child, nested=nested, typing=typing))
    return found


def _targets(module: str, statement: ast.Import | ast.ImportFrom, known: set[str]) -> set[str]:
    """The modules of ``known`` that ``statement`` (in ``module``) imports."""
    if isinstance(statement, ast.Import):
        names = [alias.name for alias in statement.names]
    else:
        base = statement.module or ""
        if statement.level:
            package = module.split(".")[: -statement.level] if statement.level else []
            base = ".".join([*package, base] if base else package)
        names = [base, *(f"{base}.{alias.name}" for alias in statement.names)]
    found = set()
    for name in names:
        while name and name not in known:
            name = name.rpartition(".")[0]
        if name and name != module and name not in PACKAGES:
            found.add(name)
    return found


def import_graph(*, nested: bool, typing: bool = False) -> dict[str, set[str]]:
    files = {_module_name(p): p for pkg in PACKAGES for p in (ROOT / pkg).rglob("*.py")}
    known = set(files)
    graph: dict[str, set[str]] = {}
    for module, path in files.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        graph[module] = set()
        for statement in _imports(tree, nested=nested, typing=typing):
            graph[module] |= _targets(module, statement, known)
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import circle as a list of modules (first = last), or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for target in sorted(graph.get(node, ())):
            if state.get(target) == 1:
                return [*path[path.index(target) :], target]
            if target not in state and (cycle := visit(target)):
                return cycle
        path.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


@pytest.mark.parametrize(
    ("nested", "typing"),
    [(False, False), (True, False), (True, True)],
    ids=["module level", "with lazy imports", "with type-checking imports"],
)
def test_ui_modules_import_no_circle(nested: bool, typing: bool) -> None:
    graph = import_graph(nested=nested, typing=typing)
    assert "ui.conversation_window" in graph  # the scan found the package
    cycle = find_cycle(graph)
    assert cycle is None, " -> ".join(cycle or [])


def test_the_cycle_finder_finds_a_circle() -> None:
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_type_checking_imports_are_left_out_and_lazy_ones_counted() -> None:
    tree = ast.parse(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    import ui.x\n"
        "def f():\n    import ui.y\n"
    )
    module_level = {ast.unparse(i) for i in _imports(tree, nested=False)}
    everything = {ast.unparse(i) for i in _imports(tree, nested=True)}
    assert module_level == {"from typing import TYPE_CHECKING"}
    assert everything == {"from typing import TYPE_CHECKING", "import ui.y"}
