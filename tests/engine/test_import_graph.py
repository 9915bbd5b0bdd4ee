"""The engine's modules import each other in one direction only (no cycles).

Every ``engine.*`` import counts, also those only for type checking: a service
may know another's public type, never in both directions.
"""

from __future__ import annotations

import ast
from pathlib import Path

import engine

ENGINE_DIR = Path(engine.__file__).parent


def module_name(path: Path) -> str:
    """ "session", "calls.two_party_calls", "media" (a package's __init__)."""
    parts = list(path.relative_to(ENGINE_DIR).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def engine_imports(path: Path, modules: set[str]) -> set[str]:
    """The engine modules ``path`` imports (as names relative to the engine package)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
        else:
            continue
        for name in names:
            parts = name.split(".")
            if parts[0] == "engine" and (module := ".".join(parts[1:])) in modules:
                found.add(module)
    found.discard(module_name(path))
    return found


def import_graph() -> dict[str, set[str]]:
    paths = sorted(ENGINE_DIR.rglob("*.py"))
    modules = {module_name(path) for path in paths} - {""}
    return {module_name(path): engine_imports(path, modules) for path in paths}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle as a list of modules (first == last), or None."""
    done: set[str] = set()

    def visit(module: str, path: list[str]) -> list[str] | None:
        if module in path:
            return [*path[path.index(module) :], module]
        if module in done:
            return None
        for imported in sorted(graph.get(module, ())):
            if cycle := visit(imported, [*path, module]):
                return cycle
        done.add(module)
        return None

    for module in sorted(graph):
        if cycle := visit(module, []):
            return cycle
    return None


def test_engine_modules_import_in_one_direction():
    cycle = find_cycle(import_graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def test_the_checker_sees_a_cycle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_services_build_on_the_session_not_on_the_engine():
    graph = import_graph()
    for service in ("session", "presences", "conversations", "conferences", "meeting_presence"):
        assert "engine" not in graph[service], f"{service} imports the composition root"
    assert graph["session"].isdisjoint({"presences", "conversations", "conferences"})
    # Calls reach their media through the port, never the media layer itself.
    assert "calls.two_party_calls" in graph and "media.call_media" in graph
    assert not any(m.startswith("media") for m in graph["calls.two_party_calls"])
