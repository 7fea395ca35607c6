"""How requests address one container: its API paths, TTY, archive paths and stat header."""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from typing import Any

import httpx

from pydock._async._session import AsyncEngineSession
from pydock._core.archive import escape_glob
from pydock._core.containers import container_fields_from_inspect
from pydock._core.dialect import quote_path

__all__ = ["STAT_HEADER", "ContainerRef", "decode_stat", "request_timeout"]

STAT_HEADER = "X-Docker-Container-Path-Stat"


def request_timeout(read: float | None) -> httpx.Timeout:
    """Timeouts for a container request that may run long (``read`` seconds; None: no limit)."""
    return httpx.Timeout(connect=10.0, read=read, write=60.0, pool=60.0)


def decode_stat(header: str | None) -> Mapping[str, Any] | None:
    """The path stat the engine sends in ``X-Docker-Container-Path-Stat`` (None if unreadable)."""
    if not header:
        return None
    try:
        value = json.loads(base64.b64decode(header))
    except ValueError:
        return None
    return value if isinstance(value, Mapping) else None


class ContainerRef:
    """One container as requests address it: its session, its API paths, whether it has a TTY.

    What a container's streams and execs need of it, without the snapshot.
    """

    def __init__(self, session: AsyncEngineSession, container_id: str, tty: bool | None) -> None:
        self.session = session
        self.id = container_id
        self.tty = tty

    def path(self, suffix: str = "") -> str:
        """The container's API path, with ``suffix`` (``"/logs"``) added."""
        return f"/containers/{quote_path(self.id)}{suffix}"

    async def is_tty(self) -> bool:
        """Whether the container has a TTY (asked of the engine when the snapshot lacks it).

        Raises:
            ContainerNotFound: It no longer exists.
        """
        if self.tty is not None:
            return self.tty
        payload = await self.session.json("GET", self.path("/json"), resource="container")
        return bool(container_fields_from_inspect(payload)["tty"])

    async def archive_path(self, path: str) -> str:
        """``path`` as the engine's archive endpoint reads it (Podman's is a glob)."""
        await self.session.connect()
        return escape_glob(path) if self.session.dialect.backend == "podman" else path
