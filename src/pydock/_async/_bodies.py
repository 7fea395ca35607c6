"""Request and answer bodies: files and tar streams sent to the engine, progress streams read back.

Every blocking read of a local file or of a tar generator (which walks and
reads folders) runs off the event loop, in a worker thread, about a mebibyte
at a time; the sync twin reads in the calling thread.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator, Iterator
from typing import IO, TypeVar

import httpx

from pydock._async._backend import to_thread
from pydock._core.images import ProgressDecoder

__all__ = [
    "CHUNK_SIZE",
    "ResponseBody",
    "StrPath",
    "file_chunks",
    "open_source",
    "progress_events",
    "stream_chunks",
]

EventT = TypeVar("EventT")

#: Bytes read from a file (or gathered from a tar stream) at a time for a request body.
CHUNK_SIZE = 1024 * 1024

#: A file path.
StrPath = str | os.PathLike[str]


def open_source(source: StrPath | IO[bytes]) -> tuple[IO[bytes], bool]:
    """The binary file to read, and whether this call opened it (and the caller must close it)."""
    if isinstance(source, (str, os.PathLike)):
        return open(os.fspath(source), "rb"), True
    return source, False


async def file_chunks(file: IO[bytes]) -> AsyncIterator[bytes]:
    """The file's bytes, CHUNK_SIZE at a time (a streamed request body), read off the loop."""
    while chunk := await to_thread(file.read, CHUNK_SIZE):
        yield chunk


def _next_batch(chunks: Iterator[bytes]) -> bytes:
    """The next chunks of ``chunks`` joined, up to about CHUNK_SIZE bytes (empty at the end)."""
    parts: list[bytes] = []
    size = 0
    while size < CHUNK_SIZE and (chunk := next(chunks, None)) is not None:
        parts.append(chunk)
        size += len(chunk)
    return b"".join(parts)


async def stream_chunks(chunks: Iterator[bytes]) -> AsyncIterator[bytes]:
    """A blocking generator of bytes (a tar of local files) as a request body, run off the loop.

    Small pieces (tar headers, padding) are gathered into pieces of about
    CHUNK_SIZE, so a folder of many small files costs few thread hops.
    """
    while batch := await to_thread(_next_batch, chunks):
        yield batch


class ResponseBody:
    """The chunks of a streamed answer, with a close that always finishes the iterators below.

    httpx reads a body through nested generators; one left half-way is only
    finalized by the garbage collector (trio warns about it). ``aclose``
    closes the answer and then runs the iterators to their (immediate) end.
    """

    def __init__(self, response: httpx.Response, chunk_size: int | None = None) -> None:
        self._response = response
        self._chunks = response.aiter_bytes(chunk_size)
        self._finished = False

    def __aiter__(self) -> ResponseBody:
        return self

    async def __anext__(self) -> bytes:
        try:
            return await self._chunks.__anext__()
        except BaseException:
            self._finished = True
            raise

    async def aclose(self) -> None:
        """Close the answer and finish the iterators reading it."""
        if self._finished:
            return
        self._finished = True
        await self._response.aclose()
        with contextlib.suppress(Exception):
            async for _ in self._chunks:
                pass


async def progress_events(
    response: httpx.Response, decoder: ProgressDecoder[EventT]
) -> AsyncIterator[EventT]:
    """The typed events of a progress stream, as they arrive (errors in it raise)."""
    body = ResponseBody(response)
    try:
        async for chunk in body:
            for event in decoder.feed(chunk):
                yield event
    finally:
        await body.aclose()
    for event in decoder.flush():
        yield event
