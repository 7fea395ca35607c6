"""A scripted HTTP/1.1 server on a unix socket, for transport edges an engine won't show on demand.

Each connection is served by a thread; the answer depends on the request
target's path (any ``/vX.Y`` prefix is ignored):

* ``/version``: what Docker 20.10 answers (clients negotiate with it).
* ``/echo...``: ``200`` with a JSON body describing the request (method,
  target, headers in order, body length and SHA-256), ``Content-Length`` framed.
* ``/chunked?size=N&piece=K``: ``N`` bytes (``b"0123456789"`` repeated) in
  chunks of ``K`` bytes.
* ``/gzip``: a gzip-encoded JSON body.
* ``/drop-after``: a normal answer, then the connection is closed (no
  ``Connection: close`` header: an idle keep-alive connection that died).
* ``/close-next``: a normal answer; the next request on the same connection
  is read and the connection closed without an answer (a stale connection
  found only by sending on it).
* ``/silent``: no answer at all (the connection stays open).
* ``/cut``: a head announcing 1000 bytes, 10 bytes, then the connection closes.

``connections`` counts accepted connections; ``targets`` records each request
target in arrival order.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import json
import os
import socket
import threading
from typing import Any
from urllib.parse import parse_qs, urlsplit


class ScriptedServer:
    """Serve on the unix socket ``path`` (or on TCP, 127.0.0.1, with ``tcp``) until :meth:`close`.

    ``url`` is the engine URL a client connects to.
    """

    def __init__(self, path: str, *, tcp: bool = False) -> None:
        self.path = path
        self.connections = 0
        self.targets: list[str] = []
        self._lock = threading.Lock()
        self._open: list[socket.socket] = []
        self._closed = False
        if tcp:
            self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            self._listener.bind(("127.0.0.1", 0))
            self.url = f"tcp://127.0.0.1:{self._listener.getsockname()[1]}"
        else:
            self._listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            self._listener.bind(path)
            self.url = f"unix://{path}"
        self._listener.listen(256)
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self._listener.accept()
            except OSError:
                return
            with self._lock:
                if self._closed:
                    conn.close()
                    return
                self.connections += 1
                self._open.append(conn)
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def close(self) -> None:
        """Stop listening and close every connection."""
        with self._lock:
            self._closed = True
            conns, self._open = self._open, []
        for conn in conns:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
            conn.close()
        self._listener.close()
        if os.path.exists(self.path):
            os.unlink(self.path)

    # -- one connection -------------------------------------------------------

    def _serve(self, conn: socket.socket) -> None:
        reader = _Reader(conn)
        close_next = False
        try:
            while True:
                request = reader.request()
                if request is None:
                    return
                method, target, headers, body = request
                with self._lock:
                    self.targets.append(target)
                if close_next:
                    return
                url = urlsplit(target)
                path = url.path
                if path.startswith("/v") and path.count("/") >= 2:
                    path = "/" + path.split("/", 2)[2]
                query = {k: v[0] for k, v in parse_qs(url.query).items()}
                if path == "/version":
                    conn.sendall(_answer(json.dumps(_VERSION).encode()))
                elif path.startswith("/echo"):
                    payload = {
                        "method": method,
                        "target": target,
                        "headers": headers,
                        "length": len(body),
                        "sha256": hashlib.sha256(body).hexdigest(),
                    }
                    conn.sendall(_answer(json.dumps(payload).encode()))
                elif path == "/chunked":
                    size, piece = int(query["size"]), int(query["piece"])
                    data = (b"0123456789" * (size // 10 + 1))[:size]
                    out = [b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"]
                    for start in range(0, size, piece):
                        part = data[start : start + piece]
                        out.append(b"%x\r\n%b\r\n" % (len(part), part))
                    out.append(b"0\r\n\r\n")
                    conn.sendall(b"".join(out))
                elif path == "/gzip":
                    packed = gzip.compress(json.dumps({"packed": True}).encode())
                    conn.sendall(_answer(packed, b"Content-Encoding: gzip\r\n"))
                elif path == "/drop-after":
                    conn.sendall(_answer(b"{}"))
                    return
                elif path == "/close-next":
                    conn.sendall(_answer(b"{}"))
                    close_next = True
                elif path == "/silent":
                    reader.wait_closed()
                    return
                elif path == "/cut":
                    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n0123456789")
                    return
                else:
                    conn.sendall(_answer(b'{"message":"no such path"}', status=b"404 Not Found"))
        except OSError:
            return
        finally:
            with self._lock:
                if conn in self._open:
                    self._open.remove(conn)
            conn.close()


_VERSION = {
    "Version": "20.10.24",
    "ApiVersion": "1.41",
    "MinAPIVersion": "1.12",
    "Components": [{"Name": "Engine", "Version": "20.10.24"}],
}


def _answer(body: bytes, extra: bytes = b"", status: bytes = b"200 OK") -> bytes:
    return (
        b"HTTP/1.1 " + status + b"\r\nContent-Type: application/json\r\n"
        b"Content-Length: %d\r\n" % len(body) + extra + b"\r\n" + body
    )


class _Reader:
    """Requests off one connection: head, then a Content-Length or chunked body."""

    def __init__(self, conn: socket.socket) -> None:
        self._conn = conn
        self._buf = b""

    def _fill(self) -> bool:
        data = self._conn.recv(1 << 20)
        self._buf += data
        return bool(data)

    def _line(self) -> bytes | None:
        while b"\r\n" not in self._buf:
            if not self._fill():
                return None
        line, self._buf = self._buf.split(b"\r\n", 1)
        return line

    def _exact(self, n: int) -> bytes | None:
        while len(self._buf) < n:
            if not self._fill():
                return None
        data, self._buf = self._buf[:n], self._buf[n:]
        return data

    def request(self) -> tuple[str, str, list[list[str]], bytes] | None:
        while b"\r\n\r\n" not in self._buf:
            if not self._fill():
                return None
        head, self._buf = self._buf.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        method, target, _ = lines[0].split(" ", 2)
        headers = [[n, v.strip()] for n, v in (line.split(":", 1) for line in lines[1:])]
        fields: dict[str, Any] = {n.lower(): v for n, v in headers}
        body = b""
        if fields.get("transfer-encoding", "").lower() == "chunked":
            parts = []
            while True:
                size_line = self._line()
                if size_line is None:
                    return None
                size = int(size_line.split(b";")[0], 16)
                if size == 0:
                    self._line()
                    break
                part = self._exact(size + 2)
                if part is None:
                    return None
                parts.append(part[:-2])
            body = b"".join(parts)
        elif "content-length" in fields:
            data = self._exact(int(fields["content-length"]))
            if data is None:
                return None
            body = data
        return method, target, headers, body

    def wait_closed(self) -> None:
        try:
            while self._fill():
                pass
        except OSError:
            pass
