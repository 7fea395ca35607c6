"""The public surface: `pydock.__all__` is sorted, complete and importable.

`pydock/__init__.py` lists the surface once, in `_EXPORTS` (name -> module). The
`if TYPE_CHECKING:` import block that type checkers read is checked here against
that table, and `import pydock` is checked to stay lazy.
"""

from __future__ import annotations

import ast
import importlib
import subprocess
import sys
from pathlib import Path

import pytest

import pydock

_INIT = Path(pydock.__file__)


def _type_checking_imports() -> dict[str, str]:
    """The names `pydock/__init__.py` imports under `if TYPE_CHECKING:`, name -> module."""
    tree = ast.parse(_INIT.read_text(encoding="utf-8"))
    blocks = [
        node
        for node in tree.body
        if isinstance(node, ast.If)
        and isinstance(node.test, ast.Name)
        and node.test.id == "TYPE_CHECKING"
    ]
    assert len(blocks) == 1, "expected exactly one `if TYPE_CHECKING:` block"
    found: dict[str, str] = {}
    for stmt in blocks[0].body:
        assert isinstance(stmt, ast.ImportFrom), ast.unparse(stmt)
        assert stmt.module is not None, ast.unparse(stmt)
        assert stmt.level == 0, ast.unparse(stmt)
        for alias in stmt.names:
            # `X as X` is the explicit re-export form mypy --strict and pyright honour
            assert alias.asname == alias.name, f"write `{alias.name} as {alias.name}`"
            assert alias.name not in found, f"{alias.name} imported twice"
            found[alias.name] = stmt.module
    return found


def _expected_block() -> str:
    lines = [
        f"    from {module} import {name} as {name}"
        for name, module in sorted(pydock._EXPORTS.items(), key=lambda item: item[::-1])
    ]
    return "if TYPE_CHECKING:\n" + "\n".join(lines)


def test_type_checking_block_matches_the_table() -> None:
    assert _type_checking_imports() == pydock._EXPORTS, (
        "the TYPE_CHECKING block in src/pydock/__init__.py drifted from _EXPORTS; replace it "
        "with the block below and run `ruff check --fix src/pydock/__init__.py`:\n\n"
        + _expected_block()
    )


def test_the_table_is_sorted_and_names_where_each_name_lives() -> None:
    assert list(pydock._EXPORTS) == sorted(pydock._EXPORTS)
    for name, module in pydock._EXPORTS.items():
        assert getattr(importlib.import_module(module), name) is getattr(pydock, name), name


def test_all_is_sorted_and_importable() -> None:
    assert list(pydock.__all__) == sorted(pydock.__all__)
    assert set(pydock.__all__) == {*pydock._EXPORTS, "__version__", "errors"}
    for name in pydock.__all__:
        assert hasattr(pydock, name), name


def test_public_names_are_exported() -> None:
    public = {n for n in dir(pydock) if not n.startswith("_")} | {"__version__"}
    assert set(pydock.__all__) <= public
    for name in ("Client", "AsyncClient", "RetryPolicy", "TLSConfig", "errors"):
        assert name in pydock.__all__


def test_unknown_names_raise_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'Clinet'"):
        pydock.Clinet  # type: ignore[attr-defined]  # noqa: B018
    assert not hasattr(pydock, "_client")


def test_import_pydock_stays_lazy() -> None:
    # A fresh interpreter: this one has long since imported everything.
    code = (
        "import sys, pydock\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in "
        "('httpx', 'anyio', 'attrs', 'tenacity', 'httpcore')"
        " or m.startswith(('pydock._async', 'pydock._sync', 'pydock._core')))\n"
        "print(heavy, pydock.errors.PydockError.__name__, pydock.__version__ == "
        "sys.modules['pydock._version'].__version__)\n"
        "pydock.Client\n"
        "print('httpx' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    assert out.stdout.split("\n")[:2] == ["[] PydockError True", "True"]


def test_version_is_a_string() -> None:
    assert isinstance(pydock.__version__, str)
    assert pydock.__version__.count(".") == 2


def test_sync_and_async_clients_have_the_same_methods() -> None:
    def methods(cls: type) -> set[str]:
        return {n for n in dir(cls) if not n.startswith("_")}

    sync_names = methods(pydock.Client)
    async_names = methods(pydock.AsyncClient)
    assert sync_names - {"close"} == async_names - {"aclose"}
