"""Trust at the edges of the transport: no request replayed, no answer read without a
limit, no call outliving its deadline, no impossible framing waited for.

Each test runs pydock's own transport against a hostile local server
(``tests.support.hostile_http``) that counts what it received and sent.
"""

from __future__ import annotations

import os
import ssl
import subprocess
import tempfile
import time
from collections.abc import Iterable, Iterator
from typing import Any

import httpx
import pytest

import pydock
from pydock._async._backend import sleep
from pydock._async._transport import IDEMPOTENT_EXTENSION, AsyncEngineTransport
from pydock.errors import (
    NotFound,
    ProtocolError,
    ResponseTooLarge,
    Timeout,
    TransportError,
)
from tests.support.hostile_http import Action, HostileServer, Script, answer

MiB = 1024 * 1024
FAST = pydock.RetryPolicy(attempts=3, initial_delay=0.001, max_delay=0.05, max_time=5)


@pytest.fixture(params=["tcp", "unix"])
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def serve(kind: str) -> Iterator[Any]:
    servers: list[HostileServer] = []
    folders: list[str] = []

    def start(script: Script) -> HostileServer:
        path = None
        if kind == "unix":
            folder = tempfile.mkdtemp(prefix="pydock-hostile-")
            folders.append(folder)
            path = os.path.join(folder, "engine.sock")
        server = HostileServer(script, path=path)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.close()
    for folder in folders:
        os.unlink(os.path.join(folder, "engine.sock"))
        os.rmdir(folder)


def _client(server: HostileServer, **kwargs: Any) -> pydock.AsyncClient:
    kwargs.setdefault("retry", FAST)
    return pydock.AsyncClient(server.url, backend="docker", api_version="1.41", **kwargs)


async def _call(client: pydock.AsyncClient, method: str, path: str, **kwargs: Any) -> Any:
    """Send straight to the versioned path (no negotiation: the server is not an engine)."""
    response = await client._send(method, "/v1.41" + path, **kwargs)
    return response.json() if response.content else None


def _drop_after_first(method: str, target: str, n: int) -> Action:
    """Answer ``/first``; read any other request whole and hang up without answering."""
    return answer(b'{"Id": "abc"}') if target.endswith("/first") else None


def _drop_all(method: str, target: str, n: int) -> Action:
    return None


# -- defect 4: requests that reached the server are not replayed --------------


@pytest.mark.anyio
async def test_post_reaching_a_kept_alive_connection_that_drops_is_sent_once(serve: Any) -> None:
    server = serve(_drop_after_first)
    async with _client(server) as client:
        assert await _call(client, "GET", "/first") == {"Id": "abc"}
        with pytest.raises(TransportError):
            await _call(client, "POST", "/containers/create", json={"Image": "x"})
    assert server.count("POST") == 1


@pytest.mark.anyio
async def test_post_on_a_fresh_connection_that_drops_is_sent_once(serve: Any) -> None:
    server = serve(_drop_all)
    async with _client(server) as client:
        with pytest.raises(TransportError):
            await _call(client, "POST", "/containers/create", json={"Image": "x"})
    assert server.count("POST") == 1


@pytest.mark.anyio
async def test_get_that_keeps_being_dropped_is_resent_a_bounded_number_of_times(
    serve: Any,
) -> None:
    server = serve(_drop_after_first)
    async with _client(server) as client:
        await _call(client, "GET", "/first")
        with pytest.raises(TransportError):
            await _call(client, "GET", "/containers/json")
    # The stale kept-alive connection is replaced once, then the policy's 3 tries.
    assert 2 <= server.count("GET") - 1 <= FAST.attempts + 1


@pytest.mark.anyio
async def test_registry_patch_through_pydocks_transport_is_sent_once() -> None:
    # The registry client sends through httpx with this transport mounted for its host.
    server = HostileServer(_drop_after_first)
    try:
        host, port = server.http_url.removeprefix("http://").split(":")
        transport = AsyncEngineTransport(host=host, port=int(port))
        async with httpx.AsyncClient(transport=transport, base_url=server.http_url) as http:
            assert (await http.get("/v2/first")).status_code == 200
            with pytest.raises(httpx.TransportError):
                await http.patch("/v2/x/blobs/uploads/u1", content=b"a" * 100_000)
            assert server.count("PATCH") == 1
            # A fresh connection that drops: still once.
            with pytest.raises(httpx.TransportError):
                await http.patch("/v2/x/blobs/uploads/u1", content=b"a" * 100_000)
            assert server.count("PATCH") == 2
            # The upload-start POST, marked idempotent by the registry client, may be resent.
            await http.get("/v2/first")
            with pytest.raises(httpx.TransportError):
                await http.post(
                    "/v2/x/blobs/uploads/",
                    content=b"",
                    extensions={IDEMPOTENT_EXTENSION: True},
                )
            assert server.count("POST") == 2
    finally:
        server.close()


# -- defect 7: impossible framing fails at once, and is not resent -------------


def _absurd_chunk(method: str, target: str, n: int) -> Action:
    head = (
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
    )
    if n == 0 and target.endswith("/first"):
        return answer(b"{}")
    return [head + b"FFFFFFFFFFFFFFFFFFFF\r\n{}", 5.0]


@pytest.mark.anyio
async def test_an_impossible_chunk_size_is_a_protocol_error_at_once(serve: Any) -> None:
    server = serve(_absurd_chunk)
    async with _client(server, timeout=4) as client:
        started = time.monotonic()
        with pytest.raises(ProtocolError, match="chunk size"):
            await _call(client, "GET", "/containers/json")
        assert time.monotonic() - started < 3  # not a read timeout
        # On a kept-alive connection too.
        await _call(client, "GET", "/first")
        with pytest.raises(ProtocolError, match="chunk size"):
            await _call(client, "GET", "/containers/json")
    assert server.count("GET") == 3


# -- defect 7: a whole-call deadline -------------------------------------------


def _drip(method: str, target: str, n: int) -> Action:
    steps: list[bytes | float] = [b"HTTP/1.1 200 OK\r\nContent-Length: 60\r\n\r\n"]
    for _ in range(60):
        steps += [0.25, b" "]
    return steps


@pytest.mark.anyio
async def test_a_dripping_server_is_stopped_by_the_clients_deadline(serve: Any) -> None:
    server = serve(_drip)
    async with _client(server, timeout=2, deadline=1.5) as client:
        started = time.monotonic()
        with pytest.raises(Timeout, match="deadline"):
            await _call(client, "GET", "/containers/json")
        elapsed = time.monotonic() - started
    assert 1.0 < elapsed < 6.0
    assert server.count("GET") == 1


@pytest.mark.anyio
async def test_a_per_call_deadline_is_honoured(serve: Any) -> None:
    server = serve(_drip)
    async with _client(server, timeout=2) as client:
        started = time.monotonic()
        with pydock.deadline(1.0), pytest.raises(Timeout, match="deadline"):
            await _call(client, "GET", "/containers/json")
        assert time.monotonic() - started < 5.0
        # Outside the block, no deadline applies to the next call's sending.
        assert pydock.deadline.remaining() is None


@pytest.mark.anyio
async def test_a_dripping_registry_is_stopped_by_the_registrys_deadline() -> None:
    server = HostileServer(_drip)
    try:
        reg = pydock.AsyncRegistry(server.http_url, timeout=2, deadline=1.5, retry=FAST)
        async with reg:
            started = time.monotonic()
            with pytest.raises(Timeout, match="deadline"):
                await reg.tags("demo/app").collect()
            elapsed = time.monotonic() - started
    finally:
        server.close()
    assert 1.0 < elapsed < 6.0
    assert server.count("GET") == 1  # the drip was the first request: nothing more was sent


def test_a_bad_registry_deadline_is_refused() -> None:
    with pytest.raises(pydock.errors.InvalidConfiguration, match="deadline"):
        pydock.AsyncRegistry("127.0.0.1:5000", deadline=-1)


def _busy(method: str, target: str, n: int) -> Action:
    return answer(b'{"message": "busy"}', b"503 Service Unavailable", b"Retry-After: 4\r\n")


@pytest.mark.anyio
async def test_retries_do_not_start_past_the_deadline(serve: Any) -> None:
    server = serve(_busy)
    policy = pydock.RetryPolicy(attempts=5, max_delay=10, max_time=60)
    async with _client(server, retry=policy, deadline=1.0) as client:
        started = time.monotonic()
        with pytest.raises(pydock.errors.ServerError):
            await _call(client, "GET", "/containers/json")
        assert time.monotonic() - started < 3.0
    assert server.count("GET") == 1


# -- defect 5: answers read into memory are capped -----------------------------


def _endless(head: bytes) -> Any:
    def script(method: str, target: str, n: int) -> Action:
        def steps() -> Iterable[bytes | float]:
            yield head
            piece = b"[" + b"0," * (MiB // 2 - 1) + b"0]"
            for _ in range(64):
                yield b"%x\r\n%b\r\n" % (len(piece), piece) if b"chunked" in head else piece

        return steps()

    return script


CHUNKED_HEAD = (
    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
)


@pytest.mark.anyio
async def test_a_huge_json_answer_is_refused_without_reading_it(serve: Any) -> None:
    server = serve(_endless(CHUNKED_HEAD))
    async with _client(server, max_response_size=2 * MiB) as client:
        with pytest.raises(ResponseTooLarge) as caught:
            await _call(client, "GET", "/containers/json")
    assert caught.value.limit == 2 * MiB
    assert "2097152" in str(caught.value)
    assert server.sent <= 2 * MiB + 8 * MiB  # the cap plus what the socket buffers held
    assert server.count("GET") == 1


@pytest.mark.anyio
async def test_an_announced_length_over_the_limit_is_refused_from_the_head(serve: Any) -> None:
    head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n"
    server = serve(_endless(head % (64 * MiB)))
    async with _client(server, max_response_size=MiB) as client:
        with pytest.raises(ResponseTooLarge, match="1048576"):
            await _call(client, "GET", "/containers/json")
    assert server.count("GET") == 1


@pytest.mark.anyio
async def test_a_huge_error_body_is_cut_to_its_start(serve: Any) -> None:
    head = CHUNKED_HEAD.replace(b"200 OK", b"404 Not Found")
    server = serve(_endless(head))
    async with _client(server) as client:
        with pytest.raises(NotFound) as caught:
            await _call(client, "GET", "/containers/x/json")
    assert len(str(caught.value)) < 64 * 1024
    assert str(caught.value).count("0,") > 10  # the start of the message is kept
    assert server.sent <= 8 * MiB  # 64 MiB were on offer


@pytest.mark.anyio
async def test_the_default_limit_is_64_mib() -> None:
    async with pydock.AsyncClient("unix:///nonexistent.sock", backend="docker") as client:
        assert client.max_response_size == 64 * MiB


# -- defect 11: bad settings are typed errors naming the parameter, before any I/O


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"timeout": -1}, "timeout"),
        ({"timeout": 0}, "timeout"),
        ({"timeout": float("nan")}, "timeout"),
        ({"timeout": httpx.Timeout(5, read=-1)}, "timeout.read"),
        ({"timeout": "soon"}, "timeout"),
        ({"deadline": 0}, "deadline"),
        ({"deadline": -3}, "deadline"),
        ({"deadline": float("inf")}, "deadline"),
        ({"max_response_size": 0}, "max_response_size"),
        ({"max_response_size": -1}, "max_response_size"),
        ({"max_response_size": 1.5}, "max_response_size"),
    ],
)
def test_bad_client_settings_are_refused_by_name(kwargs: dict[str, Any], name: str) -> None:
    with pytest.raises(
        pydock.errors.InvalidConfiguration, match=name.replace(".", r"\.")
    ) as caught:
        pydock.AsyncClient("unix:///nonexistent.sock", backend="docker", **kwargs)
    assert isinstance(caught.value, ValueError)


@pytest.mark.parametrize("seconds", [0, -1, float("nan"), "5"])
def test_a_bad_deadline_is_refused(seconds: Any) -> None:
    with pytest.raises(pydock.errors.InvalidConfiguration, match="deadline"):
        pydock.deadline(seconds)


@pytest.fixture(scope="module")
def tls_pair() -> Iterator[tuple[ssl.SSLContext, ssl.SSLContext]]:
    """A server context with a self-signed certificate for 127.0.0.1, and a client trusting it."""
    folder = tempfile.mkdtemp(prefix="pydock-tls-")
    key, cert = os.path.join(folder, "key.pem"), os.path.join(folder, "cert.pem")
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key,
         "-out", cert, "-days", "1", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True, capture_output=True,
    )  # fmt: skip
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(cert, key)
    client = ssl.create_default_context(cafile=cert)
    yield server, client
    for name in (key, cert):
        os.unlink(name)
    os.rmdir(folder)


def _answer_then_hang_up(method: str, target: str, n: int) -> Action:
    """Answer, keep the connection a moment, then close it (an idle timeout on the server)."""
    return [answer(b'{"Id": "abc"}'), 0.1]


@pytest.mark.anyio
async def test_an_idle_tls_connection_the_server_closed_is_not_used_for_a_post(
    tls_pair: tuple[ssl.SSLContext, ssl.SSLContext],
) -> None:
    server_context, client_context = tls_pair
    server = HostileServer(_answer_then_hang_up, tls=server_context)
    try:
        port = int(server.url.rsplit(":", 1)[1])
        transport = AsyncEngineTransport(
            host="127.0.0.1", port=port, ssl_context=client_context, server_hostname="127.0.0.1"
        )
        base = f"https://127.0.0.1:{port}"
        async with httpx.AsyncClient(transport=transport, base_url=base) as http:
            assert (await http.get("/first")).status_code == 200
            await sleep(0.5)  # the server has hung up the idle connection by now
            response = await http.post("/containers/create", content=b"{}")
            assert response.json() == {"Id": "abc"}
        assert server.count("POST") == 1
        assert server.connections == 2
    finally:
        server.close()
