"""Upgraded (hijacked) connections: a raw two-way byte stream to a container.

Attach and exec with stdin ask the engine to upgrade the HTTP connection
(``Connection: Upgrade``, ``Upgrade: tcp``); both Docker and Podman answer
``101`` and the socket then carries the container's stdin one way and its
output the other: multiplexed frames without a TTY, raw bytes with one.
"""

from __future__ import annotations

from typing import Any

from pydock._core.streams import Frame, frame_decoder

__all__ = ["AsyncRawStream"]


class AsyncRawStream:
    """The two directions of an upgraded connection.

    ``send()`` writes to the container's stdin, ``recv_frames()`` returns the next
    decoded output frames (``Frame(stream, data)``; an empty list at the end),
    ``close_stdin()`` half-closes. Works with pydock's transport and with
    httpx's default one (any ``network_stream`` with ``read``/``write``).

    Args:
        network_stream: The ``network_stream`` extension of the 101 answer.
        tty: Whether the output is raw TTY bytes (True) or multiplexed frames.
    """

    def __init__(self, network_stream: Any, *, tty: bool) -> None:
        self._stream = network_stream
        self._decoder = frame_decoder(tty=tty)
        self.tty = tty
        self._eof = False

    async def send(self, data: bytes) -> None:
        """Write bytes to the container's stdin."""
        await self._stream.write(data)

    async def close_stdin(self) -> None:
        """Signal end of input (the container sees EOF on stdin)."""
        send_eof = getattr(self._stream, "send_eof", None)
        if send_eof is not None:
            await send_eof()
            return
        sock = self._stream.get_extra_info("socket")
        if sock is not None:
            import socket

            sock.shutdown(socket.SHUT_WR)

    async def recv_frames(
        self, max_bytes: int = 65536, timeout: float | None = None
    ) -> list[Frame]:
        """Read until at least one frame is decoded; ``[]`` once the stream has ended.

        Raises:
            StreamError: The stream ended inside a frame.
        """
        while not self._eof:
            data = await self._stream.read(max_bytes, timeout)
            if not data:
                self._eof = True
                return self._decoder.flush()
            frames = self._decoder.feed(data)
            if frames:
                return frames
        return []

    async def recv(self, max_bytes: int = 65536, timeout: float | None = None) -> bytes:
        """The next output bytes (stdout and stderr together); ``b""`` at the end."""
        frames = await self.recv_frames(max_bytes, timeout)
        return b"".join(f.data for f in frames)

    async def aclose(self) -> None:
        """Close the connection."""
        await self._stream.aclose()

    async def __aenter__(self) -> AsyncRawStream:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()
