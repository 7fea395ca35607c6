"""The public surface: `pydock.__all__` is sorted, complete and importable."""

from __future__ import annotations

import pydock


def test_all_is_sorted_and_importable() -> None:
    assert list(pydock.__all__) == sorted(pydock.__all__)
    for name in pydock.__all__:
        assert hasattr(pydock, name), name


def test_public_names_are_exported() -> None:
    public = {n for n in dir(pydock) if not n.startswith("_")} | {"__version__"}
    # submodules imported as a side effect are not part of the surface
    public -= {"errors"} - set(pydock.__all__)
    assert set(pydock.__all__) <= public
    for name in ("Client", "AsyncClient", "RetryPolicy", "TLSConfig", "errors"):
        assert name in pydock.__all__


def test_version_is_a_string() -> None:
    assert isinstance(pydock.__version__, str)
    assert pydock.__version__.count(".") == 2


def test_sync_and_async_clients_have_the_same_methods() -> None:
    def methods(cls: type) -> set[str]:
        return {n for n in dir(cls) if not n.startswith("_")}

    sync_names = methods(pydock.Client)
    async_names = methods(pydock.AsyncClient)
    assert sync_names - {"close"} == async_names - {"aclose"}
