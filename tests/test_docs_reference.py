"""The API reference (docs/reference/*.md) documents every public name, each once.

A page documents a name with a mkdocstrings entry, a line `::: pydock.Name` (or
`::: pydock.testing.Name`). The entries must be exactly the public names of
`pydock` and `pydock.testing`, except:

- exception classes: every one is documented once, on the errors page, whose
  `::: pydock.errors` entry renders the whole `pydock.errors` module (the tree
  of every error pydock raises); the same classes are not repeated elsewhere;
- `pydock.errors` itself, the module behind that entry.
"""

from __future__ import annotations

import importlib
import re
from collections import Counter
from pathlib import Path

import pydock
import pydock.testing

REFERENCE = Path(__file__).resolve().parents[1] / "docs" / "reference"
_ENTRY = re.compile(r"^:::\s+(pydock(?:\.[A-Za-z_][A-Za-z0-9_]*)+)\s*$", re.MULTILINE)


def _entries() -> list[tuple[str, str]]:
    """Every `::: identifier` entry of the reference pages, as (page, identifier)."""
    return [
        (page.name, match[1])
        for page in sorted(REFERENCE.glob("*.md"))
        for match in _ENTRY.finditer(page.read_text(encoding="utf-8"))
    ]


def _is_exception(value: object) -> bool:
    return isinstance(value, type) and issubclass(value, BaseException)


def _public_names() -> set[str]:
    names = set()
    for module in (pydock, pydock.testing):
        for name in module.__all__:
            if name == "errors" or _is_exception(getattr(module, name)):
                continue
            names.add(f"{module.__name__}.{name}")
    return names


def _resolve(identifier: str) -> object:
    module, _, name = identifier.rpartition(".")
    return getattr(importlib.import_module(module), name)


def test_the_reference_documents_every_public_name() -> None:
    documented = {identifier for _, identifier in _entries()} - {"pydock.errors"}
    public = _public_names()
    assert sorted(public - documented) == [], "public names missing from docs/reference/"
    assert sorted(documented - public) == [], "reference entries that are not public names"


def test_each_name_is_documented_once() -> None:
    counts = Counter(identifier for _, identifier in _entries())
    assert [identifier for identifier, n in counts.items() if n > 1] == []


def test_errors_are_documented_on_the_errors_page() -> None:
    assert ("errors.md", "pydock.errors") in _entries()
    documented = {identifier for _, identifier in _entries()}
    for identifier in documented - {"pydock.errors"}:
        assert not _is_exception(_resolve(identifier)), f"{identifier}: document it in errors"


def test_every_entry_names_an_object_that_exists() -> None:
    for page, identifier in _entries():
        assert _resolve(identifier) is not None, f"{page}: {identifier}"
