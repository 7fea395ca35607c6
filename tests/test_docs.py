"""The documentation's examples run, against each real engine.

Every ```python block of the pages listed here is a complete program; it runs
with ``ENGINE_URL`` (the engine under test), ``BASE`` (a base image there),
``REGISTRY`` (a plain-HTTP registry on loopback) and ``AUTH_REGISTRY`` with
``AUTH_USER`` and ``AUTH_PASSWORD`` (a registry that wants credentials)
defined. Fragments that cannot run here (Docker Hub, remote engines) are
marked ```py and are not run.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from tests.conftest import Engine

DOCS = Path(__file__).resolve().parent.parent / "docs"
RUNNABLE_PAGES = ["quickstart.md", "images.md", "containers.md", "build.md", "builder.md"]
BLOCK = re.compile(r"^```python\n(.*?)^```", re.S | re.M)


def blocks() -> list[tuple[str, int, str]]:
    found = []
    for page in RUNNABLE_PAGES:
        for number, match in enumerate(BLOCK.finditer((DOCS / page).read_text()), 1):
            found.append((page, number, match.group(1)))
    return found


def params() -> list[object]:
    return [pytest.param(*block, id=f"{block[0]}-{block[1]}") for block in blocks()]


def test_the_runnable_pages_have_examples() -> None:
    for page in RUNNABLE_PAGES:
        assert any(p == page for p, _, _ in blocks()), f"{page} has no ```python block"


@pytest.mark.parametrize(("page", "number", "code"), params())
def test_example_runs(page: str, number: int, code: str, engine: Engine) -> None:
    namespace = {
        "__name__": f"docs_{page}_{number}",
        "ENGINE_URL": engine.url,
        "BASE": os.environ.get("PYDOCK_TEST_IMAGE", "pydock-test/busybox:1"),
        "REGISTRY": os.environ.get("PYDOCK_REGISTRY", "127.0.0.1:5000"),
        "AUTH_REGISTRY": os.environ.get("PYDOCK_AUTH_REGISTRY", "127.0.0.1:5001"),
        "AUTH_USER": os.environ.get("PYDOCK_AUTH_REGISTRY_USER", "pydock"),
        "AUTH_PASSWORD": os.environ.get("PYDOCK_AUTH_REGISTRY_PASSWORD", "pydock-secret"),
    }
    exec(compile(code, f"docs/{page} (block {number})", "exec"), namespace)
