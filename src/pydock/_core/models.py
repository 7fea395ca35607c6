"""Plain data models read from engine answers (no I/O): frozen attrs snapshots.

Each has a ``from_api(payload)`` constructor and keeps the raw JSON in ``attrs``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any

import attrs

from pydock._core.dialect import Backend

__all__ = ["EngineInfo", "EngineVersion", "parse_time"]


def parse_time(value: object) -> datetime | None:
    """Parse an engine timestamp: RFC 3339 with nanoseconds, or Unix seconds.

    Docker writes ``2026-11-28T02:19:00.123456789Z``; Python's parser takes at
    most microseconds, so extra digits are cut. ``0001-01-01T00:00:00Z`` (Go's
    zero time) gives None.
    """
    if value is None or value == "":
        return None
    if isinstance(value, (int, float)):
        if value <= 0:
            return None
        return datetime.fromtimestamp(value, tz=timezone.utc)
    if not isinstance(value, str):
        return None
    text = value.strip()
    if text.startswith("0001-01-01"):
        return None
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    # Cut fractional seconds to 6 digits.
    dot = text.find(".")
    if dot != -1:
        end = dot + 1
        while end < len(text) and text[end].isdigit():
            end += 1
        frac = text[dot + 1 : end][:6]
        text = text[:dot] + ("." + frac if frac else "") + text[end:]
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed


@attrs.frozen
class EngineVersion:
    """What ``GET /version`` says about the engine.

    Attributes:
        backend: ``"docker"`` or ``"podman"``.
        version: The engine's own version (``20.10.24``, ``4.3.1``).
        api_version: The newest Docker API version the engine speaks.
        min_api_version: The oldest it still speaks.
        os: Operating system of the engine host.
        arch: CPU architecture of the engine host.
        kernel_version: Kernel of the engine host.
        components: Component name → version.
        attrs: The raw answer.
    """

    backend: Backend
    version: str
    api_version: str
    min_api_version: str | None
    os: str
    arch: str
    kernel_version: str
    components: Mapping[str, str]
    attrs: Mapping[str, Any] = attrs.field(repr=False)

    @classmethod
    def from_api(cls, payload: Mapping[str, Any]) -> EngineVersion:
        """Build from a ``/version`` answer."""
        comps: dict[str, str] = {}
        podman = False
        for comp in payload.get("Components") or []:
            if isinstance(comp, Mapping) and "Name" in comp:
                comps[str(comp["Name"])] = str(comp.get("Version", ""))
                podman = podman or str(comp["Name"]).lower() == "podman engine"
        return cls(
            backend="podman" if podman else "docker",
            version=str(payload.get("Version", "")),
            api_version=str(payload.get("ApiVersion", "")),
            min_api_version=payload.get("MinAPIVersion"),
            os=str(payload.get("Os", "")),
            arch=str(payload.get("Arch", "")),
            kernel_version=str(payload.get("KernelVersion", "")),
            components=comps,
            attrs=payload,
        )


@attrs.frozen
class EngineInfo:
    """What ``GET /info`` says about the engine host (Docker's shape on both engines).

    Attributes:
        id: The engine's id.
        name: The host name.
        server_version: The engine's version.
        containers: Number of containers.
        containers_running: Number of running containers.
        images: Number of images.
        storage_driver: The storage driver (``overlay2``, ``overlay``, ``vfs``...).
        ncpu: CPUs on the host.
        mem_total: Memory of the host, in bytes.
        os: Operating system description.
        attrs: The raw answer.
    """

    id: str
    name: str
    server_version: str
    containers: int
    containers_running: int
    images: int
    storage_driver: str
    ncpu: int
    mem_total: int
    os: str
    attrs: Mapping[str, Any] = attrs.field(repr=False)

    @classmethod
    def from_api(cls, payload: Mapping[str, Any]) -> EngineInfo:
        """Build from an ``/info`` answer."""
        return cls(
            id=str(payload.get("ID", "")),
            name=str(payload.get("Name", "")),
            server_version=str(payload.get("ServerVersion", "")),
            containers=int(payload.get("Containers") or 0),
            containers_running=int(payload.get("ContainersRunning") or 0),
            images=int(payload.get("Images") or 0),
            storage_driver=str(payload.get("Driver", "")),
            ncpu=int(payload.get("NCPU") or 0),
            mem_total=int(payload.get("MemTotal") or 0),
            os=str(payload.get("OperatingSystem", "")),
            attrs=payload,
        )
