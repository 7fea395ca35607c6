"""The client against the real engines: ping, version, info, negotiation, errors."""

from __future__ import annotations

import uuid

import pytest

import pydock
from pydock._async._backend import monotonic
from pydock.errors import ContainerNotFound, ResponseTooLarge, Timeout, UnsupportedFeature
from tests.conftest import Engine


@pytest.mark.anyio
async def test_ping(async_client: pydock.AsyncClient) -> None:
    assert await async_client.ping() is True


@pytest.mark.anyio
async def test_version_reports_the_real_engine(
    async_client: pydock.AsyncClient, engine: Engine
) -> None:
    version = await async_client.version()
    assert version.backend == engine.name
    if engine.name == "docker":
        assert version.version.startswith("20.10")
        assert "Engine" in version.components
    else:
        assert version.version.startswith("4.")
        assert "Podman Engine" in version.components
    assert version.api_version.startswith("1.")
    assert version.os == "linux"


@pytest.mark.anyio
async def test_backend_is_detected_lazily(engine: Engine) -> None:
    async with pydock.AsyncClient(engine.url) as client:
        await client.connect()
        assert client.backend == engine.name
        assert client.api_version == "1.41"


@pytest.mark.anyio
async def test_ping_negotiation_agrees_with_version(engine: Engine) -> None:
    """The /_ping headers (what connect() reads) give the facts /version gives."""
    from pydock._core.dialect import facts_from_ping, facts_from_version

    async with pydock.AsyncClient(engine.url) as client:
        ping = await client._send("GET", "/_ping")
        version = await client._send("GET", "/version")
    from_ping = facts_from_ping(ping.headers)
    from_version = facts_from_version(version.json())
    assert from_ping is not None
    assert from_ping.backend == from_version.backend == engine.name
    assert from_ping.api_version == from_version.api_version
    assert from_ping.libpod_version == from_version.libpod_version
    assert from_version.version.startswith(from_ping.version.split("+")[0])


@pytest.mark.anyio
async def test_info_describes_the_host(async_client: pydock.AsyncClient) -> None:
    info = await async_client.info()
    assert info.ncpu >= 1
    assert info.mem_total > 0
    assert info.server_version
    assert info.images >= 1  # the rig's busybox image


@pytest.mark.anyio
async def test_explicit_api_version_wins(engine: Engine) -> None:
    async with pydock.AsyncClient(engine.url, api_version="1.30") as client:
        await client.connect()
        assert client.api_version == "1.30"
        assert await client.ping()


@pytest.mark.anyio
async def test_missing_container_is_a_typed_error(async_client: pydock.AsyncClient) -> None:
    with pytest.raises(ContainerNotFound) as caught:
        await async_client._json(
            "GET", "/containers/pydock-no-such-container/json", resource="container"
        )
    assert caught.value.status_code == 404
    assert caught.value.method == "GET"
    assert caught.value.path is not None
    assert caught.value.path.endswith("/containers/pydock-no-such-container/json")
    assert "pydock-no-such-container" in str(caught.value)


@pytest.mark.anyio
async def test_feature_missing_from_negotiated_version_fails_before_sending(
    docker_engine: Engine,
) -> None:
    async with pydock.AsyncClient(docker_engine.url, api_version="1.24") as client:
        await client.connect()
        with pytest.raises(UnsupportedFeature) as caught:
            client._session.require("platform")
        assert caught.value.backend == "docker"
        assert "1.32" in str(caught.value)


@pytest.mark.anyio
async def test_many_requests_reuse_connections(async_client: pydock.AsyncClient) -> None:
    for _ in range(50):
        assert await async_client.ping()


@pytest.mark.anyio
async def test_an_answer_over_max_response_size_is_refused(engine: Engine) -> None:
    async with pydock.AsyncClient(engine.url, max_response_size=512) as client:
        with pytest.raises(ResponseTooLarge) as caught:
            await client.info()  # /info is several KiB on both engines
        assert caught.value.limit == 512
        assert str(caught.value.path).endswith("/info")
        assert await client.ping()  # the connection was dropped; the next call is fine


@pytest.mark.anyio
async def test_a_whole_call_deadline_ends_a_call_the_engine_holds(engine: Engine) -> None:
    name = f"pydock-deadline-{uuid.uuid4().hex[:12]}"
    async with pydock.AsyncClient(engine.url, deadline=1.5) as client:
        container = await client.containers.run(
            engine.test_image, ["sleep", "300"], detach=True, name=name
        )
        try:
            started = monotonic()
            with pytest.raises(Timeout):
                await container.wait()  # no per-call timeout: only the deadline ends it
            assert monotonic() - started < 10
            started = monotonic()
            with pydock.deadline(0.5), pytest.raises(Timeout):
                await container.wait()
            assert monotonic() - started < 10
        finally:
            await container.remove(force=True)
