"""A small HTTP proxy in front of a real registry that injects faults on demand.

Faults (attributes, set by a test before it calls):

* ``corrupt_blobs``: flip one byte of every blob body (``GET .../blobs/...``).
* ``throttle``: answer the next N requests ``429`` with ``Retry-After``.
* ``drop_blob``: send the next N blob bodies half-way, then drop the connection.
* ``redirect_blobs``: answer blob GETs with ``307`` to a second listener (another
  origin) that serves the blob and records the ``Authorization`` it got.
* ``short_patch``: for the next N upload ``PATCH`` chunks, forward only the first
  half of the body (as if the rest were lost on the way) and hide the
  registry's ``Range`` from the client, who then believes the whole chunk
  arrived, so its next chunk starts at the wrong offset.
* ``check_ranges``: check each ``PATCH``'s ``Content-Range`` against the upload's
  real size (asked from the registry) and answer ``416`` with the registry's
  ``Range`` when it does not start there, as the distribution spec (and
  registry 3) does; registry 2.8 itself ignores ``Content-Range`` and appends.

* ``drop_after_request``: ``{method: N}``: the next N requests of that method are
  forwarded whole to the registry (which acts on them), then the client's
  connection is closed without an answer, as if it broke on the way back.

Every answer the client gets is recorded in ``answers`` as ``(method, path, status)``;
every request forwarded to the registry in ``forwarded`` as ``(method, path, body length)``.
"""

from __future__ import annotations

import http.client
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

# Host is passed on, so the registry's Location headers point back at the proxy.
_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade"}


class FaultProxy:
    """Forward to ``upstream`` (``host:port``, plain HTTP), with faults."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self.corrupt_blobs = False
        self.throttle = 0
        self.retry_after = "0"
        self.drop_blob = 0
        self.redirect_blobs = False
        self.short_patch = 0
        self.check_ranges = False
        self.drop_after_request: dict[str, int] = {}
        self.dropped: list[tuple[str, str]] = []
        self.forwarded: list[tuple[str, str, int]] = []
        self.answers: list[tuple[str, str, int]] = []
        self.seen: list[tuple[str, str, dict[str, str]]] = []
        self.redirected_auth: list[str | None] = []
        self.lock = threading.Lock()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def handle_any(self) -> None:
                if not self.server_is_side:
                    proxy.seen.append((self.command, self.path, dict(self.headers.items())))
                is_blob_get = self.command == "GET" and "/blobs/sha" in self.path
                with proxy.lock:
                    throttled = proxy.throttle > 0
                    proxy.throttle -= 1 if throttled else 0
                    redirect = proxy.redirect_blobs and is_blob_get and not self.server_is_side
                    drop = is_blob_get and proxy.drop_blob > 0 and "Range" not in self.headers
                    proxy.drop_blob -= 1 if drop else 0
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                if self.server_is_side:
                    proxy.redirected_auth.append(self.headers.get("Authorization"))
                if throttled:
                    self._reply(
                        429,
                        {"Retry-After": proxy.retry_after},
                        b'{"errors":[{"code":"TOOMANYREQUESTS","message":"slow down"}]}',
                    )
                    return
                if redirect:
                    target = f"http://127.0.0.1:{proxy.side_port}{self.path}"
                    self._reply(307, {"Location": target}, b"")
                    return
                conn = http.client.HTTPConnection(proxy.upstream, timeout=60)
                headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP}
                if self.command == "PATCH" and proxy.check_ranges and self._range_refused(conn):
                    conn.close()
                    return
                with proxy.lock:
                    short = self.command == "PATCH" and proxy.short_patch > 0 and len(body) > 1
                    proxy.short_patch -= 1 if short else 0
                if short:
                    body = body[: len(body) // 2]
                    for name in list(headers):
                        if name.lower() == "content-range":
                            start = int(headers.pop(name).split("-")[0])
                            headers["Content-Range"] = f"{start}-{start + len(body) - 1}"
                        elif name.lower() == "content-length":
                            headers[name] = str(len(body))
                conn.request(self.command, self.path, body=body or None, headers=headers)
                answer = conn.getresponse()
                data = answer.read() if self.command != "HEAD" else b""
                conn.close()
                with proxy.lock:
                    proxy.forwarded.append((self.command, self.path, len(body)))
                    lose = proxy.drop_after_request.get(self.command, 0) > 0
                    if lose:
                        proxy.drop_after_request[self.command] -= 1
                        proxy.dropped.append((self.command, self.path))
                if lose:  # the registry acted on it; the answer is lost
                    self.close_connection = True
                    self.connection.shutdown(2)
                    return
                out = {k: v for k, v in answer.getheaders() if k.lower() not in _HOP}
                if short:
                    out = {k: v for k, v in out.items() if k.lower() != "range"}
                if is_blob_get and proxy.corrupt_blobs and data:
                    data = bytes([data[0] ^ 0xFF]) + data[1:]
                if drop and data:
                    out["Content-Length"] = str(len(data))
                    self.send_response(answer.status)
                    for k, v in out.items():
                        if k.lower() != "content-length":
                            self.send_header(k, v)
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data[: len(data) // 2])
                    self.wfile.flush()
                    self.close_connection = True
                    self.connection.shutdown(2)
                    return
                self._reply(answer.status, out, data, head=self.command == "HEAD")

            def _range_refused(self, conn: http.client.HTTPConnection) -> bool:
                """Answer 416 when the chunk does not start at the upload's size."""
                sent = self.headers.get("Content-Range")
                if not sent:
                    return False
                conn.request("GET", self.path, headers={"Host": self.headers["Host"]})
                status = conn.getresponse()
                status.read()
                end = int((status.getheader("Range") or "0-0").split("-")[1])
                size = end + 1 if end > 0 else 0
                if int(sent.split("-")[0]) == size:
                    return False
                out = {"Range": status.getheader("Range") or "0-0"}
                if status.getheader("Location"):
                    out["Location"] = status.getheader("Location") or ""
                body = b'{"errors":[{"code":"RANGE_INVALID","message":"invalid content range"}]}'
                self._reply(416, out, body)
                return True

            @property
            def server_is_side(self) -> bool:
                return bool(getattr(self.server, "is_side", False))

            def _reply(
                self, status: int, headers: dict[str, str], body: bytes, head: bool = False
            ) -> None:
                if not self.server_is_side:
                    proxy.answers.append((self.command, self.path, status))
                self.send_response(status)
                for k, v in headers.items():
                    if k.lower() != "content-length":
                        self.send_header(k, v)
                if head:
                    self.send_header("Content-Length", headers.get("Content-Length", "0"))
                else:
                    self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if not head:
                    self.wfile.write(body)

            do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = handle_any

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.side = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.side.is_side = True  # type: ignore[attr-defined]
        self.port = self.server.server_address[1]
        self.side_port = self.side.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        for server in (self.server, self.side):
            threading.Thread(target=server.serve_forever, daemon=True).start()

    def close(self) -> None:
        for server in (self.server, self.side):
            server.shutdown()
            server.server_close()
