"""Incremental decoders for the streams engines send: bytes in, events out.

Nothing here does I/O. A decoder is fed the chunks of a response body as they
arrive, in any sizes, and returns the events completed by each chunk; at the
end of the body, ``flush()`` returns what is left or raises if the body was
cut short. Feeding a stream in one piece or split anywhere gives the same
events.

* :class:`JsonLinesDecoder` - progress streams (pull, push, build, events,
  stats): JSON objects, one per line or simply concatenated.
* :class:`MultiplexDecoder` - the attach/logs format of a container without a
  TTY: 8-byte headers naming stdout or stderr, each followed by a payload.
* :class:`RawDecoder` - the attach/logs format of a container with a TTY:
  plain bytes, all reported as stdout.
* :class:`LineSplitter` - a byte stream cut into lines.

Errors:
    When a decoder meets bad input after it has already decoded events from
    the same chunk, it returns those events and raises the
    :class:`~pydock.errors.StreamError` on the next call to ``feed`` or
    ``flush``, so nothing that arrived before the damage is lost. A decoder
    that has raised keeps raising the same error.
"""

from __future__ import annotations

import codecs
import json
import re
import struct
from collections.abc import Mapping
from typing import Any, NamedTuple, Protocol

from pydock._core.errmap import scrub
from pydock.errors import ResponseTooLarge, StreamError

__all__ = [
    "MAX_STREAM_OBJECT",
    "STDERR",
    "STDIN",
    "STDOUT",
    "SYSTEMERR",
    "Frame",
    "FrameDecoder",
    "JsonLinesDecoder",
    "LineSplitter",
    "MultiplexDecoder",
    "RawDecoder",
    "demux_all",
    "frame_decoder",
    "raise_for_error",
]

#: What decoders accept.
BytesLike = bytes | bytearray | memoryview

#: Stream number of standard input (never sent by engines, accepted anyway).
STDIN = 0
#: Stream number of standard output.
STDOUT = 1
#: Stream number of standard error.
STDERR = 2
#: Stream number of an error the engine itself reports in the stream (newer Docker).
SYSTEMERR = 3

_EXCERPT = 40


def _excerpt(text: str, start: int = 0) -> str:
    """A short, credential-free excerpt of ``text`` from ``start``, for an error message."""
    end = start + _EXCERPT
    short = text[start:end] + ("..." if len(text) > end else "")
    return repr(scrub(short))


# --------------------------------------------------------------------------- JSON


_WS = re.compile(r"[ \t\r\n]*")
# Outside strings only braces and quotes matter to find where an object ends;
# inside a string only the closing quote and backslash escapes do.
_OUTSIDE = re.compile(r'[{}"]')
_INSIDE = re.compile(r'["\\]')


#: The longest object a JSON-lines stream may hold, in characters (16 Mi).
MAX_STREAM_OBJECT = 16 * 1024 * 1024


class JsonLinesDecoder:
    """Decode a stream of JSON objects, however it is split into chunks.

    Docker and Podman send progress as JSON objects separated by ``\\n`` or
    ``\\r\\n``, and sometimes with nothing between them. Chunks may hold
    several objects, or end in the middle of one, even in the middle of a
    UTF-8 sequence. Each complete object is returned once, as a ``dict``.

    Work is linear in the size of the stream: objects that fit in a chunk are
    parsed straight from it, and an object that spans chunks is only scanned
    for its end as its pieces arrive, then parsed once, when complete.

    Every top-level value must be an object; anything else (an HTML error
    page, a bare string) is a :class:`~pydock.errors.StreamError`, raised as
    soon as its first character arrives. One object may hold at most
    ``max_object`` characters (16 Mi by default; progress messages are a few
    hundred): a longer one is :class:`~pydock.errors.ResponseTooLarge`, raised
    as soon as the limit is passed, without holding more.

    Example::

        dec = JsonLinesDecoder()
        for chunk in body:
            for obj in dec.feed(chunk):
                raise_for_error(obj, PullError)
                ...
        dec.flush()
    """

    def __init__(self, *, max_object: int = MAX_STREAM_OBJECT) -> None:
        self._utf8 = codecs.getincrementaldecoder("utf-8")("strict")
        self._json = json.JSONDecoder()
        self._max_object = max_object
        # The start of an incomplete object (empty when there is none), and the
        # text received after it while its end has not been seen yet.
        self._head = ""
        self._pending: list[str] = []
        self._held = 0
        # Scanner state for the incomplete object.
        self._depth = 0
        self._in_string = False
        self._escaped = False
        self._error: StreamError | ResponseTooLarge | None = None

    def feed(self, data: BytesLike) -> list[dict[str, Any]]:
        """Decode the next chunk of the stream.

        Args:
            data: The chunk, of any length (empty is fine).

        Returns:
            The objects completed by this chunk, in stream order.

        Raises:
            StreamError: The stream is not valid UTF-8, holds invalid JSON or a
                value that is not an object.
            ResponseTooLarge: An object is longer than ``max_object``.
        """
        if self._error is not None:
            raise self._error
        try:
            text = self._utf8.decode(data)
        except UnicodeDecodeError as exc:
            raise self._fail(StreamError(f"invalid UTF-8 in JSON stream: {exc.reason}")) from None
        if not text:
            return []
        if self._head:
            end = self._scan(text, 0)
            self._pending.append(text)
            self._held += len(text)
            if end < 0:
                if self._held > self._max_object:
                    raise self._too_large()
                return []
            text = self._head + "".join(self._pending)
            self._head = ""
            self._pending.clear()
            self._held = 0
        out = self._parse(text)
        if len(self._head) > self._max_object:
            raise self._too_large()
        self._held = len(self._head)
        return out

    def _too_large(self) -> ResponseTooLarge:
        limit = self._max_object
        error = ResponseTooLarge(
            f"an object in the JSON stream is longer than {limit} characters", limit=limit
        )
        self._error = error
        self._head = ""
        self._pending.clear()
        return error

    def flush(self) -> list[dict[str, Any]]:
        """End the stream.

        Returns:
            Always an empty list: every complete object was returned by ``feed``.

        Raises:
            StreamError: The stream ended inside an object or a UTF-8 sequence.
        """
        if self._error is not None:
            raise self._error
        try:
            tail = self._utf8.decode(b"", final=True)
        except UnicodeDecodeError:
            raise self._fail(StreamError("stream ended inside a UTF-8 sequence")) from None
        if self._head or tail.strip(" \t\r\n"):
            text = self._head + "".join(self._pending) + tail
            raise self._fail(StreamError(f"stream ended inside a JSON object: {_excerpt(text)}"))
        return []

    def _fail(self, error: StreamError) -> StreamError:
        self._error = error
        self._head = ""
        self._pending.clear()
        return error

    def _parse(self, text: str) -> list[dict[str, Any]]:
        """Parse every complete object of ``text``; keep an incomplete tail."""
        out: list[dict[str, Any]] = []
        raw_decode = self._json.raw_decode
        skip = _WS.match
        size = len(text)
        pos = 0
        while True:
            pos = skip(text, pos).end()  # type: ignore[union-attr]  # always matches
            if pos == size:
                return out
            if text[pos] != "{":
                error = StreamError(f"expected a JSON object in stream, got {_excerpt(text, pos)}")
                return self._defer(out, error)
            try:
                obj, pos = raw_decode(text, pos)
            except json.JSONDecodeError as exc:
                self._depth, self._in_string, self._escaped = 0, False, False
                if self._scan(text, pos) >= 0:
                    start = max(pos, exc.pos - _EXCERPT // 2)
                    error = StreamError(
                        f"invalid JSON in stream: {exc.msg} near {_excerpt(text, start)}"
                    )
                    return self._defer(out, error)
                self._head = text[pos:]
                return out
            out.append(obj)

    def _defer(self, out: list[dict[str, Any]], error: StreamError) -> list[dict[str, Any]]:
        """Raise ``error`` now if nothing was decoded, else on the next call."""
        self._fail(error)
        if not out:
            raise error
        return out

    def _scan(self, text: str, pos: int) -> int:
        """Follow braces and strings from ``pos``; continue the state left by the last call.

        Returns:
            The index just after the brace that closes the top-level object, or
            -1 if ``text`` ends first.
        """
        depth, in_string = self._depth, self._in_string
        size = len(text)
        if self._escaped:
            if pos >= size:
                return -1
            self._escaped = False
            pos += 1
        inside, outside = _INSIDE.search, _OUTSIDE.search
        while True:
            m = inside(text, pos) if in_string else outside(text, pos)
            if m is None:
                break
            pos = m.end()
            char = m.group()
            if char == '"':
                in_string = not in_string
            elif char == "\\":
                if pos >= size:
                    self._escaped = True
                    break
                pos += 1
            elif char == "{":
                depth += 1
            else:
                depth -= 1
                if depth <= 0:
                    self._depth, self._in_string = 0, False
                    return pos
        self._depth, self._in_string = depth, in_string
        return -1


def raise_for_error(obj: Mapping[str, Any], error_cls: type[StreamError] = StreamError) -> None:
    """Raise if a progress object reports an error.

    Docker reports a failed pull, push or build inside the 200 stream, as
    ``{"errorDetail": {"code": ..., "message": ...}, "error": "..."}``; Podman
    sends ``{"error": "..."}``. The message of ``errorDetail`` is preferred,
    then ``error``. An empty or null ``error`` with no ``errorDetail`` is not
    an error.

    Args:
        obj: One object from :class:`JsonLinesDecoder`.
        error_cls: The class to raise: :class:`~pydock.errors.PullError`,
            :class:`~pydock.errors.PushError`, :class:`~pydock.errors.BuildError`...

    Raises:
        StreamError: An instance of ``error_cls`` with the engine's message
            (cleaned of anything that looks like a credential).
    """
    detail = obj.get("errorDetail")
    error = obj.get("error")
    if not detail and not error:
        return
    message: object = None
    if isinstance(detail, Mapping):
        message = detail.get("message")
    if not message:
        message = error
    if not message:
        message = "the engine reported an error without a message"
    elif not isinstance(message, str):
        message = json.dumps(message)
    raise error_cls(scrub(str(message)))


# --------------------------------------------------------------------------- frames


class Frame(NamedTuple):
    """A piece of a container's output.

    Attributes:
        stream: :data:`STDOUT`, :data:`STDERR`, :data:`STDIN` or
            :data:`SYSTEMERR` (an error message from the engine itself).
        data: The bytes, never empty.
    """

    stream: int
    data: bytes


class FrameDecoder(Protocol):
    """What :class:`MultiplexDecoder` and :class:`RawDecoder` have in common."""

    def feed(self, data: BytesLike) -> list[Frame]:
        """Decode the next chunk; return the frames it completes."""
        ...

    def flush(self) -> list[Frame]:
        """End the stream; return what is left or raise if it was cut short."""
        ...


_HEADER = struct.Struct(">BxxxL")
_HEADER_SIZE = _HEADER.size


class MultiplexDecoder:
    """Decode the multiplexed attach/logs stream of a container without a TTY.

    Each frame is an 8-byte header - the stream number (0 stdin, 1 stdout,
    2 stderr, 3 an engine error), three zero bytes, the payload length as a
    big-endian 32-bit integer - followed by the payload. Each payload becomes a
    :class:`Frame`; frames with an empty payload yield nothing.

    Frames are returned whole, however the stream is chunked: a frame split
    across chunks comes out of the ``feed`` that completes it. Only payloads
    are copied; a chunk that leaves part of a frame over costs one copy of
    that part.

    A :data:`SYSTEMERR` frame is returned like any other; it is the caller's
    to turn into an error.
    """

    def __init__(self) -> None:
        self._buf = bytearray()
        self._error: StreamError | None = None

    def feed(self, data: BytesLike) -> list[Frame]:
        """Decode the next chunk of the stream.

        Args:
            data: The chunk, of any length (empty is fine).

        Returns:
            The frames completed by this chunk, in stream order.

        Raises:
            StreamError: A header names a stream other than 0 to 3.
        """
        if self._error is not None:
            raise self._error
        if not isinstance(data, (bytes, bytearray)):
            data = memoryview(data).cast("B")
        buf = self._buf
        if buf:
            buf += data
            src: bytes | memoryview = memoryview(buf)
        elif isinstance(data, bytes):
            src = data  # slicing bytes copies once, straight into the payload
        else:
            src = memoryview(data).cast("B")
        out: list[Frame] = []
        append = out.append
        unpack = _HEADER.unpack_from
        size = len(src)
        pos = 0
        error: StreamError | None = None
        try:
            if isinstance(src, bytes):
                while size - pos >= _HEADER_SIZE:
                    stream, length = unpack(src, pos)
                    if stream > SYSTEMERR:
                        error = self._bad_stream(stream)
                        break
                    end = pos + _HEADER_SIZE + length
                    if end > size:
                        break
                    if length:
                        append(Frame(stream, src[pos + _HEADER_SIZE : end]))
                    pos = end
            else:
                while size - pos >= _HEADER_SIZE:
                    stream, length = unpack(src, pos)
                    if stream > SYSTEMERR:
                        error = self._bad_stream(stream)
                        break
                    end = pos + _HEADER_SIZE + length
                    if end > size:
                        break
                    if length:
                        append(Frame(stream, src[pos + _HEADER_SIZE : end].tobytes()))
                    pos = end
            if error is None and pos < size and src[pos] > SYSTEMERR:
                # Catch a TTY stream early, even when shorter than a header.
                error = self._bad_stream(src[pos])
        finally:
            if isinstance(src, memoryview):
                src.release()
        if error is not None:
            self._error = error
            buf.clear()
            if not out:
                raise error
            return out
        if buf:
            del buf[:pos]
        elif pos < size:
            buf += data[pos:] if pos else data
        return out

    def flush(self) -> list[Frame]:
        """End the stream.

        Returns:
            Always an empty list: every complete frame was returned by ``feed``.

        Raises:
            StreamError: The stream ended inside a frame (header or payload).
        """
        if self._error is not None:
            raise self._error
        buf = self._buf
        if not buf:
            return []
        if len(buf) < _HEADER_SIZE:
            error = StreamError(f"stream ended inside a frame header: {len(buf)} of 8 bytes")
        else:
            _, length = _HEADER.unpack_from(buf)
            got = len(buf) - _HEADER_SIZE
            error = StreamError(f"stream ended inside a frame: {got} of {length} bytes")
        buf.clear()
        self._error = error
        raise error

    @staticmethod
    def _bad_stream(stream: int) -> StreamError:
        return StreamError(
            f"invalid stream type {stream} in multiplexed stream "
            "(is this the output of a container with a TTY?)"
        )


class RawDecoder:
    """Decode the raw attach/logs stream of a container with a TTY.

    The bytes are passed through as they come, each non-empty chunk as one
    :class:`Frame` on ``stream`` (stdout by default: a TTY merges both).
    It has the interface of :class:`MultiplexDecoder`, so callers choose a
    decoder by the container's ``tty`` flag and otherwise treat both alike.

    Args:
        stream: The stream number to report.
    """

    def __init__(self, stream: int = STDOUT) -> None:
        self._stream = stream

    def feed(self, data: BytesLike) -> list[Frame]:
        """Return the chunk as a frame (nothing if it is empty)."""
        if not data:
            return []
        return [Frame(self._stream, bytes(data))]

    def flush(self) -> list[Frame]:
        """End the stream: there is never anything left."""
        return []


def frame_decoder(*, tty: bool) -> FrameDecoder:
    """The decoder for a container's attach/logs stream.

    Args:
        tty: Whether the container was created with a TTY.

    Returns:
        A :class:`RawDecoder` if ``tty``, else a :class:`MultiplexDecoder`.
    """
    return RawDecoder() if tty else MultiplexDecoder()


def demux_all(data: BytesLike) -> tuple[bytes, bytes]:
    """Split a whole multiplexed stream into its stdout and stderr.

    Stdin frames are dropped.

    Args:
        data: The complete stream.

    Returns:
        ``(stdout, stderr)``.

    Raises:
        StreamError: The stream is malformed or truncated, or holds an error
            from the engine (a :data:`SYSTEMERR` frame).
    """
    decoder = MultiplexDecoder()
    frames = decoder.feed(data)
    decoder.flush()
    parts: dict[int, list[bytes]] = {STDOUT: [], STDERR: []}
    for stream, payload in frames:
        if stream == SYSTEMERR:
            message = payload.decode("utf-8", "replace").strip()
            raise StreamError(f"error from the engine in the stream: {scrub(message)}")
        if stream in parts:
            parts[stream].append(payload)
    return b"".join(parts[STDOUT]), b"".join(parts[STDERR])


# --------------------------------------------------------------------------- lines


_LINE = re.compile(rb"[^\n]*\n")


class LineSplitter:
    """Cut a byte stream into lines, however it is split into chunks.

    Lines keep their ``\\n`` (a ``\\r`` before it is kept too); only ``\\n``
    ends a line. The unterminated tail is held until a ``\\n`` arrives, or
    returned by ``flush()``; there is no limit on its length, so a stream
    that never sends ``\\n`` is held whole.
    """

    def __init__(self) -> None:
        self._tail = bytearray()

    def feed(self, data: BytesLike) -> list[bytes]:
        """Split the next chunk.

        Args:
            data: The chunk, of any length.

        Returns:
            The lines completed by this chunk, each ending with ``\\n``.
        """
        chunk = data if isinstance(data, bytes) else bytes(data)
        last = chunk.rfind(b"\n")
        tail = self._tail
        if last < 0:
            tail += chunk
            return []
        if tail:
            tail += chunk[: last + 1]
            lines: list[bytes] = _LINE.findall(tail)
            tail.clear()
        else:
            lines = _LINE.findall(chunk, 0, last + 1)
        tail += chunk[last + 1 :]
        return lines

    def flush(self) -> list[bytes]:
        """End the stream.

        Returns:
            The unterminated last line, if there is one.
        """
        if not self._tail:
            return []
        line = bytes(self._tail)
        self._tail.clear()
        return [line]
