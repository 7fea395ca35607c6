"""Test wiring: the real engines and registries started by `scripts/engines up`.

Fixtures:
    engine: parametrized over Docker and Podman (an :class:`Engine`).
    docker_engine / podman_engine: one engine only.
    sync_client / async_client: a pydock client for ``engine``.
    registry / auth_registry: the plain and the htpasswd+TLS registry.
    anyio_backend: asyncio and trio, for ``@pytest.mark.anyio`` tests.

A test that uses an engine or registry fixture is marked ``integration``
automatically. With ``CI=true`` an unreachable server fails the run; locally
the test is skipped with a message saying how to start the servers.
"""

from __future__ import annotations

import os
import socket
import ssl
import urllib.error
import urllib.request
from collections.abc import AsyncIterator, Iterator
from functools import cache

import attrs
import pytest

import pydock

START_HINT = "start the engines and registries with `bash scripts/engines up`"
ENGINE_FIXTURES = {"engine", "docker_engine", "podman_engine", "sync_client", "async_client"}
REGISTRY_FIXTURES = {"registry", "auth_registry"}


@attrs.frozen
class Engine:
    """A real engine under test."""

    name: str
    url: str
    test_image: str


@attrs.frozen
class RegistryServer:
    """A real registry under test."""

    host: str
    username: str | None = None
    password: str | None = None
    ca_cert: str | None = None

    @property
    def url(self) -> str:
        scheme = "https" if self.ca_cert else "http"
        return f"{scheme}://{self.host}"


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def unavailable(what: str, why: str) -> None:
    message = f"{what} is not reachable ({why}): {START_HINT}"
    if in_ci():
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


@cache
def _unix_ping(path: str) -> str | None:
    """None when the engine on ``path`` answers /_ping with OK, else why not."""
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(5)
            sock.connect(path)
            sock.sendall(b"GET /_ping HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
            data = b""
            while chunk := sock.recv(4096):
                data += chunk
    except OSError as exc:
        return f"{path}: {exc.strerror or exc}"
    return None if data.startswith(b"HTTP/1.1 200") and data.endswith(b"OK") else "bad answer"


@cache
def _http_ping(url: str, ca_cert: str | None) -> str | None:
    context = ssl.create_default_context(cafile=ca_cert) if ca_cert else None
    try:
        urllib.request.urlopen(url + "/v2/", timeout=5, context=context)
    except urllib.error.HTTPError as exc:
        return None if exc.code == 401 else f"HTTP {exc.code}"
    except (OSError, ValueError) as exc:
        return str(exc)
    return None


ENGINES = {
    "docker": ("PYDOCK_DOCKER_HOST", "unix:///var/run/docker.sock"),
    "podman": ("PYDOCK_PODMAN_HOST", "unix:///run/podman/podman.sock"),
}


def _engine(name: str) -> Engine:
    var, default = ENGINES[name]
    url = os.environ.get(var, default)
    image = os.environ.get("PYDOCK_TEST_IMAGE", "pydock-test/busybox:1")
    if url.startswith("unix://"):
        why = _unix_ping(url[len("unix://") :])
        if why is not None:
            unavailable(f"the {name} engine", why)
    return Engine(name=name, url=url, test_image=image)


@pytest.fixture(params=["docker", "podman"])
def engine(request: pytest.FixtureRequest) -> Engine:
    """Each real engine in turn."""
    return _engine(str(request.param))


@pytest.fixture
def docker_engine() -> Engine:
    """The real Docker Engine."""
    return _engine("docker")


@pytest.fixture
def podman_engine() -> Engine:
    """The real Podman service."""
    return _engine("podman")


@pytest.fixture
def sync_client(engine: Engine) -> Iterator[pydock.Client]:
    """A sync client for each engine in turn."""
    with pydock.Client(engine.url) as client:
        yield client


@pytest.fixture
async def async_client(engine: Engine) -> AsyncIterator[pydock.AsyncClient]:
    """An async client for each engine in turn."""
    async with pydock.AsyncClient(engine.url) as client:
        yield client


@pytest.fixture
def registry() -> RegistryServer:
    """The plain HTTP registry on loopback."""
    server = RegistryServer(host=os.environ.get("PYDOCK_REGISTRY", "127.0.0.1:5000"))
    why = _http_ping(server.url, None)
    if why is not None:
        unavailable(f"the registry at {server.host}", why)
    return server


@pytest.fixture
def auth_registry() -> RegistryServer:
    """The registry with htpasswd basic auth over TLS."""
    server = RegistryServer(
        host=os.environ.get("PYDOCK_AUTH_REGISTRY", "127.0.0.1:5001"),
        username=os.environ.get("PYDOCK_AUTH_REGISTRY_USER", "pydock"),
        password=os.environ.get("PYDOCK_AUTH_REGISTRY_PASSWORD", "pydock-secret"),
        ca_cert=os.environ.get("PYDOCK_AUTH_REGISTRY_CA", ".engines/certs/ca.pem"),
    )
    if not server.ca_cert or not os.path.exists(server.ca_cert):
        unavailable(f"the TLS registry at {server.host}", f"no CA file {server.ca_cert}")
    why = _http_ping(server.url, server.ca_cert)
    if why is not None:
        unavailable(f"the TLS registry at {server.host}", why)
    return server


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    """Run every async test on asyncio and on trio."""
    return str(request.param)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark tests that need real servers."""
    for item in items:
        names = set(getattr(item, "fixturenames", ()))
        if names & ENGINE_FIXTURES or names & REGISTRY_FIXTURES:
            item.add_marker(pytest.mark.integration)
