"""pydock's pytest plugin: engine clients and container factories as fixtures.

Registered through the ``pytest11`` entry point, so installing pydock is
enough. It costs nothing for test suites that do not use it: pydock itself is
imported only when a test asks for one of these fixtures.

Fixtures:
    pydock_client: A sync :class:`~pydock.Client` (session scope).
    pydock_async_client: An :class:`~pydock.AsyncClient` (function scope; for
        async tests run by anyio's pytest plugin, ``@pytest.mark.anyio``).
    pydock_container: A :class:`~pydock.testing.Sandbox`: call it to start a
        container that is removed after the test
        (``pydock_container("redis:7", ports=[6379], wait=for_port(6379))``).
    pydock_container_module / pydock_container_session: The same, with the
        containers kept for the module or the whole session.
    pydock_async_container: The async twin of ``pydock_container``
        (an :class:`~pydock.testing.AsyncSandbox`: ``await pydock_async_container(...)``).

The engine comes from the environment (``DOCKER_HOST``, ``CONTAINER_HOST``,
``DOCKER_CONTEXT``, then the default sockets), unless the ``--pydock-host``
option or the ``pydock_host`` ini setting names one. ``pydock_wait_timeout``
(ini) sets the default wait timeout in seconds.

Every container, network and volume is labelled with the run's session (one
per process, so each pytest-xdist worker has its own). The first use in a run
removes what killed runs left behind on this machine (never what a live run
uses), and the end of the run removes whatever the session still owns.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import AsyncIterator, Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from pydock import AsyncClient, Client
    from pydock.testing import AsyncSandbox, Sandbox

__all__ = [
    "pydock_async_client",
    "pydock_async_container",
    "pydock_client",
    "pydock_container",
    "pydock_container_module",
    "pydock_container_session",
]


# Engines whose session resources the pydock_client fixture already removed.
_CLEANED: set[str] = set()


def pytest_addoption(parser: pytest.Parser) -> None:
    """Add ``--pydock-host`` and the ``pydock_host`` / ``pydock_wait_timeout`` ini settings."""
    group = parser.getgroup("pydock", "pydock containers for tests")
    group.addoption(
        "--pydock-host",
        dest="pydock_host",
        default=None,
        metavar="URL",
        help="engine for the pydock fixtures (unix:///run/podman/podman.sock, tcp://...); "
        "default: the pydock_host ini setting, else the environment (DOCKER_HOST...)",
    )
    parser.addini(
        "pydock_host", "engine URL for the pydock fixtures (default: the environment)", default=""
    )
    parser.addini(
        "pydock_wait_timeout",
        "seconds a pydock wait strategy waits when it names no timeout",
        default="60",
    )


def _engine_url(config: pytest.Config) -> str | None:
    option = config.getoption("pydock_host", default=None)
    return str(option or config.getini("pydock_host") or "") or None


def _wait_timeout(config: pytest.Config) -> float:
    raw = str(config.getini("pydock_wait_timeout") or "60")
    try:
        value = float(raw)
    except ValueError:
        raise pytest.UsageError(f"pydock_wait_timeout must be seconds, not {raw!r}") from None
    if value <= 0:
        raise pytest.UsageError(f"pydock_wait_timeout must be positive, not {raw!r}")
    return value


@pytest.fixture(scope="session")
def pydock_client(pytestconfig: pytest.Config) -> Iterator[Client]:
    """A sync engine client for the whole run; removes stale leftovers when first used."""
    from pydock import Client
    from pydock.errors import PydockError
    from pydock.testing import remove_session, remove_stale
    from pydock.testing._sessions import needs_sweep

    url = _engine_url(pytestconfig)
    client = Client(url) if url else Client.from_env()
    try:
        if needs_sweep(client.base_url):
            remove_stale(client)
        yield client
    finally:
        try:
            with contextlib.suppress(PydockError):  # the engine went away: the next run cleans
                remove_session(client)
            _CLEANED.add(client.base_url)
        finally:
            client.close()


@pytest.fixture
async def pydock_async_client(pytestconfig: pytest.Config) -> AsyncIterator[AsyncClient]:
    """An async engine client for one test (run async tests with ``@pytest.mark.anyio``)."""
    from pydock import AsyncClient
    from pydock.testing import async_remove_stale
    from pydock.testing._sessions import needs_sweep

    url = _engine_url(pytestconfig)
    async with AsyncClient(url) if url else AsyncClient.from_env() as client:
        await client.connect()
        if needs_sweep(client.base_url):
            await async_remove_stale(client)
        yield client


def _sandbox(client: Client, config: pytest.Config) -> Iterator[Sandbox]:
    from pydock.testing import Sandbox

    with Sandbox(client, timeout=_wait_timeout(config)) as sandbox:
        yield sandbox


@pytest.fixture
def pydock_container(pydock_client: Client, pytestconfig: pytest.Config) -> Iterator[Sandbox]:
    """Start containers, ``pydock_container(image, ports=..., wait=...)``; gone after the test."""
    yield from _sandbox(pydock_client, pytestconfig)


@pytest.fixture(scope="module")
def pydock_container_module(
    pydock_client: Client, pytestconfig: pytest.Config
) -> Iterator[Sandbox]:
    """Like ``pydock_container``; the containers live until the module's last test is done."""
    yield from _sandbox(pydock_client, pytestconfig)


@pytest.fixture(scope="session")
def pydock_container_session(
    pydock_client: Client, pytestconfig: pytest.Config
) -> Iterator[Sandbox]:
    """Like ``pydock_container``; the containers live until the end of the run."""
    yield from _sandbox(pydock_client, pytestconfig)


@pytest.fixture
async def pydock_async_container(
    pydock_async_client: AsyncClient, pytestconfig: pytest.Config
) -> AsyncIterator[AsyncSandbox]:
    """Start containers (``await pydock_async_container(image, ...)``), removed after the test."""
    from pydock.testing import AsyncSandbox

    async with AsyncSandbox(pydock_async_client, timeout=_wait_timeout(pytestconfig)) as sandbox:
        yield sandbox


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session) -> None:
    """Remove what this process's session still owns on every engine it used."""
    sessions = sys.modules.get("pydock.testing._sessions")
    if sessions is None:  # nothing of pydock.testing was used: stay inert
        return
    from pydock import Client
    from pydock.errors import PydockError
    from pydock.testing import remove_session

    pid = os.getpid()
    for owner, url in sorted(sessions._SWEPT):
        if owner != pid or url in _CLEANED:
            continue
        try:
            with Client(url) as client:
                remove_session(client)
        except PydockError as exc:  # a TLS engine rebuilt without its settings, or gone
            sys.stderr.write(f"pydock: could not clean up on {url}: {exc}\n")
