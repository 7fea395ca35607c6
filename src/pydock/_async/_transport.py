"""pydock's own HTTP/1.1 transport for engine sockets, under httpx's transport interface.

Why not httpx's default: its connection pool re-checks every connection for
every waiting request and collapses under concurrency (see PEERS.md). This
one keeps idle connections in a deque (O(1) per request), speaks HTTP/1.1
through pydock's own sans-I/O codec (``pydock._core.http11``), and supports
upgraded (hijacked) connections for attach/exec:
a ``101`` answer carries the raw socket as ``extensions["network_stream"]``,
as httpx's own transport does.

The engine client's fast path bypasses httpx's objects: :func:`prepare_request`
encodes a request with an in-memory body to the bytes httpx would send, and
:meth:`AsyncEngineTransport.fetch` sends them and reads the whole answer.
"""

from __future__ import annotations

import collections
import json as jsonlib
import re
import ssl
from collections.abc import AsyncIterator, Mapping
from typing import Any

import httpx

from pydock._async._backend import AsyncSocket, connect_tcp, connect_unix, monotonic
from pydock._core.config import ERROR_BODY_LIMIT
from pydock._core.deadline import deadline
from pydock._core.http11 import (
    LAST_CHUNK,
    ConnectionClosed,
    Data,
    EndOfMessage,
    Event,
    ProtocolError,
    Response,
    ResponseParser,
    encode_chunk,
    encode_request_head,
)
from pydock._core.retry import is_idempotent
from pydock.errors import ResponseTooLarge

__all__ = [
    "IDEMPOTENT_EXTENSION",
    "AsyncEngineTransport",
    "MalformedResponse",
    "PreparedRequest",
    "prepare_request",
]

_READ_SIZE = 256 * 1024
_CLOSED_EARLY = "the engine closed the connection without answering"
_CLOSED_MIDWAY = "the connection closed in the middle of an answer"

# Paths httpx sends exactly as given: unreserved and sub-delimiter characters,
# ":", "@" and "/" (no "%", "?" or "#": those take httpx's own URL handling).
_PLAIN_PATH = re.compile(r"[A-Za-z0-9\-._~!$&'()*+,;=:@/]*").fullmatch
# Headers the request builder decides itself; given by a caller, they take httpx's path.
_BUILT_HEADERS = frozenset({"host", "content-length", "transfer-encoding", "content-type"})
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
_BASES: dict[str, tuple[bytes, bytes] | None] = {}
#: The request extension that marks a request idempotent (or not) whatever its method.
IDEMPOTENT_EXTENSION = "pydock.idempotent"
_DEADLINE_PASSED = "the call's deadline passed"


class MalformedResponse(httpx.RemoteProtocolError):
    """The server's bytes are not valid HTTP/1.1: never retried, mapped to ``ProtocolError``."""


def _left(timeout: float | None, error: type[httpx.TimeoutException]) -> float | None:
    """``timeout`` clamped to the current deadline; ``error`` once the deadline has passed."""
    left = deadline.clamp(timeout)
    if left is not None and left <= 0.0:
        raise error(_DEADLINE_PASSED)
    return left


class PreparedRequest:
    """A request encoded for the wire, with its body in memory (the client's fast path).

    ``request()`` builds the equivalent ``httpx.Request`` when something asks
    for one (a retry, a log line, ``response.request``).
    """

    __slots__ = ("_args", "_request", "head_only", "idempotent", "timeouts", "wire")

    def __init__(
        self,
        wire: bytes,
        head_only: bool,
        timeouts: Mapping[str, Any],
        args: dict[str, Any],
        idempotent: bool = False,
    ) -> None:
        self.wire = wire
        self.head_only = head_only
        self.timeouts = timeouts
        self.idempotent = idempotent
        self._args = args
        self._request: httpx.Request | None = None

    def request(self) -> httpx.Request:
        """The ``httpx.Request`` that sends the same bytes."""
        if self._request is None:
            self._request = httpx.Request(**self._args)
        return self._request

    @property
    def headers(self) -> httpx.Headers:
        """The request's headers, as httpx gives them."""
        return self.request().headers


def _base(base_url: str) -> tuple[bytes, bytes] | None:
    """``(Host header, path prefix)`` of a client's base URL, or None for an unusual one."""
    try:
        return _BASES[base_url]
    except KeyError:
        url = httpx.URL(base_url)
        prefix = url.raw_path.rstrip(b"/")
        plain = not url.query and not url.fragment and _PLAIN_PATH(prefix.decode("ascii"))
        base = (url.netloc, prefix) if plain and url.host else None
        _BASES[base_url] = base
        return base


def prepare_request(
    method: str,
    base_url: str,
    path: str,
    *,
    params: Mapping[str, Any] | None,
    json: Any,
    content: Any,
    headers: Mapping[str, str],
    extensions: dict[str, Any],
    idempotent: bool | None = None,
) -> PreparedRequest | None:
    """The bytes httpx would send for ``httpx.Request(method, base_url + path, ...)``.

    None when the request is not one this shortcut builds exactly (a streamed
    body, a path or header that needs httpx's encoding): send it through httpx.
    ``idempotent`` (by default: whether the method is) allows the transport to
    resend the request on a fresh connection when a kept-alive one turns out dead.

    Raises:
        ValueError: A header holds a line break.
    """
    if content is not None and not isinstance(content, bytes | str):
        return None
    if not path.startswith("/") or not _PLAIN_PATH(path):
        return None
    base = _base(base_url)
    if base is None:
        return None
    netloc, prefix = base
    target = prefix + path.encode("ascii")
    if params:
        target += b"?" + str(httpx.QueryParams(params)).encode("ascii")
    raw: list[tuple[bytes, bytes]] = [(b"Host", netloc)]
    try:
        for name, value in headers.items():
            if type(name) is not str or type(value) is not str:
                return None
            if name.lower() in _BUILT_HEADERS:
                return None
            raw.append((name.encode("ascii"), value.encode("ascii")))
    except UnicodeEncodeError:
        return None
    body = b""
    if json is not None:
        if content is not None:
            return None
        text = jsonlib.dumps(json, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
        body = text.encode("utf-8")
        raw += [(b"Content-Length", b"%d" % len(body)), (b"Content-Type", b"application/json")]
    elif content:
        body = content.encode("utf-8") if isinstance(content, str) else content
        raw.append((b"Content-Length", b"%d" % len(body)))
    if not body and method in _BODY_METHODS:
        raw.insert(1, (b"Content-Length", b"0"))
    head = encode_request_head(method, target, raw)
    args = {
        "method": method,
        "url": base_url + path,
        "params": params,
        "json": json,
        "content": content,
        "headers": headers,
        "extensions": extensions,
    }
    if idempotent is None:
        idempotent = is_idempotent(method)
    return PreparedRequest(head + body, method == "HEAD", extensions["timeout"], args, idempotent)


class _FetchedResponse(httpx.Response):
    """A fully read answer whose ``httpx.Request`` is built only if asked for."""

    _prepared: PreparedRequest | None = None

    @property
    def request(self) -> httpx.Request:
        """The request this answers."""
        if self._request is None and self._prepared is not None:
            self._request = self._prepared.request()
        return super().request

    @request.setter
    def request(self, value: httpx.Request) -> None:
        self._request = value


def _extensions(head: Response) -> dict[str, Any]:
    version = b"HTTP/1.1" if head.http_version == b"1.1" else b"HTTP/" + head.http_version
    return {"http_version": version, "reason_phrase": head.reason}


def _too_large(prepared: PreparedRequest, limit: int) -> ResponseTooLarge:
    method = prepared._args["method"]
    path = httpx.URL(prepared._args["url"]).path
    return ResponseTooLarge(
        f"the answer is larger than the {limit}-byte limit (max_response_size); "
        "nothing more was read",
        limit=limit,
        method=method,
        path=path,
    )


class _AsyncConnection:
    """One HTTP/1.1 connection: pydock's sans-I/O codec over a socket."""

    def __init__(self, sock: AsyncSocket, expiry: float) -> None:
        self.sock = sock
        self.parser = ResponseParser()
        self.events: collections.deque[Event] = collections.deque()
        self.expiry = expiry
        self.keep_alive = False
        self.sent = False

    async def send_request(self, request: httpx.Request, timeout: float | None) -> None:
        raw = request.headers.raw
        head = encode_request_head(request.method, request.url.raw_path, raw)
        chunked = any(k.lower() == b"transfer-encoding" and b"chunked" in v.lower() for k, v in raw)
        stream = request.stream
        if isinstance(stream, httpx.ByteStream):
            body = b"".join(stream)
            if chunked:
                body = (encode_chunk(body) if body else b"") + LAST_CHUNK
            await self.sock.send(head + body, _left(timeout, httpx.WriteTimeout))
        else:
            await self.sock.send(head, _left(timeout, httpx.WriteTimeout))
            async for chunk in stream:  # type: ignore[union-attr]
                if chunk:
                    data = encode_chunk(chunk) if chunked else chunk
                    await self.sock.send(data, _left(timeout, httpx.WriteTimeout))
            if chunked:
                await self.sock.send(LAST_CHUNK, _left(timeout, httpx.WriteTimeout))

    async def next_event(self, timeout: float | None) -> Event:
        events = self.events
        while not events:
            data = await self.sock.receive(_READ_SIZE, _left(timeout, httpx.ReadTimeout))
            try:
                events.extend(self.parser.feed(data))
            except ConnectionClosed as exc:
                raise httpx.RemoteProtocolError(str(exc)) from exc
            except ProtocolError as exc:
                raise MalformedResponse(str(exc)) from exc
        return events.popleft()

    async def receive_head(self, timeout: float | None) -> Response:
        event = await self.next_event(timeout)
        if not isinstance(event, Response):
            raise MalformedResponse(f"unexpected HTTP event {type(event).__name__}")
        self.keep_alive = event.keep_alive
        return event

    def reusable(self) -> bool:
        return (
            self.sent
            and self.keep_alive
            and self.parser.done
            and not self.events
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
        try:
            while True:
                event = await conn.next_event(self._timeout)
                if type(event) is Data:
                    yield event.data
                elif type(event) is EndOfMessage:
                    self._done = True
                    return
        except httpx.RemoteProtocolError:
            await self.aclose()
            raise

    async def aclose(self) -> None:
        if self._closed:
            return
        self._closed = True
        conn = self._conn
        if self._done and conn.reusable():
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
        timeout = _left(timeout, httpx.ConnectTimeout)
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

    async def _exchange(
        self, send: Any, head_only: bool, idempotent: bool, timeouts: Mapping[str, Any]
    ) -> tuple[_AsyncConnection, Response]:
        """Send a request (``await send(conn)``) and read the answer's head.

        An idle connection found dead before sending is dropped unused, so the
        request goes on a fresh one. A kept-alive connection that breaks once
        the request was (maybe) written is resent, once, on a new connection,
        only if the request is idempotent: the server may have acted on it.
        Malformed answers and timeouts are never resent.
        """
        connect_timeout = timeouts.get("connect")
        read_timeout = timeouts.get("read")
        for attempt in (1, 2):
            conn, reused = await self._checkout(connect_timeout)
            try:
                conn.parser.start_next(head_request=head_only)
                conn.sent = False
                conn.keep_alive = False
                await send(conn)
                conn.sent = True
                head = await conn.receive_head(read_timeout)
            except MalformedResponse:
                await conn.aclose()
                raise
            except (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError):
                await conn.aclose()
                if reused and idempotent and attempt == 1:
                    continue  # a stale keep-alive connection: try once on a fresh one
                raise
            except BaseException:
                await conn.aclose()
                raise
            return conn, head
        raise AssertionError("unreachable")  # pragma: no cover

    async def fetch(
        self,
        prepared: PreparedRequest,
        *,
        limit: int | None = None,
        error_limit: int = ERROR_BODY_LIMIT,
    ) -> httpx.Response:
        """Send a prepared request and read its whole answer (the client's fast path).

        Args:
            prepared: The request.
            limit: The most body bytes read for a successful answer (None: no limit).
            error_limit: The most body bytes read for an error answer (status 400
                and up): the rest is not read, and the start is kept.

        Raises:
            httpx.TransportError: Connecting, writing or reading failed.
            ResponseTooLarge: A successful answer is larger than ``limit``;
                the connection was closed without reading the rest.
        """
        if self._closed:
            raise httpx.ConnectError("the transport is closed")
        timeouts = prepared.timeouts
        write_timeout = timeouts.get("write")
        read_timeout = timeouts.get("read")
        wire = prepared.wire

        async def send(conn: _AsyncConnection) -> None:
            await conn.sock.send(wire, _left(write_timeout, httpx.WriteTimeout))

        conn, head = await self._exchange(send, prepared.head_only, prepared.idempotent, timeouts)
        parts: list[bytes] = []
        status = head.status_code
        cap = error_limit if status >= 400 else limit
        try:
            if status != 101:
                if cap is not None and status < 400 and (head.content_length or 0) > cap:
                    raise _too_large(prepared, cap)
                size = 0
                while True:
                    event = await conn.next_event(read_timeout)
                    if type(event) is Data:
                        parts.append(event.data)
                        if cap is not None:
                            size += len(event.data)
                            if size > cap:
                                if status < 400:
                                    raise _too_large(prepared, cap)
                                # An error's message: keep its start, read no further.
                                parts = [b"".join(parts)[:cap]]
                                break
                    elif type(event) is EndOfMessage:
                        break
        except BaseException:
            await conn.aclose()
            raise
        if head.status_code != 101 and conn.reusable():
            await self._release(conn)
        else:
            await conn.aclose()
        body = parts[0] if len(parts) == 1 else b"".join(parts)
        response = _FetchedResponse(
            head.status_code,
            headers=head.headers,
            stream=httpx.ByteStream(body),
            extensions=_extensions(head),
        )
        response._prepared = prepared
        if head.encoded:
            response.read()  # decoded by httpx, as its own path would
        else:
            response._content = body
            response.is_stream_consumed = True
            response.is_closed = True
        return response

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Send one request and return its answer, body still streaming."""
        if self._closed:
            raise httpx.ConnectError("the transport is closed")
        timeouts = request.extensions.get("timeout", {})
        write_timeout = timeouts.get("write")
        read_timeout = timeouts.get("read")
        marked = request.extensions.get(IDEMPOTENT_EXTENSION)
        idempotent = isinstance(request.stream, httpx.ByteStream) and (
            is_idempotent(request.method) if marked is None else bool(marked)
        )

        async def send(conn: _AsyncConnection) -> None:
            await conn.send_request(request, write_timeout)

        conn, head = await self._exchange(send, request.method == "HEAD", idempotent, timeouts)
        headers = head.headers
        extensions = _extensions(head)
        if head.status_code == 101:
            trailing = conn.parser.take_trailing()
            extensions["network_stream"] = _AsyncUpgradedStream(conn.sock, trailing)
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
