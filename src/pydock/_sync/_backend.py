"""Blocking I/O primitives (sockets): the hand-written twin of ``pydock._async._backend``.

Everything else in ``pydock._sync`` is generated from ``pydock._async`` by
``scripts/unasync.py``. Keep the names here equal to the async module's.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import os
import queue
import select
import socket
import ssl
import subprocess
import threading
import time
from collections.abc import Callable, Generator, Sequence
from types import TracebackType
from typing import Any, TypeVar

import httpx

from pydock._core.dialect import Backend, Session
from pydock.errors import PydockError

__all__ = [
    "BackgroundDigest",
    "ClientBase",
    "Lock",
    "Socket",
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

sleep = time.sleep
monotonic = time.monotonic
Lock = threading.Lock


class ClientBase:
    """What differs between the sync and async clients beyond ``await``.

    The sync client may talk to the engine inside a property, so ``backend``
    detects the backend on first use.
    """

    dialect: Session

    def connect(self) -> None:
        """Talk to the engine once to learn its backend and API version."""
        raise NotImplementedError

    @property
    def backend(self) -> Backend:
        """``"docker"`` or ``"podman"``, detected from the engine on first use.

        Raises:
            ConnectError: The engine cannot be reached to detect it.
        """
        if self.dialect.backend is None and self.dialect.backend_choice == "auto":
            self.connect()
        if self.dialect.backend is not None:
            return self.dialect.backend
        assert self.dialect.backend_choice != "auto"
        return self.dialect.backend_choice


class fail_after:
    """Blocking code cannot be interrupted from outside: a no-op kept for symmetry.

    Every blocking call below takes its own timeout instead.
    """

    def __init__(self, seconds: float | None) -> None:
        self.seconds = seconds

    def __enter__(self) -> None:
        return None

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool | None:
        return None


class Socket:
    """A connected blocking socket (unix or TCP, maybe TLS) with per-call timeouts.

    Also serves as the ``network_stream`` of an upgraded (hijacked) connection:
    ``read``/``write``/``close`` match httpcore's network stream interface.
    """

    def __init__(self, sock: socket.socket, *, tls: bool) -> None:
        self._sock = sock
        self._tls = tls
        self._timeout: float | None = -1.0
        self.closed = False

    def _set_timeout(self, timeout: float | None) -> None:
        if timeout != self._timeout:
            self._sock.settimeout(timeout)
            self._timeout = timeout

    def receive(self, max_bytes: int = 65536, timeout: float | None = None) -> bytes:
        """Read up to ``max_bytes``; ``b""`` at the end of the stream.

        Raises:
            httpx.ReadTimeout: Nothing arrived within ``timeout``.
            httpx.ReadError: The connection broke.
        """
        self._set_timeout(timeout)
        try:
            return self._sock.recv(max_bytes)
        except TimeoutError as exc:
            raise httpx.ReadTimeout("timed out reading from the engine") from exc
        except (OSError, ssl.SSLError) as exc:
            if self.closed:
                return b""
            raise httpx.ReadError(f"reading from the engine failed: {exc}") from exc

    def send(self, data: bytes, timeout: float | None = None) -> None:
        """Write all of ``data``.

        Raises:
            httpx.WriteTimeout: The write did not finish within ``timeout``.
            httpx.WriteError: The connection broke.
        """
        self._set_timeout(timeout)
        try:
            self._sock.sendall(data)
        except TimeoutError as exc:
            raise httpx.WriteTimeout("timed out writing to the engine") from exc
        except (OSError, ssl.SSLError) as exc:
            raise httpx.WriteError(f"writing to the engine failed: {exc}") from exc

    def send_eof(self) -> None:
        """Half-close: tell the other end no more data comes (closes a container's stdin)."""
        if self._tls:
            return
        with contextlib.suppress(OSError):
            self._sock.shutdown(socket.SHUT_WR)

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        """Read up to ``max_bytes`` (httpcore's network stream interface)."""
        return self.receive(max_bytes, timeout)

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        """Write ``buffer`` (httpcore's network stream interface)."""
        self.send(buffer, timeout)

    def is_dead(self) -> bool:
        """Whether an idle keep-alive connection was closed by the server.

        An idle socket that is readable (TLS included) has hit EOF or holds
        bytes nobody asked for: it must not be reused.
        """
        if self.closed:
            return True
        if isinstance(self._sock, ssl.SSLSocket) and self._sock.pending():
            return True
        try:
            readable, _, _ = select.select([self._sock], [], [], 0)
        except (OSError, ValueError):
            return True
        return bool(readable)

    def close(self) -> None:
        """Close the connection."""
        if not self.closed:
            self.closed = True
            with contextlib.suppress(OSError):
                self._sock.close()


def connect_unix(path: str, timeout: float | None) -> Socket:
    """Connect to a unix socket.

    Raises:
        httpx.ConnectError: The socket is missing or refuses.
        httpx.ConnectTimeout: No connection within ``timeout``.
    """
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.settimeout(timeout)
        sock.connect(path)
    except TimeoutError as exc:
        sock.close()
        raise httpx.ConnectTimeout(f"timed out connecting to unix://{path}") from exc
    except OSError as exc:
        sock.close()
        raise httpx.ConnectError(f"cannot connect to unix://{path}: {exc.strerror or exc}") from exc
    return Socket(sock, tls=False)


def connect_tcp(
    host: str,
    port: int,
    timeout: float | None,
    ssl_context: ssl.SSLContext | None = None,
    server_hostname: str | None = None,
) -> Socket:
    """Connect to a TCP address, with TLS when ``ssl_context`` is given.

    Raises:
        httpx.ConnectError: Refused, unreachable, or the TLS handshake failed.
        httpx.ConnectTimeout: No connection within ``timeout``.
    """
    try:
        sock = socket.create_connection((host, port), timeout=timeout)
    except TimeoutError as exc:
        raise httpx.ConnectTimeout(f"timed out connecting to {host}:{port}") from exc
    except OSError as exc:
        raise httpx.ConnectError(f"cannot connect to {host}:{port}: {exc}") from exc
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    if ssl_context is not None:
        try:
            sock = ssl_context.wrap_socket(sock, server_hostname=server_hostname or host)
        except (OSError, ssl.SSLError) as exc:
            sock.close()
            raise httpx.ConnectError(f"TLS handshake with {host}:{port} failed: {exc}") from exc
    return Socket(sock, tls=ssl_context is not None)


# -- registry client primitives ---------------------------------------------

_T = TypeVar("_T")

#: Open a file (the builtin ``open``: the twin of ``anyio.open_file``).
open_file = open


def run_parallel(funcs: Sequence[Callable[[], _T]], limit: int) -> list[_T]:
    """Run ``funcs`` in threads, at most ``limit`` at a time; their results in order.

    After a failure no new call starts; the calls already running finish,
    then the first failure is raised as is.
    """
    if len(funcs) <= 1 or limit <= 1:
        return [func() for func in funcs]
    with concurrent.futures.ThreadPoolExecutor(max_workers=limit) as pool:
        futures = [pool.submit(func) for func in funcs]
        concurrent.futures.wait(futures, return_when=concurrent.futures.FIRST_EXCEPTION)
        for future in futures:
            future.cancel()
        concurrent.futures.wait(futures)
        for future in futures:
            if not future.cancelled() and future.exception() is not None:
                exc = future.exception()
                assert exc is not None
                raise exc
        return [f.result() for f in futures]


def run_process(argv: Sequence[str], input: bytes | None = None) -> tuple[int, bytes, bytes]:
    """Run a program to completion: ``(returncode, stdout, stderr)``.

    Raises:
        OSError: The program cannot be started (``FileNotFoundError`` when missing).
    """
    done = subprocess.run(list(argv), input=input, capture_output=True, check=False)
    return done.returncode, done.stdout or b"", done.stderr or b""


def to_thread(func: Callable[..., _T], *args: Any) -> _T:
    """Run blocking ``func(*args)`` (here: directly, the caller is a thread already)."""
    return func(*args)


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

    def feed(self, chunk: bytes) -> None:
        """Hash ``chunk`` after the ones fed before it (waits only when the thread lags)."""
        if self._thread is None:
            if self._inline >= len(chunk):
                self._inline -= len(chunk)
                self._update(chunk)
                return
            self._thread = threading.Thread(target=self._run, name="pydock-digest", daemon=True)
            self._thread.start()
        self._queue.put(chunk)

    def _stop(self) -> None:
        thread, self._thread = self._thread, None
        if thread is not None:
            self._queue.put(None)
            thread.join()

    def finish(self) -> None:
        """Wait until every chunk fed is hashed; raise what ``update`` raised, if anything."""
        self._stop()
        if self._error is not None:
            raise self._error

    def close(self) -> None:
        """Stop the thread (after the chunks already fed); its errors are dropped."""
        self._stop()


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
_END: Any = object()


def pump_events(work: Callable[[Callable[[_E], None]], object]) -> Generator[_E, None, None]:
    """Run ``work(emit)`` on a thread and yield what it emits, as it emits it.

    ``work`` may emit from any of its threads. A failure of ``work`` is raised
    as is after the events emitted before it. Closing the generator early
    (``close()``) makes the next ``emit`` raise, which stops ``work``.
    """
    events: queue.Queue[Any] = queue.Queue()
    failures: list[BaseException] = []
    stopped = threading.Event()

    def emit(event: _E) -> None:
        if stopped.is_set():
            raise PydockError("the operation was closed")
        events.put(event)

    def run() -> None:
        try:
            work(emit)
        except BaseException as exc:
            failures.append(exc)
        finally:
            events.put(_END)

    thread = threading.Thread(target=run, name="pydock-operation", daemon=True)
    thread.start()
    try:
        while (item := events.get()) is not _END:
            yield item
    finally:
        stopped.set()
        thread.join()
    if failures:
        raise failures[0]
