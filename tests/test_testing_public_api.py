"""`pydock.testing`'s public surface: listed once, sorted, importable and lazy.

`pydock/testing/__init__.py` lists the surface once, in `_EXPORTS` (name -> the
module that defines it). The `if TYPE_CHECKING:` import block that type checkers
read is checked here against that table, and `import pydock.testing` is checked to
load nothing of the toolkit until a name is used.
"""

from __future__ import annotations

import ast
import importlib
import subprocess
import sys
from pathlib import Path

import pytest

import pydock.testing

_INIT = Path(pydock.testing.__file__)


def _type_checking_imports() -> dict[str, str]:
    """The names the package imports under `if TYPE_CHECKING:`, name -> module."""
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
            assert alias.asname == alias.name, f"write `{alias.name} as {alias.name}`"
            assert alias.name not in found, f"{alias.name} imported twice"
            found[alias.name] = stmt.module
    return found


def _expected_block() -> str:
    exports = pydock.testing._EXPORTS
    lines = [
        f"    from {module} import {name} as {name}"
        for name, module in sorted(exports.items(), key=lambda item: item[::-1])
    ]
    return "if TYPE_CHECKING:\n" + "\n".join(lines)


def test_type_checking_block_matches_the_table() -> None:
    assert _type_checking_imports() == pydock.testing._EXPORTS, (
        "the TYPE_CHECKING block in src/pydock/testing/__init__.py drifted from _EXPORTS; "
        "replace it with the block below:\n\n" + _expected_block()
    )


def test_the_table_is_sorted_and_names_where_each_name_lives() -> None:
    exports = pydock.testing._EXPORTS
    assert list(exports) == sorted(exports)
    for name, module in exports.items():
        assert getattr(importlib.import_module(module), name) is getattr(pydock.testing, name)


def test_all_is_the_table() -> None:
    assert pydock.testing.__all__ == sorted(pydock.testing._EXPORTS)
    assert set(pydock.testing.__all__) <= set(dir(pydock.testing))


def test_async_twins_are_the_async_functions() -> None:
    from pydock._async import _testing as async_testing

    for name in ("remove_session", "remove_stale", "run_container", "wait_for"):
        assert getattr(pydock.testing, f"async_{name}") is getattr(async_testing, name)


def test_unknown_names_raise_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'for_logs'"):
        pydock.testing.for_logs  # type: ignore[attr-defined]  # noqa: B018


def test_import_pydock_testing_stays_lazy() -> None:
    # A fresh interpreter: the pytest plugin relies on the package loading nothing
    # (and its session module staying unimported) until a test uses a name.
    code = (
        "import sys, pydock.testing\n"
        "print(sorted(m for m in sys.modules if m.startswith("
        "('pydock.testing.', 'pydock._async', 'pydock._sync', 'httpx', 'anyio'))))\n"
        "pydock.testing.for_log\n"
        "print('pydock.testing._waits' in sys.modules, 'httpx' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    assert out.stdout.split("\n")[:2] == ["[]", "True False"]
