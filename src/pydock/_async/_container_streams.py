"""Streamed answers about containers: logs, stats, events and archives, decoded as they arrive."""

from __future__ import annotations

import builtins
import contextlib
from collections.abc import (
    AsyncIterator,
    Mapping,
)
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import httpx

from pydock._async._container_ref import STAT_HEADER, ContainerRef, decode_stat
from pydock._async._session import AsyncEngineSession
from pydock._core.containers import (
    ContainerEvent,
    ContainerStats,
    LogAssembler,
    LogLine,
    encode_filters,
)
from pydock._core.streams import Frame, JsonLinesDecoder, frame_decoder
from pydock.errors import PydockError

if TYPE_CHECKING:
    from typing_extensions import Self


__all__ = [
    "AsyncArchiveStream",
    "AsyncChunkStream",
    "AsyncEventStream",
    "AsyncLogStream",
    "AsyncStatsStream",
]

T = TypeVar("T")


class AsyncChunkStream(Generic[T]):
    """A streamed answer opened lazily, decoded chunk by chunk into items."""

    def __init__(self, client: AsyncEngineSession) -> None:
        self._client = client
        self._response: httpx.Response | None = None
        self._chunks: AsyncIterator[bytes] | None = None
        self._pending: builtins.list[T] = []
        self._done = False
        self._closed = False

    async def _open(self) -> httpx.Response:
        raise NotImplementedError

    def _decode(self, chunk: bytes) -> builtins.list[T]:
        raise NotImplementedError

    def _flush(self) -> builtins.list[T]:
        return []

    async def open(self) -> None:
        """Send the request (done on first iteration if not called)."""
        if self._response is None and not self._closed:
            self._response = await self._open()
            self._chunks = self._response.aiter_bytes()

    async def __aenter__(self) -> Self:
        await self.open()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    def __aiter__(self) -> AsyncChunkStream[T]:
        return self

    async def __anext__(self) -> T:
        while not self._pending:
            if self._done or self._closed:
                raise StopAsyncIteration
            await self.open()
            assert self._chunks is not None
            try:
                chunk = await anext(self._chunks)
            except StopAsyncIteration:
                self._done = True
                self._pending.extend(self._flush())
                await self.aclose()
                continue
            except httpx.TransportError as exc:
                await self.aclose()
                raise PydockError(f"the stream broke: {exc}") from exc
            self._pending.extend(self._decode(chunk))
        return self._pending.pop(0)

    async def aclose(self) -> None:
        """Close the stream (and its connection)."""
        self._closed = True
        chunks, self._chunks = self._chunks, None
        if self._response is not None:
            await self._response.aclose()
        if chunks is not None and not self._done:
            # httpx reads through nested generators; closing the outer one leaves the
            # inner ones suspended (trio warns when they are collected). With the
            # connection closed, reading on ends them all at once.
            with contextlib.suppress(Exception):
                async for _ in chunks:
                    pass


class AsyncLogStream(AsyncChunkStream[LogLine]):
    """A container's output, line by line (``async for line in stream``).

    Each item is a :class:`~pydock.LogLine` telling stdout from stderr (with
    a TTY everything is stdout). Close it with ``aclose()`` or ``async with``.
    """

    def __init__(
        self, container: ContainerRef, params: Mapping[str, Any], *, timestamps: bool
    ) -> None:
        super().__init__(container.session)
        self._container = container
        self._params = params
        self._lines = LogAssembler(timestamps=timestamps)
        self._frames = frame_decoder(tty=False)

    async def _open(self) -> httpx.Response:
        tty = await self._container.is_tty()
        self._frames = frame_decoder(tty=tty)
        return await self._client.request(
            "GET",
            self._container.path("/logs"),
            params=self._params,
            resource="container",
            stream=True,
        )

    def _decode(self, chunk: bytes) -> builtins.list[LogLine]:
        return self._lines.feed(self._frames.feed(chunk))

    def _flush(self) -> builtins.list[LogLine]:
        frames: builtins.list[Frame] = self._frames.flush()
        return self._lines.feed(frames) + self._lines.flush()


class _AsyncJsonStream(AsyncChunkStream[T]):
    def __init__(
        self,
        client: AsyncEngineSession,
        path: str,
        params: Mapping[str, Any],
    ) -> None:
        super().__init__(client)
        self._path = path
        self._params = params
        self._json = JsonLinesDecoder()

    async def _open(self) -> httpx.Response:
        return await self._client.request(
            "GET", self._path, params=self._params, resource="container", stream=True
        )

    def _convert(self, payload: Mapping[str, Any]) -> T:
        raise NotImplementedError

    def _decode(self, chunk: bytes) -> builtins.list[T]:
        return [self._convert(obj) for obj in self._json.feed(chunk)]

    def _flush(self) -> builtins.list[T]:
        return [self._convert(obj) for obj in self._json.flush()]


class AsyncStatsStream(_AsyncJsonStream[ContainerStats]):
    """Resource-usage samples of a container (``async for sample in stream``)."""

    def _convert(self, payload: Mapping[str, Any]) -> ContainerStats:
        return ContainerStats.from_api(payload)


class AsyncEventStream(_AsyncJsonStream[ContainerEvent]):
    """Engine events (``async for event in stream``), until ``until`` or closed.

    Podman 4.3 drops every replayed event (``since``) when the request has a
    ``type`` filter, so on Podman that filter is applied here instead; and it
    filters ``die`` events by the name ``died``, which is added for it.
    """

    def __init__(
        self,
        client: AsyncEngineSession,
        path: str,
        params: Mapping[str, Any],
        filters: Mapping[str, Any],
    ) -> None:
        super().__init__(client, path, params)
        self._filters = dict(filters)
        self._types: frozenset[str] | None = None

    async def _open(self) -> httpx.Response:
        await self._client.connect()
        filters = dict(self._filters)
        if self._client.backend == "podman" and "type" in filters:
            wanted = filters.pop("type")
            self._types = frozenset([wanted] if isinstance(wanted, str) else wanted)
        if self._client.backend == "podman" and "event" in filters:
            # Podman 4.3 sends "die" events but filters them by the name "died".
            names = filters["event"]
            names = [names] if isinstance(names, str) else list(names)
            filters["event"] = [*names, "died"] if "die" in names else names
        self._params = {**self._params, "filters": encode_filters(filters)}
        return await super()._open()

    def _convert(self, payload: Mapping[str, Any]) -> ContainerEvent:
        return ContainerEvent.from_api(payload)

    def _decode(self, chunk: bytes) -> builtins.list[ContainerEvent]:
        events = super()._decode(chunk)
        if self._types is None:
            return events
        return [e for e in events if e.type in self._types]


class AsyncArchiveStream(AsyncChunkStream[bytes]):
    """A tar stream of a path in a container: ``async for chunk in stream``.

    ``stat`` holds what the engine says about the path (``name``, ``size``,
    ``mode``, ``mtime``, ``linkTarget``) once the stream is open.
    """

    def __init__(self, container: ContainerRef, path: str) -> None:
        super().__init__(container.session)
        self._container = container
        self.path = path
        self.stat: Mapping[str, Any] | None = None

    async def _open(self) -> httpx.Response:
        response = await self._client.request(
            "GET",
            self._container.path("/archive"),
            params={"path": await self._container.archive_path(self.path)},
            headers={"Accept-Encoding": "identity"},
            resource="container",
            stream=True,
        )
        self.stat = decode_stat(response.headers.get(STAT_HEADER))
        return response

    def _decode(self, chunk: bytes) -> builtins.list[bytes]:
        return [chunk]
