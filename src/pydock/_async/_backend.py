"""Async I/O primitives (anyio): the only async module written by hand besides its sync twin.

Everything else in ``pydock._async`` is turned into ``pydock._sync`` by
``scripts/unasync.py``; this module and ``pydock._sync._backend`` are the two
hand-written halves that the generated code stands on. Keep their names equal.

Sockets are anyio streams, except under asyncio, where a plain (non-TLS)
engine connection is an ``asyncio.Protocol`` (:class:`_AsyncioSocket`): fewer
turns of the event loop per request.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import math
import os
import queue
import select
import ssl
import sys
import threading
import time
from collections.abc import AsyncGenerator, Awaitable, Callable, Sequence
from types import TracebackType
from typing import Any, TypeVar

import anyio
import anyio.abc
import anyio.to_thread
import httpx

from pydock._core.dialect import Backend, Session
from pydock.errors import PydockError

__all__ = [
    "AsyncClientBase",
    "AsyncSocket",
    "BackgroundDigest",
    "Lock",
    "connect_tcp",
    "connect_unix",
    "fail_after",
    "monotonic",
    "open_file",
    "pump_events",
    "run_parallel",
    "run_process",
    "sleep",
    "to_thread",
    "write_chunks",
]

sleep = anyio.sleep
monotonic = time.monotonic
Lock = anyio.Lock
_SMALL_WRITE = 64 * 1024


class AsyncClientBase:
    """What differs between the async and sync clients beyond ``await``.

    ``backend`` is a property: the async client cannot talk to the engine
    inside it, so it answers once the backend is known (forced with
    ``backend=``, or detected by ``await client.connect()`` or any call).
    """

    dialect: Session

    @property
    def backend(self) -> Backend:
        """``"docker"`` or ``"podman"``.

        Raises:
            PydockError: Not detected yet: ``await client.connect()`` first.
        """
        if self.dialect.backend is not None:
            return self.dialect.backend
        if self.dialect.backend_choice != "auto":
            return self.dialect.backend_choice
        raise PydockError(
            "the backend is not detected yet: `await client.connect()` (or make any call) first"
        )


class fail_after:
    """Raise ``TimeoutError`` when the block runs longer than ``seconds`` (None: no limit)."""

    def __init__(self, seconds: float | None) -> None:
        self._scope = anyio.fail_after(seconds) if seconds is not None else None

    def __enter__(self) -> None:
        if self._scope is not None:
            self._scope.__enter__()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool | None:
        if self._scope is not None:
            return self._scope.__exit__(exc_type, exc, tb)
        return None


class AsyncSocket:
    """A connected byte stream (unix or TCP, maybe TLS) with per-call timeouts.

    Also serves as the ``network_stream`` of an upgraded (hijacked) connection:
    ``read``/``write``/``aclose`` match httpcore's network stream interface.
    """

    def __init__(self, stream: anyio.abc.ByteStream, raw: Any, *, tls: bool) -> None:
        self._stream = stream
        self._raw = raw
        self._tls = tls
        self.closed = False

    async def receive(self, max_bytes: int = 65536, timeout: float | None = None) -> bytes:
        """Read up to ``max_bytes``; ``b""`` at the end of the stream.

        Raises:
            httpx.ReadTimeout: Nothing arrived within ``timeout``.
            httpx.ReadError: The connection broke.
        """
        try:
            if timeout is None:
                return await self._stream.receive(max_bytes)
            with anyio.fail_after(timeout):
                return await self._stream.receive(max_bytes)
        except (anyio.EndOfStream, anyio.ClosedResourceError):
            return b""
        except TimeoutError as exc:
            raise httpx.ReadTimeout("timed out reading from the engine") from exc
        except (OSError, anyio.BrokenResourceError, ssl.SSLError) as exc:
            raise httpx.ReadError(f"reading from the engine failed: {exc}") from exc

    async def send(self, data: bytes, timeout: float | None = None) -> None:
        """Write all of ``data``.

        Raises:
            httpx.WriteTimeout: The write did not finish within ``timeout``.
            httpx.WriteError: The connection broke.
        """
        try:
            # A small write fits in the socket buffer and cannot block: skip the
            # cancel scope a timeout costs on every request.
            if timeout is None or len(data) <= _SMALL_WRITE:
                await self._stream.send(data)
            else:
                with anyio.fail_after(timeout):
                    await self._stream.send(data)
        except TimeoutError as exc:
            raise httpx.WriteTimeout("timed out writing to the engine") from exc
        except (OSError, anyio.BrokenResourceError, anyio.ClosedResourceError, ssl.SSLError) as exc:
            raise httpx.WriteError(f"writing to the engine failed: {exc}") from exc

    async def send_eof(self) -> None:
        """Half-close: tell the other end no more data comes (closes a container's stdin)."""
        if self._tls:
            return
        with contextlib.suppress(
            OSError, AttributeError, anyio.ClosedResourceError, anyio.BrokenResourceError
        ):
            await self._stream.send_eof()  # type: ignore[attr-defined,unused-ignore]

    # httpcore-compatible names, for upgraded connections.
    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        """Read up to ``max_bytes`` (httpcore's network stream interface)."""
        return await self.receive(max_bytes, timeout)

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        """Write ``buffer`` (httpcore's network stream interface)."""
        await self.send(buffer, timeout)

    def is_dead(self) -> bool:
        """Whether an idle keep-alive connection was closed by the server.

        An idle socket that is readable has either hit EOF or holds bytes
        nobody asked for (for TLS: a close_notify, or a record nobody asked
        for): either way it must not be reused. Found here, before anything is
        sent, the request goes on a fresh connection, whatever its method.
        """
        if self.closed:
            return True
        if self._raw is None:
            return False
        try:
            readable, _, _ = select.select([self._raw], [], [], 0)
        except (OSError, ValueError):
            return True
        return bool(readable)

    async def aclose(self) -> None:
        """Close the connection."""
        if not self.closed:
            self.closed = True
            with contextlib.suppress(OSError, anyio.BrokenResourceError):
                await self._stream.aclose()


# Bytes an asyncio connection buffers before it stops reading the socket, and
# the level at which it starts again (the reader is slower than the engine).
_READ_HIGH = 2 * 1024 * 1024
_READ_LOW = 512 * 1024
# A large write is handed to the transport in pieces, so that what it buffers
# (and copies) stays near its high-water mark.
_WRITE_PIECE = 1024 * 1024


def _expire(waiter: asyncio.Future[bool]) -> None:
    if not waiter.done():
        waiter.set_result(False)


class _AsyncioSocket(AsyncSocket, asyncio.Protocol):
    """:class:`AsyncSocket` on asyncio's transports, for plain sockets under asyncio.

    anyio's socket streams cost every send and every receive an extra turn of
    the event loop (a checkpoint) and register the socket with the selector
    for each wait; a protocol stays registered and is handed the bytes as they
    arrive, so a request and its answer cost one wake-up. Timeouts are loop
    timers, not cancel scopes. Under trio, :class:`AsyncSocket` (anyio) is used.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._tls = False
        self._raw = None
        self._transport: asyncio.Transport | None = None
        self._chunks: collections.deque[bytes] = collections.deque()
        self._buffered = 0
        self._eof = False
        self._lost = False
        self._error: BaseException | None = None
        self._waiter: asyncio.Future[bool] | None = None
        self._reading_paused = False
        self._writing_paused = False
        self._drain_waiter: asyncio.Future[bool] | None = None
        self.closed = False

    # -- protocol callbacks (called by the event loop) --

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport

    def data_received(self, data: bytes) -> None:
        self._chunks.append(data)
        self._buffered += len(data)
        if self._buffered >= _READ_HIGH and not self._reading_paused:
            self._reading_paused = True
            assert self._transport is not None
            self._transport.pause_reading()
        self._wake()

    def eof_received(self) -> bool:
        self._eof = True
        self._wake()
        return True  # keep the writing half open; aclose() closes

    def connection_lost(self, exc: Exception | None) -> None:
        self._eof = self._lost = True
        self._error = exc
        self._wake()
        self._wake_drain()

    def pause_writing(self) -> None:
        self._writing_paused = True

    def resume_writing(self) -> None:
        self._writing_paused = False
        self._wake_drain()

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None:
            self._waiter = None
            if not waiter.done():
                waiter.set_result(True)

    def _wake_drain(self) -> None:
        waiter = self._drain_waiter
        if waiter is not None:
            self._drain_waiter = None
            if not waiter.done():
                waiter.set_result(True)

    async def _wait(self, waiter: asyncio.Future[bool], timeout: float | None) -> bool:
        """Wait for ``waiter``: True when woken, False when ``timeout`` passed first."""
        if timeout is None:
            return await waiter
        timer = self._loop.call_later(timeout, _expire, waiter)
        try:
            return await waiter
        finally:
            timer.cancel()

    # -- the AsyncSocket interface --

    async def receive(self, max_bytes: int = 65536, timeout: float | None = None) -> bytes:
        """Read up to ``max_bytes``; ``b""`` at the end of the stream.

        What is already buffered is handed over in one piece (several reads
        joined, up to ``max_bytes``), without a turn of the event loop.

        Raises:
            httpx.ReadTimeout: Nothing arrived within ``timeout``.
            httpx.ReadError: The connection broke.
        """
        chunks = self._chunks
        while not chunks:
            if self.closed:
                return b""
            if self._eof:
                if self._error is not None:
                    raise httpx.ReadError(f"reading from the engine failed: {self._error}")
                return b""
            waiter = self._waiter = self._loop.create_future()
            try:
                woken = await self._wait(waiter, timeout)
            finally:
                self._waiter = None
            if not woken:
                raise httpx.ReadTimeout("timed out reading from the engine")
        data = chunks.popleft()
        if len(data) > max_bytes:
            chunks.appendleft(data[max_bytes:])
            data = data[:max_bytes]
        elif chunks and len(data) + len(chunks[0]) <= max_bytes:
            parts = [data]
            size = len(data)
            while chunks and size + len(chunks[0]) <= max_bytes:
                part = chunks.popleft()
                parts.append(part)
                size += len(part)
            data = b"".join(parts)
        self._buffered -= len(data)
        if self._reading_paused and self._buffered <= _READ_LOW and not self._lost:
            self._reading_paused = False
            assert self._transport is not None
            self._transport.resume_reading()
        return data

    async def send(self, data: bytes, timeout: float | None = None) -> None:
        """Write all of ``data`` (waits only while the transport's buffer is full).

        Raises:
            httpx.WriteTimeout: The buffer did not drain within ``timeout``.
            httpx.WriteError: The connection broke.
        """
        transport = self._transport
        if self._broken() or transport is None or transport.is_closing():
            raise httpx.WriteError("writing to the engine failed: the connection is closed")
        if len(data) <= _WRITE_PIECE:
            transport.write(data)
            if self._writing_paused:
                await self._drain(timeout)
        else:
            view = memoryview(data)
            for start in range(0, len(data), _WRITE_PIECE):
                if self._broken():
                    break
                transport.write(view[start : start + _WRITE_PIECE])
                if self._writing_paused:
                    await self._drain(timeout)
        if self._broken():
            raise httpx.WriteError(f"writing to the engine failed: {self._error or 'closed'}")

    def _broken(self) -> bool:
        return self._lost or self.closed

    async def _drain(self, timeout: float | None) -> None:
        while self._writing_paused and not self._lost and not self.closed:
            waiter = self._drain_waiter = self._loop.create_future()
            try:
                drained = await self._wait(waiter, timeout)
            finally:
                self._drain_waiter = None
            if not drained:
                raise httpx.WriteTimeout("timed out writing to the engine")

    async def send_eof(self) -> None:
        """Half-close: tell the other end no more data comes (closes a container's stdin)."""
        transport = self._transport
        if transport is None or self._lost or self.closed:
            return
        with contextlib.suppress(OSError, RuntimeError, NotImplementedError):
            if transport.can_write_eof():
                transport.write_eof()

    def is_dead(self) -> bool:
        """Whether an idle keep-alive connection was closed by the server (or holds stray bytes)."""
        return self.closed or self._eof or bool(self._chunks)

    async def aclose(self) -> None:
        """Close the connection (unsent bytes are dropped)."""
        if not self.closed:
            self.closed = True
            if self._transport is not None:
                self._transport.abort()
            self._wake()
            self._wake_drain()


def _asyncio_loop() -> asyncio.AbstractEventLoop | None:
    """The running asyncio loop, or None under trio (also as asyncio's guest)."""
    trio = sys.modules.get("trio")
    if trio is not None:
        try:
            trio.lowlevel.current_task()
            return None
        except RuntimeError:
            pass
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


def _raw_socket(stream: anyio.abc.ByteStream) -> Any:
    try:
        return stream.extra(anyio.abc.SocketAttribute.raw_socket)
    except anyio.TypedAttributeLookupError:
        return None


async def connect_unix(path: str, timeout: float | None) -> AsyncSocket:
    """Connect to a unix socket.

    Raises:
        httpx.ConnectError: The socket is missing or refuses.
        httpx.ConnectTimeout: No connection within ``timeout``.
    """
    loop = _asyncio_loop()
    try:
        with fail_after(timeout):
            if loop is not None:
                _, protocol = await loop.create_unix_connection(lambda: _AsyncioSocket(loop), path)
                return protocol
            stream = await anyio.connect_unix(path)
    except TimeoutError as exc:
        raise httpx.ConnectTimeout(f"timed out connecting to unix://{path}") from exc
    except OSError as exc:
        raise httpx.ConnectError(f"cannot connect to unix://{path}: {exc.strerror or exc}") from exc
    return AsyncSocket(stream, _raw_socket(stream), tls=False)


async def connect_tcp(
    host: str,
    port: int,
    timeout: float | None,
    ssl_context: ssl.SSLContext | None = None,
    server_hostname: str | None = None,
) -> AsyncSocket:
    """Connect to a TCP address, with TLS when ``ssl_context`` is given.

    Raises:
        httpx.ConnectError: Refused, unreachable, or the TLS handshake failed.
        httpx.ConnectTimeout: No connection within ``timeout``.
    """
    loop = _asyncio_loop() if ssl_context is None else None
    try:
        with fail_after(timeout):
            if loop is not None:
                _, protocol = await loop.create_connection(lambda: _AsyncioSocket(loop), host, port)
                return protocol
            tcp = await anyio.connect_tcp(host, port)
            stream: anyio.abc.ByteStream = tcp
            if ssl_context is not None:
                from anyio.streams.tls import TLSStream

                try:
                    stream = await TLSStream.wrap(
                        tcp,
                        hostname=server_hostname or host,
                        ssl_context=ssl_context,
                        standard_compatible=False,
                    )
                except BaseException:
                    # A failed handshake (a plain HTTP server) must not leak the socket.
                    await anyio.aclose_forcefully(tcp)
                    raise
    except TimeoutError as exc:
        raise httpx.ConnectTimeout(f"timed out connecting to {host}:{port}") from exc
    except (OSError, ssl.SSLError, anyio.BrokenResourceError) as exc:
        raise httpx.ConnectError(f"cannot connect to {host}:{port}: {exc}") from exc
    raw = _raw_socket(tcp)
    return AsyncSocket(stream, raw, tls=ssl_context is not None)


# -- registry client primitives ---------------------------------------------

_T = TypeVar("_T")

#: Open a file for async reads and writes (``anyio.open_file``).
open_file = anyio.open_file


async def run_parallel(funcs: Sequence[Callable[[], Awaitable[_T]]], limit: int) -> list[_T]:
    """Run ``funcs`` concurrently, at most ``limit`` at a time; their results in order.

    After a failure no new call starts; the calls already running finish
    (they are not interrupted mid-transfer), then the first failure is raised
    as is (not in a group).
    """
    results: list[Any] = [None] * len(funcs)
    failures: list[BaseException] = []
    limiter = anyio.CapacityLimiter(max(1, limit))

    async def run(index: int, func: Callable[[], Awaitable[_T]]) -> None:
        async with limiter:
            if failures:
                return
            try:
                results[index] = await func()
            except Exception as exc:
                failures.append(exc)

    async with anyio.create_task_group() as group:
        for index, func in enumerate(funcs):
            group.start_soon(run, index, func)
    if failures:
        raise failures[0]
    return results


async def run_process(argv: Sequence[str], input: bytes | None = None) -> tuple[int, bytes, bytes]:
    """Run a program to completion: ``(returncode, stdout, stderr)``.

    Raises:
        OSError: The program cannot be started (``FileNotFoundError`` when missing).
    """
    done = await anyio.run_process(list(argv), input=input, check=False)
    return done.returncode, done.stdout or b"", done.stderr or b""


async def to_thread(func: Callable[..., _T], *args: Any) -> _T:
    """Run blocking ``func(*args)`` in a worker thread."""
    return await anyio.to_thread.run_sync(func, *args)


class BackgroundDigest:
    """Feed chunks to ``update`` on a thread of its own, in order, while the caller does I/O.

    hashlib releases the GIL for large buffers, so a blob is hashed on the
    second core while the next chunk is received or written. The first
    ``inline_limit`` bytes are hashed in the caller (small blobs never start a
    thread); at most ``depth`` chunks wait for the thread. The chunks must not
    change after they are fed (``bytes``).

    Args:
        update: Called with every chunk (e.g. ``Digester.update``).
        depth: Chunks that may wait before :meth:`feed` waits too.
        inline_limit: Bytes hashed in the caller before the thread starts.
    """

    def __init__(
        self, update: Callable[[bytes], object], *, depth: int = 16, inline_limit: int = 1 << 20
    ) -> None:
        self._update = update
        self._queue: queue.Queue[bytes | None] = queue.Queue(depth)
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None
        self._inline = inline_limit

    def _run(self) -> None:
        take = self._queue.get
        while (chunk := take()) is not None:
            if self._error is None:
                try:
                    self._update(chunk)
                except BaseException as exc:  # re-raised by finish()
                    self._error = exc

    async def feed(self, chunk: bytes) -> None:
        """Hash ``chunk`` after the ones fed before it (waits only when the thread lags)."""
        if self._thread is None:
            if self._inline >= len(chunk):
                self._inline -= len(chunk)
                self._update(chunk)
                return
            self._thread = threading.Thread(target=self._run, name="pydock-digest", daemon=True)
            self._thread.start()
        try:
            self._queue.put_nowait(chunk)
        except queue.Full:
            await anyio.to_thread.run_sync(self._queue.put, chunk)

    async def _stop(self) -> None:
        thread, self._thread = self._thread, None
        if thread is not None:
            await anyio.to_thread.run_sync(self._queue.put, None)
            await anyio.to_thread.run_sync(thread.join)

    async def finish(self) -> None:
        """Wait until every chunk fed is hashed; raise what ``update`` raised, if anything."""
        await self._stop()
        if self._error is not None:
            raise self._error

    async def aclose(self) -> None:
        """Stop the thread (after the chunks already fed); its errors are dropped."""
        await self._stop()


def write_chunks(fd: int, chunks: Sequence[bytes]) -> int:
    """Write ``chunks`` to a file with one ``writev`` (no joining copy); the bytes written."""
    total = sum(len(c) for c in chunks)
    views = [memoryview(c) for c in chunks]
    left = total
    while left:
        done = os.writev(fd, views)
        left -= done
        while views and done >= len(views[0]):
            done -= len(views[0])
            views.pop(0)
        if done:
            views[0] = views[0][done:]
    return total


_E = TypeVar("_E")


async def pump_events(
    work: Callable[[Callable[[_E], None]], Awaitable[object]],
) -> AsyncGenerator[_E, None]:
    """Run ``work(emit)`` concurrently and yield what it emits, as it emits it.

    ``work`` may emit from any of its tasks. A failure of ``work`` is raised
    as is (not in a group) after the events emitted before it. Closing the
    generator (``aclose()``, in the task that iterates it) cancels ``work``.
    """
    send, receive = anyio.create_memory_object_stream[_E](math.inf)
    failures: list[Exception] = []

    async def run() -> None:
        try:
            await work(send.send_nowait)
        except Exception as exc:
            failures.append(exc)
        finally:
            send.close()

    closed = False
    async with anyio.create_task_group() as group, receive:
        group.start_soon(run)
        try:
            async for event in receive:
                yield event
        except GeneratorExit:
            # Closed early: stop ``work`` here rather than let the group wrap the exit.
            closed = True
            group.cancel_scope.cancel()
    if failures and not closed:
        raise failures[0]
