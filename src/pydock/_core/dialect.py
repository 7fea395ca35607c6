"""The two engine dialects (Docker Engine API and Podman's libpod API) as data.

Nothing here does I/O. :class:`Session` holds what was learned from the engine
(backend and API version) and turns an abstract endpoint into the path to send.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal
from urllib.parse import quote

import attrs

from pydock._core.shapes import get_list, get_object, get_str, index, object_
from pydock.errors import InvalidConfiguration, UnsupportedFeature

Backend = Literal["docker", "podman"]
BackendChoice = Literal["auto", "docker", "podman"]

#: The newest Docker Engine API version pydock speaks.
MAX_DOCKER_API = (1, 45)
#: The oldest Docker Engine API version pydock speaks.
MIN_DOCKER_API = (1, 24)
#: The libpod API major version pydock speaks.
LIBPOD_MAJOR = 4
#: The newest libpod API version pydock speaks (compared with the engine's).
MAX_LIBPOD_API = (5, 99, 99)

#: Features that need at least this Docker API version.
DOCKER_FEATURES: Mapping[str, tuple[int, int]] = {
    "containers.prune": (1, 25),
    "images.prune": (1, 25),
    "platform": (1, 32),
    "containers.wait.condition": (1, 30),
    "exec.resize": (1, 25),
    "build.target": (1, 29),
    "build.platform": (1, 32),
}


def parse_version(text: str) -> tuple[int, ...]:
    """Parse ``"1.41"`` or ``"4.3.1"`` (a leading ``v`` allowed) into a tuple of ints.

    Raises:
        InvalidConfiguration: The text is not a dotted version.
    """
    cleaned = text.strip().lstrip("vV")
    parts = cleaned.split(".")
    try:
        numbers = tuple(int(p) for p in parts)
    except ValueError:
        raise InvalidConfiguration(f"not an API version: {text!r}") from None
    if not numbers:
        raise InvalidConfiguration(f"not an API version: {text!r}")
    return numbers


def quote_path(value: str, *, safe: str = "") -> str:
    """Percent-encode a name or id for a request path: nothing in it can leave its place.

    ``?``, ``#``, ``%`` and (unless ``safe`` keeps it) ``/`` are encoded; a
    ``.`` or ``..`` segment is encoded too, so that neither httpx nor the
    engine removes it as a dot segment.

    Args:
        value: The name or id as given.
        safe: Characters to leave as they are (``"/:@"`` for image names).
    """
    parts = quote(value, safe=safe).split("/")
    return "/".join(p.replace(".", "%2E") if p in (".", "..") else p for p in parts)


def format_version(version: tuple[int, ...]) -> str:
    """Format a version tuple as dotted text."""
    return ".".join(str(p) for p in version)


@attrs.frozen
class EngineFacts:
    """What one ``GET /version`` answer tells about an engine."""

    backend: Backend
    api_version: tuple[int, ...]
    min_api_version: tuple[int, ...] | None
    libpod_version: tuple[int, ...] | None
    version: str


def facts_from_version(payload: object) -> EngineFacts:
    """Read backend and API versions from an engine's ``/version`` answer.

    Podman reports a component named ``"Podman Engine"``; Docker does not.

    Raises:
        InvalidConfiguration: The answer has no usable API version.
        ProtocolError: The answer does not have the shape of a version.
    """
    payload = object_(payload)
    podman = None
    for i, entry in enumerate(get_list(payload, "Components")):
        comp = object_(entry, index("Components", i))
        if get_str(comp, "Name", index("Components", i)).lower() == "podman engine":
            podman = comp
            break
    api = payload.get("ApiVersion") or payload.get("APIVersion")
    if not isinstance(api, str):
        raise InvalidConfiguration("the engine's /version answer has no ApiVersion")
    min_api = payload.get("MinAPIVersion")
    libpod: tuple[int, ...] | None = None
    if podman is not None:
        details = get_object(podman, "Details", "Components")
        libpod_text = (
            get_str(details, "APIVersion", "Components.Details")
            or get_str(podman, "Version", "Components")
            or get_str(payload, "Version")
        )
        libpod = parse_version(str(libpod_text)) if libpod_text else (LIBPOD_MAJOR, 0, 0)
    return EngineFacts(
        backend="podman" if podman is not None else "docker",
        api_version=parse_version(api),
        min_api_version=parse_version(min_api) if isinstance(min_api, str) else None,
        libpod_version=libpod,
        version=str(payload.get("Version", "")),
    )


def facts_from_ping(headers: Mapping[str, str]) -> EngineFacts | None:
    """Read backend and API versions from an engine's ``/_ping`` headers, if they say them.

    Both engines send ``Api-Version``; Podman also sends ``Libpod-Api-Version``.
    ``/_ping`` answers at once where Podman's ``/version`` gathers host facts
    first (0.4 s and more here), so negotiation asks it first.

    Returns:
        The facts, or None when the headers lack an API version (older
        engines): then ``/version`` must be asked.
    """
    lowered = {k.lower(): v for k, v in headers.items()}
    api = lowered.get("api-version", "").strip()
    if not api:
        return None
    try:
        api_version = parse_version(api)
        libpod_text = lowered.get("libpod-api-version", "").strip()
        libpod = parse_version(libpod_text) if libpod_text else None
    except InvalidConfiguration:
        return None
    server = lowered.get("server", "")
    version = server.split("/", 1)[1].split(" ", 1)[0] if "/" in server else ""
    return EngineFacts(
        backend="podman" if libpod is not None else "docker",
        api_version=api_version,
        min_api_version=None,
        libpod_version=libpod,
        version=version,
    )


@attrs.define
class Session:
    """Negotiation state of one client: the backend and API versions in use.

    Args:
        backend: ``"auto"`` to detect from the engine, or a forced backend.
        api_version: A Docker API version to use as is (``"1.41"``), or None to negotiate.
    """

    backend_choice: BackendChoice = "auto"
    api_version_choice: str | None = None
    backend: Backend | None = None
    docker_api: tuple[int, ...] | None = None
    libpod_api: tuple[int, ...] | None = None
    engine_version: str | None = None

    def __attrs_post_init__(self) -> None:
        if self.backend_choice not in ("auto", "docker", "podman"):
            raise InvalidConfiguration(
                f"backend must be 'auto', 'docker' or 'podman', not {self.backend_choice!r}"
            )
        if self.api_version_choice is not None:
            self.docker_api = parse_version(self.api_version_choice)

    def is_negotiated(self) -> bool:
        """Whether the engine's versions are known."""
        return self.backend is not None and self.docker_api is not None

    def apply(self, facts: EngineFacts) -> None:
        """Record what the engine said; explicit choices win over detection."""
        self.backend = facts.backend if self.backend_choice == "auto" else self.backend_choice
        self.engine_version = facts.version
        if self.api_version_choice is None:
            self.docker_api = min(facts.api_version, MAX_DOCKER_API)
        if self.backend == "podman":
            libpod = facts.libpod_version or (LIBPOD_MAJOR, 0, 0)
            self.libpod_api = min(libpod, MAX_LIBPOD_API)

    def docker_prefix(self) -> str:
        """The ``/v1.NN`` path prefix for Docker-dialect endpoints."""
        assert self.docker_api is not None, "negotiate first"
        return "/v" + format_version(self.docker_api[:2])

    def libpod_prefix(self) -> str:
        """The ``/vX.Y.Z/libpod`` prefix for libpod-dialect endpoints."""
        assert self.libpod_api is not None, "negotiate first"
        return "/v" + format_version(self.libpod_api) + "/libpod"

    def path(self, docker: str, libpod: str | None = None) -> str:
        """The versioned path for an endpoint.

        Args:
            docker: The Docker-dialect path (``/containers/json``).
            libpod: The libpod path when Podman should use it; None uses the
                Docker-compatible endpoint on Podman too.
        """
        if self.backend == "podman" and libpod is not None:
            return self.libpod_prefix() + libpod
        return self.docker_prefix() + docker

    def require(self, feature: str) -> None:
        """Raise before sending if the negotiated Docker API lacks ``feature``.

        Raises:
            UnsupportedFeature: The negotiated API version is too old.
        """
        needed = DOCKER_FEATURES.get(feature)
        if needed is None or self.backend == "podman" or self.docker_api is None:
            return
        if self.docker_api < needed:
            raise UnsupportedFeature(
                self.backend or "docker",
                feature,
                f"needs API {format_version(needed)}, negotiated {format_version(self.docker_api)}",
            )

    def unsupported_on(self, backend: Backend, feature: str, reason: str | None = None) -> None:
        """Raise :class:`UnsupportedFeature` when running on ``backend``.

        Raises:
            UnsupportedFeature: The client talks to that backend.
        """
        if self.backend == backend:
            raise UnsupportedFeature(backend, feature, reason)
