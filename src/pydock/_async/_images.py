"""Images on Docker and Podman: ``client.images``. (Being built: see issue 4.)"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pydock._async._client import AsyncClient

__all__ = ["AsyncImages"]


class AsyncImages:
    """The engine's images (``client.images``)."""

    def __init__(self, client: AsyncClient) -> None:
        self._client = client
