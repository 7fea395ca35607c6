"""Blocking I/O primitives (sockets): the hand-written twin of ``pydock._async._backend``.

Everything else in ``pydock._sync`` is generated from ``pydock._async`` by
``scripts/unasync.py``. Keep the names here equal to the async module's.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import select
import socket
import ssl
import subprocess
import threading
import time
from collections.abc import Callable, Sequence
from types import TracebackType
from typing import Any, TypeVar

import httpx

from pydock._core.dialect import Backend, Session

__all__ = [
    "ClientBase",
    "Lock",
    "Socket",
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

sleep = time.sleep
monotonic = time.monotonic
Lock = threading.Lock


class ClientBase:
    """What differs between the sync and async clients beyond ``await``.

    The sync client may talk to the engine inside a property, so ``backend``
    detects the backend on first use.
    """

    _session: Session

    def connect(self) -> None:
        """Talk to the engine once to learn its backend and API version."""
        raise NotImplementedError

    @property
    def backend(self) -> Backend:
        """``"docker"`` or ``"podman"``, detected from the engine on first use.

        Raises:
            ConnectError: The engine cannot be reached to detect it.
        """
        if self._session.backend is None and self._session.backend_choice == "auto":
            self.connect()
        if self._session.backend is not None:
            return self._session.backend
        assert self._session.backend_choice != "auto"
        return self._session.backend_choice


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
        """Whether an idle keep-alive connection was closed by the server."""
        if self.closed:
            return True
        if self._tls:
            return False
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
