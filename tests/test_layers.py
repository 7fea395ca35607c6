"""The I/O layers' import rules, read from the source with ``ast``.

In ``pydock._async`` (and its generated twin ``pydock._sync``): no import
cycle between modules, no module imports another module's ``_private`` names,
and no pydock import hides inside a function (the old way of dodging cycles).
Imports under ``if TYPE_CHECKING:`` count: a cycle for the type checker is
still a cycle in the design.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parent.parent / "src" / "pydock"
PACKAGES = ["_async", "_sync"]


def _modules(package: str) -> dict[str, ast.Module]:
    return {
        f"pydock.{package}.{path.stem}": ast.parse(path.read_text(), str(path))
        for path in sorted((SRC / package).glob("*.py"))
        if path.stem != "__init__"
    }


def _imports(tree: ast.Module) -> Iterator[tuple[ast.ImportFrom | ast.Import, bool]]:
    """Every import in the module, and whether it sits inside a function."""

    def walk(
        node: ast.AST, in_function: bool
    ) -> Iterator[tuple[ast.ImportFrom | ast.Import, bool]]:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.Import, ast.ImportFrom)):
                yield child, in_function
            inside = in_function or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef))
            yield from walk(child, inside)

    yield from walk(tree, False)


def _graph(package: str) -> dict[str, set[str]]:
    modules = _modules(package)
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, tree in modules.items():
        for node, _ in _imports(tree):
            targets = (
                [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else [a.name for a in node.names]
            )
            graph[name].update(t for t in targets if t in modules and t != name)
    return graph


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle of the graph (as a path that closes on itself), or None."""
    done: set[str] = set()

    def visit(node: str, path: list[str]) -> list[str] | None:
        if node in path:
            return [*path[path.index(node) :], node]
        if node in done:
            return None
        for nxt in sorted(graph[node]):
            found = visit(nxt, [*path, node])
            if found:
                return found
        done.add(node)
        return None

    for start in sorted(graph):
        found = visit(start, [])
        if found:
            return found
    return None


@pytest.mark.parametrize("package", PACKAGES)
def test_no_import_cycle(package: str) -> None:
    assert _cycle(_graph(package)) is None


@pytest.mark.parametrize("package", PACKAGES)
def test_no_module_imports_another_modules_private_names(package: str) -> None:
    offences = []
    for name, tree in _modules(package).items():
        for node, _ in _imports(tree):
            if not isinstance(node, ast.ImportFrom) or not (node.module or "").startswith(
                "pydock."
            ):
                continue
            if node.module == name:
                continue
            offences += [
                f"{name} imports {node.module}.{alias.name}"
                for alias in node.names
                if alias.name.startswith("_") and not alias.name.startswith("__")
            ]
    assert offences == []


@pytest.mark.parametrize("package", PACKAGES)
def test_no_pydock_import_inside_a_function(package: str) -> None:
    offences = []
    for name, tree in _modules(package).items():
        for node, in_function in _imports(tree):
            if not in_function:
                continue
            targets = (
                [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else [a.name for a in node.names]
            )
            offences += [
                f"{name} line {node.lineno}: {t}" for t in targets if t.startswith("pydock")
            ]
    assert offences == []


def test_the_checks_see_a_cycle() -> None:
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None
