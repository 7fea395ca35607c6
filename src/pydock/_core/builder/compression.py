"""Reproducible, optionally parallel gzip for layer blobs."""

from __future__ import annotations

import collections
import concurrent.futures
import struct
import zlib

__all__ = ["GZIP_BLOCK", "GzipStream", "deflate_block"]


#: Input bytes per independently compressed gzip block (fixed: it shapes the output).
GZIP_BLOCK = 1 << 20
_WINDOW = 32 * 1024


def deflate_block(data: bytes, level: int, zdict: bytes, final: bool) -> bytes:
    """Raw deflate of one block, primed with the previous block's last 32 KiB.

    A block that is not ``final`` ends with a sync flush (byte-aligned, not
    the last deflate block), so blocks concatenate into one valid stream, the
    way ``pigz`` does it. zlib releases the GIL while it works, so blocks can
    be compressed on several threads.
    """
    if zdict:
        deflate = zlib.compressobj(level, zlib.DEFLATED, -15, 9, zlib.Z_DEFAULT_STRATEGY, zdict)
    else:
        deflate = zlib.compressobj(level, zlib.DEFLATED, -15, 9)
    return deflate.compress(data) + deflate.flush(zlib.Z_FINISH if final else zlib.Z_SYNC_FLUSH)


class GzipStream:
    """A gzip compressor whose output depends only on its input and level.

    The header is written by hand: no file name, mtime 0, OS 255 ("unknown"),
    like Go's ``compress/gzip``, so a layer's digest is the same on every host.
    Input is compressed in blocks of :data:`GZIP_BLOCK` bytes, each primed with
    the 32 KiB before it; with an ``executor`` the blocks are compressed in
    parallel and the output is the same, byte for byte.

    Args:
        level: The zlib level, 0 (store) to 9.
        executor: Where to compress blocks (a thread pool); ``None`` compresses
            them in the calling thread.
        in_flight: How many blocks may be compressing at once with an executor.
    """

    def __init__(
        self,
        level: int = 6,
        *,
        executor: concurrent.futures.Executor | None = None,
        in_flight: int = 4,
    ) -> None:
        if not 0 <= level <= 9:
            raise ValueError(f"a gzip level is 0 to 9, not {level}")
        self._level = level
        xfl = 2 if level == 9 else 4 if level == 1 else 0
        self._header: bytes | None = b"\x1f\x8b\x08\x00\x00\x00\x00\x00" + bytes((xfl, 255))
        self._executor = executor
        self._in_flight = max(1, in_flight)
        self._pending: collections.deque[concurrent.futures.Future[bytes]] = collections.deque()
        self._buffer = bytearray()
        self._zdict = b""
        self._crc = 0
        self._size = 0

    def _submit(self, block: bytes, final: bool) -> list[bytes]:
        zdict, self._zdict = self._zdict, block[-_WINDOW:]
        if self._executor is None:
            return [deflate_block(block, self._level, zdict, final)]
        self._pending.append(self._executor.submit(deflate_block, block, self._level, zdict, final))
        out: list[bytes] = []
        while self._pending and (
            self._pending[0].done() or len(self._pending) > self._in_flight or final
        ):
            out.append(self._pending.popleft().result())
        return out

    def feed(self, data: bytes) -> bytes:
        """Compress the next piece; returns the compressed bytes ready so far."""
        self._crc = zlib.crc32(data, self._crc)
        self._size += len(data)
        self._buffer += data
        out: list[bytes] = []
        if self._header is not None:
            out.append(self._header)
            self._header = None
        while len(self._buffer) > GZIP_BLOCK:
            block = bytes(self._buffer[:GZIP_BLOCK])
            del self._buffer[:GZIP_BLOCK]
            out.extend(self._submit(block, False))
        return b"".join(out)

    def finish(self) -> bytes:
        """The rest of the stream: the last blocks and the CRC/size trailer."""
        out = [self._header or b""]
        self._header = None
        out.extend(self._submit(bytes(self._buffer), True))
        self._buffer.clear()
        out.append(struct.pack("<II", self._crc & 0xFFFFFFFF, self._size & 0xFFFFFFFF))
        return b"".join(out)

    def close(self) -> None:
        """Drop blocks still compressing (after an error)."""
        for future in self._pending:
            future.cancel()
        self._pending.clear()
