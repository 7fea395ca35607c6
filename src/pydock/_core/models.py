"""Plain data models read from engine answers (no I/O): frozen attrs snapshots.

Each has a ``from_api(payload)`` constructor and keeps the raw JSON in ``attrs``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any

import attrs

from pydock._core.dialect import Backend
from pydock._core.shapes import get_int, get_list, get_str, index, object_

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
    def from_api(cls, payload: object) -> EngineVersion:
        """Build from a ``/version`` answer.

        Raises:
            ProtocolError: The answer does not have the shape of a version.
        """
        payload = object_(payload)
        comps: dict[str, str] = {}
        podman = False
        for i, entry in enumerate(get_list(payload, "Components")):
            comp = object_(entry, index("Components", i))
            name = get_str(comp, "Name", index("Components", i))
            if name:
                comps[name] = get_str(comp, "Version", index("Components", i))
                podman = podman or name.lower() == "podman engine"
        return cls(
            backend="podman" if podman else "docker",
            version=get_str(payload, "Version"),
            api_version=get_str(payload, "ApiVersion"),
            min_api_version=get_str(payload, "MinAPIVersion") or None,
            os=get_str(payload, "Os"),
            arch=get_str(payload, "Arch"),
            kernel_version=get_str(payload, "KernelVersion"),
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
    def from_api(cls, payload: object) -> EngineInfo:
        """Build from an ``/info`` answer.

        Raises:
            ProtocolError: The answer does not have the shape of an info.
        """
        payload = object_(payload)
        return cls(
            id=get_str(payload, "ID"),
            name=get_str(payload, "Name"),
            server_version=get_str(payload, "ServerVersion"),
            containers=get_int(payload, "Containers"),
            containers_running=get_int(payload, "ContainersRunning"),
            images=get_int(payload, "Images"),
            storage_driver=get_str(payload, "Driver"),
            ncpu=get_int(payload, "NCPU"),
            mem_total=get_int(payload, "MemTotal"),
            os=get_str(payload, "OperatingSystem"),
            attrs=payload,
        )
