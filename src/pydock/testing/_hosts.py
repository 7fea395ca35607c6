"""Hosts and ports: where a container's published ports are reached from here.

Pure decisions over a container snapshot's port bindings, the engine's
address and ``PYDOCK_TESTING_HOST``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any, Protocol, TypeAlias
from urllib.parse import urlsplit

from pydock._core.containers import PortBinding, normalize_port
from pydock.errors import PortNotPublished

__all__ = [
    "PortsSpec",
    "default_ports",
    "engine_host",
    "host_address",
    "host_port",
    "http_url",
    "is_local_engine",
    "only_tcp_port",
]


class _PortsSnapshot(Protocol):
    @property
    def ports(self) -> Mapping[str, list[PortBinding]]: ...


def is_local_engine(base_url: str) -> bool:
    """Whether the engine's published ports are on this machine (unix socket, named pipe)."""
    scheme = urlsplit(base_url).scheme.lower()
    return scheme in ("", "unix", "npipe", "http+unix") or base_url.startswith("/")


def engine_host(base_url: str, environ: Mapping[str, str] | None = None) -> str:
    """The address where an engine's published ports are reached.

    ``PYDOCK_TESTING_HOST`` wins when set; a local engine gives
    ``127.0.0.1``; a ``tcp://``/``http(s)://``/``ssh://`` engine gives its host.
    """
    env = os.environ if environ is None else environ
    override = env.get("PYDOCK_TESTING_HOST", "").strip()
    if override:
        return override
    if is_local_engine(base_url):
        return "127.0.0.1"
    return urlsplit(base_url).hostname or "127.0.0.1"


_ANY_ADDRESS = frozenset({"", "0.0.0.0", "::"})
_LOOPBACK = frozenset({"127.0.0.1", "::1", "localhost"})


def _pick_binding(snapshot: _PortsSnapshot, port: int | str) -> PortBinding:
    key = normalize_port(port)
    bindings = [b for b in snapshot.ports.get(key, []) if b.host_port]
    if not bindings:
        published = sorted(k for k, v in snapshot.ports.items() if any(b.host_port for b in v))
        raise PortNotPublished(
            f"container port {key} is not published on the host"
            + (f" (published: {', '.join(published)})" if published else " (nothing is)")
            + "; pass ports=[...] when starting the container"
        )
    # IPv4 first: Docker lists 0.0.0.0 and :: for one port.
    bindings.sort(key=lambda b: ":" in b.host_ip)
    return bindings[0]


def host_port(container: _PortsSnapshot, port: int | str) -> int:
    """The host port a container port is published on.

    Args:
        container: A container snapshot (sync or async) taken after it started.
        port: ``80``, ``"80"`` or ``"80/tcp"``.

    Raises:
        PortNotPublished: The port is not published.
        ValueError: Not a container port.
    """
    binding = _pick_binding(container, port)
    assert binding.host_port is not None
    return binding.host_port


def _engine_url(container: object) -> str:
    client = getattr(container, "_client", None)
    return str(getattr(client, "base_url", "") or "")


def host_address(container: _PortsSnapshot, port: int | str | None = None) -> str:
    """The address where the container's published ports are reached from here.

    A port bound to every address (``0.0.0.0``, ``::``) is reached at the
    engine's host (``127.0.0.1`` for a local engine); a port bound to one
    address is reached there (loopback only on a local engine). Set
    ``PYDOCK_TESTING_HOST`` to override.

    Args:
        container: A container snapshot (sync or async).
        port: The container port whose binding decides (None: the engine's host).

    Raises:
        PortNotPublished: ``port`` is not published.
    """
    base_url = _engine_url(container)
    default = engine_host(base_url)
    if port is None or os.environ.get("PYDOCK_TESTING_HOST"):
        if port is not None:
            _pick_binding(container, port)
        return default
    ip = _pick_binding(container, port).host_ip
    if ip in _ANY_ADDRESS:
        return default
    if ip in _LOOPBACK and not is_local_engine(base_url):
        return default
    return ip


def http_url(
    container: _PortsSnapshot, port: int | str, path: str = "/", *, scheme: str = "http"
) -> str:
    """``http://HOST:PORT/path`` for a published container port.

    Raises:
        PortNotPublished: The port is not published.
    """
    host = host_address(container, port)
    if ":" in host:
        host = f"[{host}]"
    return f"{scheme}://{host}:{host_port(container, port)}/{path.lstrip('/')}"


def only_tcp_port(container: _PortsSnapshot) -> str:
    """The single published TCP port (for strategies that name none).

    Raises:
        PortNotPublished: None or several are published.
    """
    published = sorted(
        k for k, v in container.ports.items() if k.endswith("/tcp") and any(b.host_port for b in v)
    )
    if len(published) != 1:
        raise PortNotPublished(
            "name the port to wait on: "
            + (f"several are published ({', '.join(published)})" if published else "none is")
        )
    return published[0]


PortsSpec: TypeAlias = "Sequence[int | str] | Mapping[int | str, Any] | None"


def default_ports(ports: PortsSpec, *, local: bool) -> dict[str | int, Any] | None:
    """``ports=`` of :func:`run_container` as ``ports=`` of ``containers.run``.

    A list of container ports publishes each on a free host port: on
    ``127.0.0.1`` for a local engine (nothing is exposed to the network),
    on every address for a remote one. A mapping is passed on unchanged.

    Raises:
        ValueError: A list item is not a container port.
        TypeError: ``ports`` is neither a list nor a mapping.
    """
    if ports is None:
        return None
    if isinstance(ports, Mapping):
        return dict(ports)
    if isinstance(ports, (str, bytes, int)) or not isinstance(ports, Sequence):
        raise TypeError(f"ports= takes a list of container ports or a mapping, not {ports!r}")
    spec: Any = ("127.0.0.1", None) if local else None
    return {normalize_port(p): spec for p in ports}
