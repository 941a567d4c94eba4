"""The import graph of shared/: the platform depends on no domain, and no two domains depend on each other.

Imports under `if TYPE_CHECKING:` are annotations only and do not count.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _package(module: str) -> str | None:
    parts = module.split(".")
    if parts[0] != "shared" or len(parts) < 2 or parts[1] == "openapi":
        return None
    return parts[1]


def _runtime_imports(tree: ast.AST) -> list[str]:
    names: list[str] = []

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                for orelse in child.orelse:
                    visit(orelse)
                continue
            if isinstance(child, ast.ImportFrom) and child.module:
                names.append(child.module)
                names.extend(f"{child.module}.{alias.name}" for alias in child.names)
            elif isinstance(child, ast.Import):
                names.extend(alias.name for alias in child.names)
            visit(child)

    visit(tree)
    return names


def package_graph() -> dict[str, set[str]]:
    """Package → the packages of shared/ it imports at run time."""
    graph: dict[str, set[str]] = defaultdict(set)
    for path in (ROOT / "shared").rglob("*.py"):
        source = _package(".".join(path.relative_to(ROOT).with_suffix("").parts))
        if source is None:
            continue
        for name in _runtime_imports(ast.parse(path.read_text(encoding="utf-8"))):
            target = _package(name)
            if target and target != source:
                graph[source].add(target)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every elementary cycle's node list (each found once per starting node)."""
    found = []
    for start in sorted(graph):
        stack = [(start, [start])]
        while stack:
            node, path = stack.pop()
            for following in sorted(graph.get(node, ())):
                if following == start:
                    found.append(path)
                elif following not in path and following > start:
                    stack.append((following, [*path, following]))
    return found


def test_the_platform_depends_on_no_domain():
    assert package_graph().get("platform", set()) == set()


def test_no_two_domains_depend_on_each_other():
    assert cycles(package_graph()) == []
