"""A hostile engine: enough of the Docker API to be negotiated with, then answers of wrong shape.

``/_ping`` answers ``OK`` with ``Api-Version: 1.41`` (so the client negotiates
without ``/version``); every other request is answered from ``answers``, a map
from the path without its ``/v1.41`` prefix (``/containers/json``) to
``(status, body)``; unknown paths get a 404. ``Location`` is sent with 3xx.
Serves on 127.0.0.1, one thread per connection, keep-alive.
"""

from __future__ import annotations

import contextlib
import json
import re
import socket
import threading
from typing import Any

_VERSION_PREFIX = re.compile(r"^/v\d+\.\d+")
_REASONS = {200: "OK", 301: "Moved Permanently", 404: "Not Found", 500: "Internal Server Error"}


class HostileEngine:
    """Serve until :meth:`close`; ``url`` is the engine URL, ``targets`` what was asked."""

    def __init__(self) -> None:
        self.answers: dict[str, tuple[int, Any]] = {}
        self.targets: list[str] = []
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(64)
        self.url = f"tcp://127.0.0.1:{self._listener.getsockname()[1]}"
        self._conns: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def close(self) -> None:
        """Stop serving."""
        with contextlib.suppress(OSError):
            self._listener.shutdown(socket.SHUT_RDWR)
        self._listener.close()
        for conn in list(self._conns):
            with contextlib.suppress(OSError):
                conn.close()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self._listener.accept()
            except OSError:
                return
            self._conns.append(conn)
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        buf = b""
        with contextlib.suppress(OSError):
            while True:
                while b"\r\n\r\n" not in buf:
                    chunk = conn.recv(65536)
                    if not chunk:
                        return
                    buf += chunk
                head, _, buf = buf.partition(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                target = lines[0].split(" ")[1]
                length = 0
                for line in lines[1:]:
                    name, _, value = line.partition(":")
                    if name.strip().lower() == "content-length":
                        length = int(value.strip())
                while len(buf) < length:
                    chunk = conn.recv(65536)
                    if not chunk:
                        return
                    buf += chunk
                buf = buf[length:]
                conn.sendall(self._answer(target))

    def _answer(self, target: str) -> bytes:
        path = _VERSION_PREFIX.sub("", target.split("?", 1)[0])
        self.targets.append(target)
        extra = ""
        if path == "/_ping":
            status, body = 200, b"OK"
            extra = "Api-Version: 1.41\r\nContent-Type: text/plain\r\n"
        elif path in self.answers:
            status, payload = self.answers[path]
            body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
            if 300 <= status < 400:
                extra = f"Location: /v1.41{path}/elsewhere\r\n"
            else:
                extra = "Content-Type: application/json\r\n"
        else:
            status, body = 404, b'{"message": "page not found"}'
            extra = "Content-Type: application/json\r\n"
        reason = _REASONS.get(status, "Whatever")
        return (
            f"HTTP/1.1 {status} {reason}\r\n{extra}Content-Length: {len(body)}\r\n\r\n".encode()
            + body
        )
