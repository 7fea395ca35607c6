"""A misbehaving HTTP/1.1 server, scripted per request, for pydock's trust-at-the-edges tests.

Each connection is served by a thread. For every request the server reads it
whole (head and ``Content-Length`` body), records it in ``requests``, then asks
the script what to do. The script is called with ``(method, target, n)``,
``n`` counting requests on that connection from 0, and returns one of:

* ``bytes``: sent as the answer;
* ``None``: the connection is closed without an answer;
* an iterable of ``bytes`` and ``float``: bytes are sent, floats are pauses
  (seconds); the connection is closed at the end. Sending stops, and is
  counted in ``sent``, as soon as the client hangs up.

``sent`` is the number of body bytes the server managed to hand to the
socket, so that a test can see how much a client read before hanging up.
"""

from __future__ import annotations

import contextlib
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterable
from typing import TypeAlias

Action: TypeAlias = bytes | Iterable[bytes | float] | None
Script = Callable[[str, str, int], Action]


def answer(body: bytes = b"{}", status: bytes = b"200 OK", extra: bytes = b"") -> bytes:
    """A ``Content-Length`` framed JSON answer."""
    return (
        b"HTTP/1.1 " + status + b"\r\nContent-Type: application/json\r\n"
        b"Content-Length: %d\r\n" % len(body) + extra + b"\r\n" + body
    )


class HostileServer:
    """Serve ``script`` on 127.0.0.1 (TCP, TLS with ``tls``) or on the unix socket ``path``.

    Serves until :meth:`close`.
    """

    def __init__(
        self, script: Script, *, path: str | None = None, tls: ssl.SSLContext | None = None
    ) -> None:
        self._tls = tls
        self.script = script
        self.requests: list[tuple[str, str, int]] = []
        self.connections = 0
        self.sent = 0
        self._lock = threading.Lock()
        self._open: list[socket.socket] = []
        if path is None:
            self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            self._listener.bind(("127.0.0.1", 0))
            port = self._listener.getsockname()[1]
            self.url = f"tcp://127.0.0.1:{port}"
            self.http_url = f"http://127.0.0.1:{port}"
        else:
            self._listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            self._listener.bind(path)
            self.url = f"unix://{path}"
            self.http_url = ""
        self._listener.listen(64)
        threading.Thread(target=self._accept, daemon=True).start()

    def count(self, method: str) -> int:
        """How many requests with ``method`` arrived."""
        with self._lock:
            return sum(1 for m, _, _ in self.requests if m == method)

    def close(self) -> None:
        """Stop listening and close every connection."""
        with contextlib.suppress(OSError):
            self._listener.close()
        with self._lock:
            conns, self._open = self._open, []
        for conn in conns:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
            conn.close()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self._listener.accept()
            except OSError:
                return
            with self._lock:
                self.connections += 1
                self._open.append(conn)
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        buf = b""
        n = 0
        try:
            if self._tls is not None:
                conn = self._tls.wrap_socket(conn, server_side=True)
            while True:
                while b"\r\n\r\n" not in buf:
                    data = conn.recv(65536)
                    if not data:
                        return
                    buf += data
                head, buf = buf.split(b"\r\n\r\n", 1)
                lines = head.decode("latin-1").split("\r\n")
                method, target, _ = lines[0].split(" ", 2)
                length = 0
                for line in lines[1:]:
                    name, _, value = line.partition(":")
                    if name.strip().lower() == "content-length":
                        length = int(value)
                while len(buf) < length:
                    data = conn.recv(65536)
                    if not data:
                        return
                    buf += data
                buf = buf[length:]
                with self._lock:
                    self.requests.append((method, target, length))
                action = self.script(method, target, n)
                n += 1
                if action is None:
                    return
                if isinstance(action, bytes):
                    conn.sendall(action)
                    continue
                for step in action:
                    if isinstance(step, float):
                        time.sleep(step)
                        continue
                    conn.sendall(step)
                    with self._lock:
                        self.sent += len(step)
                return
        except OSError:
            return
        finally:
            with self._lock:
                if conn in self._open:
                    self._open.remove(conn)
            conn.close()
