"""A small HTTP/1.1 client codec, sans I/O: request heads out, response events in.

Only what talking to an engine needs: requests with a ``Content-Length`` or a
chunked body, and answers framed by ``Content-Length``, chunked encoding or the
end of the connection, ``1xx`` answers skipped, and ``101`` upgrades (the bytes
after the head belong to the upgraded stream). It is built for speed on long
streams: a chunked body is decoded by scanning one buffer with offsets, and
every complete chunk in a read comes out as one :class:`Data` event.
"""

from __future__ import annotations

from collections.abc import Iterable

import attrs

__all__ = [
    "Data",
    "Event",
    "EndOfMessage",
    "ProtocolError",
    "Response",
    "ResponseParser",
    "encode_chunk",
    "encode_request_head",
    "LAST_CHUNK",
    "MAX_CHUNK_SIZE",
    "ConnectionClosed",
]

LAST_CHUNK = b"0\r\n\r\n"
_MAX_HEAD = 1024 * 1024
_MAX_CHUNK_LINE = 1024
#: The largest chunk accepted (1 TiB): a bigger size is an attack or garbage, not data.
MAX_CHUNK_SIZE = 1 << 40
_HEX_DIGITS = frozenset(b"0123456789abcdefABCDEF")
_DIGITS = frozenset(b"0123456789")


class ProtocolError(Exception):
    """The server's bytes are not valid HTTP/1.1 (malformed framing: never worth resending)."""


class ConnectionClosed(ProtocolError):
    """The connection ended before the answer did (``answered`` tells whether any of it came)."""

    def __init__(self, message: str, *, answered: bool) -> None:
        super().__init__(message)
        self.answered = answered


@attrs.frozen
class Response:
    """A response head.

    ``encoded`` tells whether the body has a ``Content-Encoding`` (other
    than ``identity``) that a reader must undo; ``content_length`` is the
    announced body size when the body is framed by ``Content-Length``.
    """

    status_code: int
    reason: bytes
    headers: list[tuple[bytes, bytes]]
    http_version: bytes
    keep_alive: bool
    encoded: bool = False
    content_length: int | None = None


@attrs.frozen
class Data:
    """Body bytes."""

    data: bytes


@attrs.frozen
class EndOfMessage:
    """The body is complete."""


_END = EndOfMessage()
# First letters (lower case) of the headers that decide framing: Content-*, Connection,
# Transfer-Encoding.
_FRAMING_INITIALS = frozenset(b"ct")
_INFORMATIONAL = object()
Event = Response | Data | EndOfMessage

# body framing
_NONE, _LENGTH, _CHUNKED, _CLOSE = range(4)
# chunked sub-states
_SIZE, _BODY, _BODY_END, _TRAILERS = range(4)


def encode_request_head(
    method: str, target: bytes, headers: Iterable[tuple[bytes, bytes]]
) -> bytes:
    """The bytes of a request line and its headers.

    Raises:
        ValueError: A header name or value holds a line break (header injection).
    """
    parts = [method.encode("ascii"), b" ", target, b" HTTP/1.1\r\n"]
    for name, value in headers:
        if b"\n" in name or b"\r" in name or b"\n" in value or b"\r" in value:
            raise ValueError(f"line break in header {name!r}")
        parts += [name, b": ", value, b"\r\n"]
    parts.append(b"\r\n")
    return b"".join(parts)


def encode_chunk(data: bytes) -> bytes:
    """One chunk of a chunked request body (never empty: that would end the body)."""
    return b"%x\r\n%b\r\n" % (len(data), data)


class ResponseParser:
    """Incremental parser for one connection's responses.

    ``feed(data)`` returns the events the bytes complete; ``feed(b"")`` marks
    the end of the connection. After a :class:`Response` with status 101,
    ``take_trailing()`` gives the bytes that already belong to the upgraded
    stream. ``start_next()`` readies the parser for the next response on a
    kept-alive connection.

    Args:
        head_request: Whether the request was ``HEAD`` (its answer has no body).
    """

    def __init__(self, *, head_request: bool = False) -> None:
        # The unparsed bytes are ``_buf[_pos:]``. A read is used as the buffer
        # itself when nothing is left over (the usual case), so body bytes are
        # copied once, when an event is made.
        self._buf: bytes = b""
        self._pos = 0
        self.upgraded = False
        self.eof = False
        self.start_next(head_request=head_request)

    def start_next(self, *, head_request: bool = False) -> None:
        """Prepare for the next response (leftover bytes are kept)."""
        # The per-response state; __init__ sets it through here too.
        self._head_request = head_request
        self._in_head = True
        self._framing = _NONE
        self._remaining = 0
        self._chunk_state = _SIZE
        self.done = False

    def take_trailing(self) -> bytes:
        """The bytes after a 101 head, for the upgraded stream."""
        data = self._buf[self._pos :]
        self._buf = b""
        self._pos = 0
        return data

    def feed(self, data: bytes) -> list[Event]:
        """Consume bytes; return the events they complete.

        Raises:
            ProtocolError: The bytes are not a valid answer, or the connection
                ended inside one.
        """
        if data:
            if self._pos >= len(self._buf):
                self._buf = bytes(data)
            else:
                self._buf = self._buf[self._pos :] + data
            self._pos = 0
        else:
            self.eof = True
        return self.resume()

    def resume(self) -> list[Event]:
        """Parse what is already buffered (after :meth:`start_next`), reading nothing new.

        Raises:
            ProtocolError: As for :meth:`feed`.
        """
        out: list[Event] = []
        while not self.done and not self.upgraded:
            if self._in_head:
                head = self._parse_head()
                if head is None:
                    break
                out.append(head)
                continue
            if not self._parse_body(out):
                break
        if self.eof and not self.done and not self.upgraded:
            if self._in_head and self._pos == len(self._buf):
                if out:
                    return out
                raise ConnectionClosed(
                    "the server closed the connection without answering", answered=False
                )
            raise ConnectionClosed(
                "the connection closed in the middle of an answer", answered=True
            )
        return out

    # -- head ------------------------------------------------------------------

    def _parse_head(self) -> Response | None:
        while True:
            head = self._parse_one_head()
            if head is not _INFORMATIONAL:
                assert head is None or isinstance(head, Response)
                return head

    def _parse_one_head(self) -> Response | object | None:
        buf = self._buf
        # Tolerate blank lines before a response (RFC 9112 2.2).
        while buf.startswith(b"\r\n", self._pos):
            self._pos += 2
        end = buf.find(b"\r\n\r\n", self._pos)
        if end == -1:
            if len(buf) - self._pos > _MAX_HEAD:
                raise ProtocolError("response head too large")
            return None
        lines = buf[self._pos : end].split(b"\r\n")
        self._pos = end + 4
        status_line = lines[0]
        parts = status_line.split(b" ", 2)
        if len(parts) < 2 or not parts[0].startswith(b"HTTP/1.") or len(parts[1]) != 3:
            raise ProtocolError(f"bad status line {status_line[:80]!r}")
        try:
            status = int(parts[1])
        except ValueError:
            raise ProtocolError(f"bad status line {status_line[:80]!r}") from None
        version = parts[0][5:]
        reason = parts[2] if len(parts) == 3 else b""
        headers: list[tuple[bytes, bytes]] = []
        length: int | None = None
        chunked = False
        encoded = False
        connection = b""
        for line in lines[1:]:
            name, sep, value = line.partition(b":")
            if not sep or not name or name != name.strip():
                raise ProtocolError(f"bad header line {line[:80]!r}")
            value = value.strip(b" \t")
            headers.append((name, value))
            if name[0] | 0x20 not in _FRAMING_INITIALS:
                continue  # not a header the framing depends on (most of them): skip lower()
            lower = name.lower()
            if lower == b"content-length":
                # Digits only: int() would also take "+5", " 5" and "5_0".
                if not value or len(value) > 18 or not _DIGITS.issuperset(value):
                    raise ProtocolError(f"bad Content-Length {value[:40]!r}")
                new = int(value)
                if length is not None and length != new:
                    raise ProtocolError("conflicting Content-Length headers")
                length = new
            elif lower == b"transfer-encoding":
                chunked = value.lower().rsplit(b",", 1)[-1].strip() == b"chunked"
            elif lower == b"connection":
                connection = value.lower()
            elif lower == b"content-encoding":
                encoded = value.strip().lower() not in (b"", b"identity")
        keep_alive = (
            (b"close" not in connection) if version == b"1.1" else (b"keep-alive" in connection)
        )
        if 100 <= status < 200:
            if status == 101:
                self.upgraded = True
                return Response(status, reason, headers, version, False)
            return _INFORMATIONAL  # 100 Continue and friends: the real answer follows
        self._in_head = False
        if self._head_request or status in (204, 304):
            self._framing = _NONE
        elif chunked:
            self._framing = _CHUNKED
            self._chunk_state = _SIZE
        elif length is not None:
            self._framing = _LENGTH
            self._remaining = length
        else:
            self._framing = _CLOSE
            keep_alive = False
        announced = length if self._framing == _LENGTH else None
        return Response(status, reason, headers, version, keep_alive, encoded, announced)

    # -- body ------------------------------------------------------------------

    def _parse_body(self, out: list[Event]) -> bool:
        """Parse what the buffer holds; False when more bytes are needed."""
        framing = self._framing
        buf = self._buf
        if framing == _NONE:
            out.append(_END)
            self.done = True
            return True
        if framing == _LENGTH:
            avail = len(buf) - self._pos
            if self._remaining and avail:
                take = min(avail, self._remaining)
                out.append(Data(buf[self._pos : self._pos + take]))
                self._pos += take
                self._remaining -= take
            if self._remaining == 0:
                out.append(_END)
                self.done = True
                return True
            return False
        if framing == _CLOSE:
            if len(buf) > self._pos:
                out.append(Data(buf[self._pos :]))
                self._pos = len(buf)
            if self.eof:
                out.append(_END)
                self.done = True
                return True
            return False
        return self._parse_chunked(out)

    def _parse_chunked(self, out: list[Event]) -> bool:
        buf = self._buf
        view = memoryview(buf)
        pos = self._pos
        pieces: list[memoryview] = []
        state = self._chunk_state
        remaining = self._remaining
        progressed = True
        while progressed:
            progressed = False
            if state == _SIZE:
                nl = buf.find(b"\r\n", pos)
                if nl == -1:
                    if len(buf) - pos > _MAX_CHUNK_LINE:
                        raise ProtocolError("chunk size line too long")
                    break
                line = buf[pos:nl].split(b";", 1)[0].rstrip(b" \t")
                # Hex digits only (int() would take "-5", "0x5", "5_0"), at most 16 of them.
                if not line or len(line) > 16 or not _HEX_DIGITS.issuperset(line):
                    raise ProtocolError(f"bad chunk size {line[:24]!r}")
                remaining = int(line, 16)
                if remaining > MAX_CHUNK_SIZE:
                    raise ProtocolError(f"impossible chunk size {line[:24]!r}")
                pos = nl + 2
                state = _TRAILERS if remaining == 0 else _BODY
                progressed = True
            elif state == _BODY:
                avail = len(buf) - pos
                if avail:
                    take = min(avail, remaining)
                    pieces.append(view[pos : pos + take])
                    pos += take
                    remaining -= take
                    if remaining == 0:
                        state = _BODY_END
                    progressed = True
            elif state == _BODY_END:
                if len(buf) > pos and buf[pos] != 13:
                    raise ProtocolError("chunk not followed by CRLF")
                if len(buf) - pos >= 2:
                    if buf[pos : pos + 2] != b"\r\n":
                        raise ProtocolError("chunk not followed by CRLF")
                    pos += 2
                    state = _SIZE
                    progressed = True
            else:  # trailers, ended by an empty line
                nl = buf.find(b"\r\n", pos)
                if nl == -1:
                    break
                empty = nl == pos
                pos = nl + 2
                if empty:
                    self._pos = pos
                    self._chunk_state = _SIZE
                    if pieces:
                        out.append(Data(b"".join(pieces)))
                    out.append(_END)
                    self.done = True
                    return True
                progressed = True
        self._pos = pos
        self._chunk_state = state
        self._remaining = remaining
        if pieces:
            out.append(Data(b"".join(pieces)))
        return False
