"""What a test asks to run or gets back: container settings, networks and volumes."""

from __future__ import annotations

import attrs

from pydock._core.containers import ContainerSettings

__all__ = ["Network", "RunOptions", "Volume"]


class RunOptions(ContainerSettings, total=False):
    """Container settings :func:`run_container` passes on to ``containers.run``.

    The same meaning as there; ``name``, ``ports``, ``environment`` and
    ``labels`` are named arguments of :func:`run_container` itself.
    """


@attrs.frozen
class Network:
    """A network made for a test (removed with its session).

    Attributes:
        id: The network id.
        name: Its name (give it as ``network_mode=`` to attach a container).
    """

    id: str
    name: str


@attrs.frozen
class Volume:
    """A named volume made for a test (removed with its session).

    Attributes:
        name: Its name (use it in ``volumes=["NAME:/path"]``).
        mountpoint: Where the engine keeps its data on the engine's host.
    """

    name: str
    mountpoint: str
