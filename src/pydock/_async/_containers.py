"""Containers on Docker and Podman: ``client.containers``. (Being built: see issue 5.)"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pydock._async._client import AsyncClient

__all__ = ["AsyncContainers"]


class AsyncContainers:
    """The engine's containers (``client.containers``)."""

    def __init__(self, client: AsyncClient) -> None:
        self._client = client
