"""Client behaviour a real engine can't be made to show on demand: 429/503 answers,
Retry-After, refused connections, and what is logged. Uses httpx.MockTransport."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable

import httpx
import pytest

import pydock
from pydock.errors import ConnectError, ServerError, Timeout

VERSION = {
    "Version": "20.10.24",
    "ApiVersion": "1.41",
    "MinAPIVersion": "1.12",
    "Components": [{"Name": "Engine", "Version": "20.10.24"}],
}
PING_HEADERS = {"Api-Version": "1.41", "Server": "Docker/20.10.24 (linux)"}
FAST = pydock.RetryPolicy(attempts=3, initial_delay=0.001, max_delay=0.05, max_time=5)


def _engine(handler: Callable[[httpx.Request], httpx.Response]) -> httpx.MockTransport:
    def route(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/_ping":  # negotiation reads the headers
            return httpx.Response(200, text="OK", headers=PING_HEADERS)
        if request.url.path == "/version":
            return httpx.Response(200, json=VERSION)
        return handler(request)

    return httpx.MockTransport(route)


@pytest.mark.anyio
async def test_injected_transport_and_negotiated_path() -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.path)
        return httpx.Response(200, json={"ID": "x", "NCPU": 2})

    async with pydock.AsyncClient("unix:///nonexistent.sock", transport=_engine(handler)) as c:
        info = await c.info()
    assert info.ncpu == 2
    assert seen == ["/v1.41/info"]


@pytest.mark.anyio
async def test_negotiation_falls_back_to_version_when_ping_says_nothing() -> None:
    asked: list[str] = []

    def route(request: httpx.Request) -> httpx.Response:
        asked.append(request.url.path)
        if request.url.path == "/_ping":
            return httpx.Response(200, text="OK")  # an engine too old to send Api-Version
        if request.url.path == "/version":
            return httpx.Response(200, json=VERSION)
        return httpx.Response(200, json={"ID": "x", "NCPU": 1})

    async with pydock.AsyncClient("unix:///x.sock", transport=httpx.MockTransport(route)) as c:
        await c.info()
        assert c.api_version == "1.41"
    assert asked == ["/_ping", "/version", "/v1.41/info"]


@pytest.mark.anyio
async def test_idempotent_request_retried_on_503_honouring_retry_after() -> None:
    answers = [
        httpx.Response(503, headers={"Retry-After": "0"}, json={"message": "busy"}),
        httpx.Response(429, json={"message": "slow down"}),
        httpx.Response(200, json={"ID": "ok"}),
    ]
    calls = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        return answers.pop(0)

    async with pydock.AsyncClient(
        "unix:///x.sock", transport=_engine(handler), retry=FAST
    ) as client:
        info = await client.info()
    assert info.id == "ok"
    assert calls == 3


@pytest.mark.anyio
async def test_retries_are_bounded_and_the_last_error_is_raised() -> None:
    calls = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        return httpx.Response(503, json={"message": "still busy"})

    async with pydock.AsyncClient(
        "unix:///x.sock", transport=_engine(handler), retry=FAST
    ) as client:
        with pytest.raises(ServerError, match="still busy") as caught:
            await client.info()
    assert calls == 3
    assert caught.value.status_code == 503
    assert caught.value.method == "GET"


@pytest.mark.anyio
async def test_post_is_never_resent_after_a_503() -> None:
    calls = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        return httpx.Response(503, json={"message": "busy"})

    async with pydock.AsyncClient(
        "unix:///x.sock", transport=_engine(handler), retry=FAST
    ) as client:
        with pytest.raises(ServerError):
            await client._json("POST", "/containers/create", json={"Image": "x"})
    assert calls == 1


@pytest.mark.anyio
async def test_post_is_not_resent_after_a_broken_connection() -> None:
    calls = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        raise httpx.ReadError("connection reset", request=request)

    async with pydock.AsyncClient(
        "unix:///x.sock", transport=_engine(handler), retry=FAST
    ) as client:
        with pytest.raises(pydock.errors.TransportError, match="connection reset"):
            await client._json("POST", "/containers/x/start")
    assert calls == 1


@pytest.mark.anyio
async def test_connect_errors_are_retried_then_typed() -> None:
    calls = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        raise httpx.ConnectError("refused", request=request)

    async with pydock.AsyncClient(
        "unix:///x.sock", transport=httpx.MockTransport(handler), retry=FAST
    ) as client:
        with pytest.raises(ConnectError, match="cannot reach the engine") as caught:
            await client.ping()
    assert calls == 3
    assert caught.value.path == "/_ping"


@pytest.mark.anyio
async def test_missing_socket_is_a_connect_error() -> None:
    async with pydock.AsyncClient(
        "unix:///nonexistent/pydock.sock", retry=pydock.RetryPolicy.none()
    ) as client:
        with pytest.raises(ConnectError, match=r"nonexistent/pydock\.sock"):
            await client.ping()


@pytest.mark.anyio
async def test_timeouts_are_typed() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("slow", request=request)

    async with pydock.AsyncClient(
        "unix:///x.sock", transport=_engine(handler), retry=FAST
    ) as client:
        with pytest.raises(Timeout):
            await client.info()


@pytest.mark.anyio
async def test_one_info_line_per_request_and_secrets_redacted(
    caplog: pytest.LogCaptureFixture,
) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={})

    caplog.set_level(logging.DEBUG, logger="pydock.http")
    async with pydock.AsyncClient("unix:///x.sock", transport=_engine(handler)) as client:
        await client._json(
            "POST",
            "/images/create",
            params={"fromImage": "x"},
            headers={"X-Registry-Auth": "c2VjcmV0LXBhc3N3b3Jk", "Authorization": "Bearer tok"},
        )
    info_lines = [r.getMessage() for r in caplog.records if r.levelno == logging.INFO]
    assert info_lines[-1].startswith("POST /v1.41/images/create -> 200")
    assert len(info_lines) == 2  # /_ping (negotiation) and the call itself
    everything = "\n".join(r.getMessage() for r in caplog.records)
    assert "c2VjcmV0LXBhc3N3b3Jk" not in everything
    assert "Bearer tok" not in everything
    assert "[redacted]" in everything


@pytest.mark.anyio
async def test_ssh_urls_are_refused_clearly() -> None:
    with pytest.raises(pydock.errors.InvalidConfiguration, match="ssh"):
        pydock.AsyncClient("ssh://user@host")


@pytest.mark.anyio
async def test_forced_backend_needs_no_io() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise AssertionError("no request expected")

    client = pydock.AsyncClient(
        "unix:///x.sock", backend="podman", transport=httpx.MockTransport(handler)
    )
    assert client.backend == "podman"
    await client.aclose()


@pytest.mark.anyio
async def test_error_body_of_engine_is_in_the_exception() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            409, content=json.dumps({"message": 'name "/x" is already in use'}).encode()
        )

    async with pydock.AsyncClient("unix:///x.sock", transport=_engine(handler)) as client:
        with pytest.raises(pydock.errors.Conflict, match="already in use") as caught:
            await client._json("POST", "/containers/create", params={"name": "x"})
    assert caught.value.path == "/v1.41/containers/create"
