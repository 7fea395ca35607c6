"""pydock's own HTTP/1.1 transport for engine sockets, under httpx's transport interface.

Why not httpx's default: its connection pool re-checks every connection for
every waiting request and collapses under concurrency (see PEERS.md). This
one keeps idle connections in a deque (O(1) per request), speaks HTTP/1.1
through h11, and supports upgraded (hijacked) connections for attach/exec:
a ``101`` answer carries the raw socket as ``extensions["network_stream"]``,
as httpx's own transport does.
"""

from __future__ import annotations

import collections
import ssl
from collections.abc import AsyncIterator
from typing import Any

import h11
import httpx

from pydock._async._backend import AsyncSocket, connect_tcp, connect_unix, monotonic

__all__ = ["AsyncEngineTransport"]

_READ_SIZE = 256 * 1024
_CLOSED_EARLY = "the engine closed the connection without answering"
_CLOSED_MIDWAY = "the connection closed in the middle of an answer"


class _AsyncConnection:
    """One HTTP/1.1 connection: an h11 state machine over a socket."""

    def __init__(self, sock: AsyncSocket, expiry: float) -> None:
        self.sock = sock
        self.h11 = h11.Connection(h11.CLIENT, max_incomplete_event_size=1024 * 1024)
        self.expiry = expiry
        self.requests = 0

    async def send_request(self, request: httpx.Request, timeout: float | None) -> None:
        headers = [(k, v) for k, v in request.headers.raw]
        target = request.url.raw_path
        data = self.h11.send(h11.Request(method=request.method, target=target, headers=headers))
        assert data is not None
        stream = request.stream
        if isinstance(stream, httpx.ByteStream):
            body = b"".join(stream)
            if body:
                data += self.h11.send(h11.Data(data=body)) or b""
            data += self.h11.send(h11.EndOfMessage()) or b""
            await self.sock.send(data, timeout)
            return
        await self.sock.send(data, timeout)
        async for chunk in stream:  # type: ignore[union-attr]
            if chunk:
                out = self.h11.send(h11.Data(data=chunk))
                if out:
                    await self.sock.send(out, timeout)
        await self.sock.send(self.h11.send(h11.EndOfMessage()) or b"", timeout)

    async def next_event(self, timeout: float | None) -> Any:
        while True:
            event = self.h11.next_event()
            if event is h11.NEED_DATA:
                data = await self.sock.receive(_READ_SIZE, timeout)
                if not data and self.h11.their_state == h11.SEND_RESPONSE:
                    raise httpx.RemoteProtocolError(_CLOSED_EARLY)
                self.h11.receive_data(data)
                continue
            return event

    async def receive_head(self, timeout: float | None) -> h11.Response | h11.InformationalResponse:
        while True:
            try:
                event = await self.next_event(timeout)
            except h11.RemoteProtocolError as exc:
                raise httpx.RemoteProtocolError(str(exc)) from exc
            if isinstance(event, h11.InformationalResponse):
                if event.status_code == 101:
                    return event
                continue  # 100 Continue and friends
            if isinstance(event, h11.Response):
                return event
            if isinstance(event, h11.ConnectionClosed):
                raise httpx.RemoteProtocolError(_CLOSED_EARLY)
            raise httpx.RemoteProtocolError(f"unexpected HTTP event {type(event).__name__}")

    def reusable(self) -> bool:
        return (
            self.h11.our_state is h11.DONE
            and self.h11.their_state is h11.DONE
            and not self.sock.closed
        )

    async def aclose(self) -> None:
        await self.sock.aclose()


class _AsyncResponseStream(httpx.AsyncByteStream):
    """The body of one answer; gives the connection back to the pool when read to the end."""

    def __init__(
        self,
        transport: AsyncEngineTransport,
        conn: _AsyncConnection,
        timeout: float | None,
    ) -> None:
        self._transport = transport
        self._conn = conn
        self._timeout = timeout
        self._done = False
        self._closed = False

    async def __aiter__(self) -> AsyncIterator[bytes]:
        conn = self._conn
        h = conn.h11
        try:
            while True:
                event = h.next_event()
                if event is h11.NEED_DATA:
                    data = await conn.sock.receive(_READ_SIZE, self._timeout)
                    h.receive_data(data)
                    continue
                if type(event) is h11.Data:
                    yield bytes(event.data)
                elif type(event) is h11.EndOfMessage:
                    self._done = True
                    return
                elif isinstance(event, h11.ConnectionClosed):
                    raise httpx.RemoteProtocolError(_CLOSED_MIDWAY)
        except h11.RemoteProtocolError as exc:
            await self.aclose()
            raise httpx.RemoteProtocolError(str(exc)) from exc

    async def aclose(self) -> None:
        if self._closed:
            return
        self._closed = True
        conn = self._conn
        if self._done and conn.reusable():
            try:
                conn.h11.start_next_cycle()
            except h11.LocalProtocolError:
                await conn.aclose()
                return
            await self._transport._release(conn)
        else:
            await conn.aclose()


class AsyncEngineTransport(httpx.AsyncBaseTransport):
    """An HTTP/1.1 transport to one engine over a unix socket or TCP (optionally TLS).

    Args:
        socket_path: The unix socket to connect to, or None for TCP.
        host: The TCP host (when ``socket_path`` is None).
        port: The TCP port.
        ssl_context: TLS settings for TCP, or None for plain TCP.
        server_hostname: The name to check the server's certificate against.
        max_idle: Idle connections kept for reuse.
        keepalive_expiry: Seconds an idle connection may be kept.
    """

    def __init__(
        self,
        *,
        socket_path: str | None = None,
        host: str | None = None,
        port: int | None = None,
        ssl_context: ssl.SSLContext | None = None,
        server_hostname: str | None = None,
        max_idle: int = 64,
        keepalive_expiry: float = 30.0,
    ) -> None:
        if socket_path is None and (host is None or port is None):
            raise ValueError("give either socket_path or host and port")
        self._socket_path = socket_path
        self._host = host
        self._port = port
        self._ssl_context = ssl_context
        self._server_hostname = server_hostname
        self._max_idle = max_idle
        self._keepalive_expiry = keepalive_expiry
        self._idle: collections.deque[_AsyncConnection] = collections.deque()
        self._closed = False

    async def _connect(self, timeout: float | None) -> _AsyncConnection:
        if self._socket_path is not None:
            sock = await connect_unix(self._socket_path, timeout)
        else:
            assert self._host is not None
            assert self._port is not None
            sock = await connect_tcp(
                self._host, self._port, timeout, self._ssl_context, self._server_hostname
            )
        return _AsyncConnection(sock, 0.0)

    async def _checkout(self, timeout: float | None) -> tuple[_AsyncConnection, bool]:
        now = monotonic()
        while self._idle:
            conn = self._idle.pop()
            if conn.expiry > now and not conn.sock.is_dead():
                return conn, True
            await conn.aclose()
        return await self._connect(timeout), False

    async def _release(self, conn: _AsyncConnection) -> None:
        if self._closed or len(self._idle) >= self._max_idle:
            await conn.aclose()
            return
        conn.expiry = monotonic() + self._keepalive_expiry
        self._idle.append(conn)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Send one request and return its answer, body still streaming."""
        if self._closed:
            raise httpx.ConnectError("the transport is closed")
        timeouts = request.extensions.get("timeout", {})
        connect_timeout = timeouts.get("connect")
        write_timeout = timeouts.get("write")
        read_timeout = timeouts.get("read")
        replayable = isinstance(request.stream, httpx.ByteStream)
        for attempt in (1, 2):
            conn, reused = await self._checkout(connect_timeout)
            try:
                await conn.send_request(request, write_timeout)
                head = await conn.receive_head(read_timeout)
            except (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError):
                await conn.aclose()
                if reused and replayable and attempt == 1:
                    continue  # a stale keep-alive connection: try once on a fresh one
                raise
            except BaseException:
                await conn.aclose()
                raise
            break
        headers = [(bytes(k), bytes(v)) for k, v in head.headers]
        extensions: dict[str, Any] = {
            "http_version": b"HTTP/" + head.http_version,
            "reason_phrase": head.reason,
        }
        if head.status_code == 101:
            trailing, _closed = conn.h11.trailing_data
            extensions["network_stream"] = _AsyncUpgradedStream(conn.sock, bytes(trailing))
            return httpx.Response(
                101, headers=headers, stream=httpx.ByteStream(b""), extensions=extensions
            )
        return httpx.Response(
            head.status_code,
            headers=headers,
            stream=_AsyncResponseStream(self, conn, read_timeout),
            extensions=extensions,
        )

    async def aclose(self) -> None:
        """Close every idle connection; answers still being read close as they finish."""
        self._closed = True
        while self._idle:
            await self._idle.pop().aclose()


class _AsyncUpgradedStream:
    """The raw byte stream of an upgraded connection (attach, exec with stdin).

    ``read``/``write``/``aclose`` follow httpcore's network stream interface.
    """

    def __init__(self, sock: AsyncSocket, leftover: bytes) -> None:
        self._sock = sock
        self._leftover = leftover

    async def read(self, max_bytes: int = 65536, timeout: float | None = None) -> bytes:
        """Read up to ``max_bytes``; ``b""`` when the other end is done."""
        if self._leftover:
            data, self._leftover = self._leftover[:max_bytes], self._leftover[max_bytes:]
            return data
        return await self._sock.receive(max_bytes, timeout)

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        """Write ``buffer``."""
        await self._sock.send(buffer, timeout)

    async def send_eof(self) -> None:
        """Half-close the connection (ends the container's stdin)."""
        await self._sock.send_eof()

    async def aclose(self) -> None:
        """Close the connection."""
        await self._sock.aclose()

    def get_extra_info(self, info: str) -> Any:
        """httpcore compatibility: no extra information."""
        return None
