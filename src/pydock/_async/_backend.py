"""Async I/O primitives (anyio): the only async module written by hand besides its sync twin.

Everything else in ``pydock._async`` is turned into ``pydock._sync`` by
``scripts/unasync.py``; this module and ``pydock._sync._backend`` are the two
hand-written halves that the generated code stands on. Keep their names equal.
"""

from __future__ import annotations

import contextlib
import select
import ssl
import time
from collections.abc import Awaitable, Callable, Sequence
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
    "Lock",
    "connect_tcp",
    "connect_unix",
    "fail_after",
    "monotonic",
    "open_file",
    "run_parallel",
    "run_process",
    "sleep",
    "to_thread",
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

    _session: Session

    @property
    def backend(self) -> Backend:
        """``"docker"`` or ``"podman"``.

        Raises:
            PydockError: Not detected yet: ``await client.connect()`` first.
        """
        if self._session.backend is not None:
            return self._session.backend
        if self._session.backend_choice != "auto":
            return self._session.backend_choice
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

        An idle plain socket that is readable has either hit EOF or holds bytes
        nobody asked for: either way it must not be reused.
        """
        if self.closed:
            return True
        if self._tls or self._raw is None:
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
    try:
        with fail_after(timeout):
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
    try:
        with fail_after(timeout):
            tcp = await anyio.connect_tcp(host, port)
            stream: anyio.abc.ByteStream = tcp
            if ssl_context is not None:
                from anyio.streams.tls import TLSStream

                stream = await TLSStream.wrap(
                    tcp,
                    hostname=server_hostname or host,
                    ssl_context=ssl_context,
                    standard_compatible=False,
                )
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
