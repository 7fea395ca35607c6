"""pydock's engine transport against a scripted HTTP/1.1 server on a unix socket.

The edges here (a connection the server drops, an answer cut short, a
server that never answers, flow control both ways) cannot be produced on
demand with a real engine; the everyday paths are covered against the
engines by the client and container tests.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import AsyncIterator, Iterator
from typing import Any

import anyio  # unasync: remove
import httpx
import pytest

import pydock
from pydock._async._backend import run_parallel, sleep
from pydock._async._transport import AsyncEngineTransport, prepare_request
from pydock._core.http11 import encode_request_head
from pydock.errors import Timeout, TransportError
from tests.support.http_server import ScriptedServer

PATTERN = b"0123456789"


@pytest.fixture
def server() -> Iterator[ScriptedServer]:
    folder = tempfile.mkdtemp(prefix="pydock-http-")
    served = ScriptedServer(os.path.join(folder, "engine.sock"))
    yield served
    served.close()
    os.rmdir(folder)


@pytest.fixture
def tcp_server() -> Iterator[ScriptedServer]:
    served = ScriptedServer("", tcp=True)
    yield served
    served.close()


def _client(server: ScriptedServer, **kwargs: Any) -> pydock.AsyncClient:
    return pydock.AsyncClient(server.url, backend="docker", api_version="1.41", **kwargs)


def _pattern(size: int) -> bytes:
    return (PATTERN * (size // 10 + 1))[:size]


# -- the request bytes: identical to httpx's --------------------------------

CASES: list[tuple[str, str, Any, Any, Any, dict[str, str]]] = [
    ("GET", "/v1.41/containers/abc/json", None, None, None, {}),
    ("POST", "/v1.41/containers/abc/start", None, None, None, {}),
    ("POST", "/v1.41/containers/abc/start", None, None, b"", {}),
    ("DELETE", "/v1.41/containers/abc", {"force": "true", "v": "false"}, None, None, {}),
    (
        "POST",
        "/v1.41/containers/create",
        {"name": "a b/ü&x=1"},
        {"Image": "busybox", "Env": ["A=ü"], "Tty": False, "N": None},
        None,
        {},
    ),
    ("PUT", "/v1.41/containers/abc/archive", {"path": "/tmp/a b"}, None, b"tar", {"X-A": "1"}),
    ("GET", "/v1.41/images/json", {"filters": '{"label":["a=b"]}', "all": "1"}, None, None, {}),
    ("GET", "/v1.41/containers/json", {"id": ["a", "b"], "n": 3}, None, None, {}),
    ("DELETE", "/v1.41/images/localhost:5000/a/b:1", None, None, None, {}),
    ("POST", "/v1.41/build", None, None, "text ü", {"X-Registry-Config": "e30="}),
    ("HEAD", "/_ping", None, None, None, {"user-agent": "other"}),
]


@pytest.mark.parametrize("base", ["http://localhost", "http://10.0.0.1:2375", "http://h:1/pre"])
@pytest.mark.parametrize(("method", "path", "params", "body", "content", "headers"), CASES)
def test_prepared_request_is_byte_for_byte_what_httpx_sends(
    base: str,
    method: str,
    path: str,
    params: Any,
    body: Any,
    content: Any,
    headers: dict[str, str],
) -> None:
    merged = {"User-Agent": "pydock/test", **headers}
    extensions = {"timeout": httpx.Timeout(5.0).as_dict()}
    prepared = prepare_request(
        method,
        base,
        path,
        params=params,
        json=body,
        content=content,
        headers=merged,
        extensions=extensions,
    )
    assert prepared is not None
    request = httpx.Request(
        method, base + path, params=params, json=body, content=content, headers=merged
    )
    expected = encode_request_head(method, request.url.raw_path, request.headers.raw)
    assert prepared.wire == expected + request.read()
    built = prepared.request()
    assert built.url == request.url
    assert built.headers.raw == request.headers.raw
    assert prepared.timeouts == extensions["timeout"]


@pytest.mark.parametrize(
    ("path", "content", "headers"),
    [
        ("/containers/a%20b/json", None, {}),  # already escaped: httpx's rules
        ("/containers/a b/json", None, {}),
        ("/images/json?all=1", None, {}),
        ("containers/json", None, {}),
        ("/build", iter([b"streamed"]), {}),
        ("/build", None, {"X-Name": "ü"}),
        ("/build", None, {"Content-Type": "application/x-tar"}),
    ],
)
def test_requests_the_shortcut_cannot_build_exactly_go_through_httpx(
    path: str, content: Any, headers: dict[str, str]
) -> None:
    prepared = prepare_request(
        "POST",
        "http://localhost",
        path,
        params=None,
        json=None,
        content=content,
        headers=headers,
        extensions={"timeout": {}},
    )
    assert prepared is None


def test_a_header_with_a_line_break_is_refused() -> None:
    with pytest.raises(ValueError, match="line break"):
        prepare_request(
            "GET",
            "http://localhost",
            "/info",
            params=None,
            json=None,
            content=None,
            headers={"X-Evil": "a\r\nHost: elsewhere"},
            extensions={"timeout": {}},
        )


# -- against the scripted server ---------------------------------------------


@pytest.mark.anyio
async def test_sequential_requests_share_one_connection(server: ScriptedServer) -> None:
    async with _client(server) as client:
        for i in range(20):
            answer = await client._json("GET", f"/echo/{i}", params={"q": "a b"})
            assert answer["target"] == f"/v1.41/echo/{i}?q=a+b"
            assert answer["headers"][:2] == [
                ["Host", "localhost"],
                ["User-Agent", client._headers["User-Agent"]],
            ]
    assert server.connections == 1


@pytest.mark.anyio
async def test_json_and_byte_bodies_arrive_whole(server: ScriptedServer) -> None:
    payload = {"Image": "busybox", "Env": ["A=ü"] * 1000}
    data = os.urandom(3 * 1024 * 1024 + 7)  # larger than the socket buffers: flow control
    async with _client(server) as client:
        answer = await client._json("POST", "/echo", json=payload)
        sent = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
        assert answer["sha256"] == hashlib.sha256(sent).hexdigest()
        assert ["Content-Type", "application/json"] in answer["headers"]
        answer = await client._json("PUT", "/echo", content=data)
        assert answer["length"] == len(data)
        assert answer["sha256"] == hashlib.sha256(data).hexdigest()
    assert server.connections == 1


@pytest.mark.anyio
async def test_streamed_upload_is_sent_chunked(server: ScriptedServer) -> None:
    parts = [os.urandom(100_000) for _ in range(30)]

    async def chunks() -> AsyncIterator[bytes]:
        for part in parts:
            yield bytes(part)  # a fresh object per chunk, as a file reader gives

    async with _client(server) as client:
        answer = await client._json("POST", "/echo", content=chunks())
    assert answer["sha256"] == hashlib.sha256(b"".join(parts)).hexdigest()
    assert ["Transfer-Encoding", "chunked"] in answer["headers"]


@pytest.mark.anyio
async def test_concurrent_requests_each_get_their_own_answer(server: ScriptedServer) -> None:
    async with _client(server) as client:

        def one(i: int) -> Any:
            return lambda: client._json("GET", f"/echo/{i}")

        answers = await run_parallel([one(i) for i in range(200)], 50)
        assert [a["target"] for a in answers] == [f"/v1.41/echo/{i}" for i in range(200)]
        opened = server.connections
        assert 1 <= opened <= 50
        await run_parallel([one(i) for i in range(100)], 50)
    assert server.connections <= 50  # idle connections were reused, not reopened


@pytest.mark.anyio
async def test_a_large_chunked_answer_read_whole(server: ScriptedServer) -> None:
    size = 9 * 1024 * 1024 + 3
    async with _client(server) as client:
        response = await client._request("GET", "/chunked", params={"size": size, "piece": 1000})
        assert response.content == _pattern(size)
        assert response.headers["transfer-encoding"] == "chunked"
        assert response.request.url.path == "/v1.41/chunked"
    assert server.connections == 1


@pytest.mark.anyio
async def test_a_slow_reader_streams_a_large_answer_with_bounded_buffering(
    server: ScriptedServer,
) -> None:
    size = 24 * 1024 * 1024
    received = []
    async with _client(server) as client:
        async with client._stream(
            "GET", "/chunked", params={"size": size, "piece": 65536}
        ) as response:
            first = True
            async for chunk in response.aiter_bytes():
                received.append(chunk)
                if first:
                    first = False
                    await sleep(0.3)  # the server fills every buffer meanwhile
            assert b"".join(received) == _pattern(size)
        assert await client._json("GET", "/echo")
    assert server.connections == 1  # read to the end: the connection went back to the pool


@pytest.mark.anyio
async def test_compressed_answer_is_decoded(server: ScriptedServer) -> None:
    async with _client(server) as client:
        assert await client._json("GET", "/gzip") == {"packed": True}


@pytest.mark.anyio
async def test_error_status_carries_the_body(server: ScriptedServer) -> None:
    async with _client(server) as client:
        with pytest.raises(pydock.errors.NotFound, match="no such path"):
            await client._json("GET", "/nowhere")
        assert await client._json("GET", "/echo")
    assert server.connections == 1


@pytest.mark.anyio
async def test_an_idle_connection_the_server_closed_is_not_reused(server: ScriptedServer) -> None:
    async with _client(server) as client:
        assert await client._json("GET", "/drop-after") == {}
        await sleep(0.05)
        assert (await client._json("GET", "/echo"))["target"] == "/v1.41/echo"
    assert server.connections == 2


@pytest.mark.anyio
async def test_a_stale_connection_found_on_sending_is_replaced_once(
    server: ScriptedServer,
) -> None:
    async with _client(server, retry=pydock.RetryPolicy.none()) as client:
        assert await client._json("GET", "/close-next") == {}
        assert (await client._json("GET", "/echo"))["target"] == "/v1.41/echo"
    assert server.connections == 2
    assert server.targets[-3:] == ["/v1.41/close-next", "/v1.41/echo", "/v1.41/echo"]


@pytest.mark.anyio
async def test_no_answer_is_a_timeout_and_the_connection_is_dropped(
    server: ScriptedServer,
) -> None:
    async with _client(server, retry=pydock.RetryPolicy.none()) as client:
        with pytest.raises(Timeout):
            await client._json("GET", "/silent", timeout=0.3)
        assert (await client._json("GET", "/echo"))["target"] == "/v1.41/echo"
    assert server.connections == 2


@pytest.mark.anyio
async def test_an_answer_cut_short_is_a_transport_error(server: ScriptedServer) -> None:
    async with _client(server, retry=pydock.RetryPolicy.none()) as client:
        with pytest.raises(TransportError, match="closed"):
            await client._json("GET", "/cut")
        assert (await client._json("GET", "/echo"))["target"] == "/v1.41/echo"
    assert server.connections == 2


@pytest.mark.anyio
async def test_a_tcp_engine_gets_the_same_treatment(tcp_server: ScriptedServer) -> None:
    data = os.urandom(2 * 1024 * 1024)
    async with _client(tcp_server) as client:
        answer = await client._json("PUT", "/echo", params={"n": "1"}, content=data)
        assert answer["target"] == "/v1.41/echo?n=1"
        assert ["Host", tcp_server.url.removeprefix("tcp://")] in answer["headers"]
        assert answer["sha256"] == hashlib.sha256(data).hexdigest()
        response = await client._request("GET", "/chunked", params={"size": 500_000, "piece": 99})
        assert response.content == _pattern(500_000)
        with pytest.raises(Timeout):
            await client._json("GET", "/silent", timeout=0.3)
        assert await client._json("GET", "/drop-after") == {}
        assert (await client._json("GET", "/echo"))["target"] == "/v1.41/echo"
    assert tcp_server.connections == 3


@pytest.mark.anyio
async def test_the_transport_serves_a_plain_httpx_client(server: ScriptedServer) -> None:
    transport = AsyncEngineTransport(socket_path=server.path)
    async with httpx.AsyncClient(transport=transport, base_url="http://engine") as http:
        response = await http.get("/echo", params={"a": "1"})
        assert response.json()["target"] == "/echo?a=1"
        async with http.stream("GET", "/chunked", params={"size": 100_000, "piece": 7}) as r:
            assert await r.aread() == _pattern(100_000)
    assert server.connections == 1


@pytest.mark.anyio  # unasync: remove
async def test_a_cancelled_request_leaves_no_half_used_connection(  # unasync: remove
    server: ScriptedServer,  # unasync: remove
) -> None:  # unasync: remove
    async with _client(server) as client:  # unasync: remove
        with anyio.move_on_after(0.2):  # unasync: remove
            await client._json("GET", "/silent")  # unasync: remove
        assert (await client._json("GET", "/echo"))["target"] == "/v1.41/echo"  # unasync: remove
    assert server.connections == 2  # unasync: remove
