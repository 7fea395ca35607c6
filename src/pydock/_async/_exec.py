"""Commands run in containers: execs created, ended and waited for; interactive exec sessions."""

from __future__ import annotations

import builtins
import contextlib
import uuid
from collections.abc import (
    Mapping,
    Sequence,
)
from typing import TYPE_CHECKING, Any

import anyio  # unasync: remove
import httpx

from pydock._async._backend import monotonic, sleep
from pydock._async._container_ref import ContainerRef, request_timeout
from pydock._async._session import AsyncEngineSession
from pydock._core.containers import (
    created_id,
    environment_list,
    exec_state,
)
from pydock._core.streams import Frame
from pydock.errors import (
    PydockError,
    Timeout,
)

if TYPE_CHECKING:
    from pydock._async._upgrade import AsyncRawStream


__all__ = [
    "AsyncExecSession",
    "cleanup_scope",
    "create_exec",
    "end_exec",
    "exec_exit_code",
    "exec_mark",
]

# Every exec carries ``PYDOCK_EXEC=<token>`` in its environment (and so do the
# processes it starts): what ends an abandoned exec finds them by it.
_EXEC_MARK = "PYDOCK_EXEC"
# Seconds an abandoned exec gets to exit by itself once its stdin is closed.
_EXEC_GRACE = 0.5
# Seconds the (shielded) cleanup of an abandoned exec may take at most.
_EXEC_CLEANUP_LIMIT = 20.0
# Run in the container: SIGTERM, then SIGKILL, every process whose environment
# holds the mark. The engines' exec inspect gives a host pid, not one the
# container can signal, so the container's own /proc is searched instead.
_EXEC_KILL_SCRIPT = (
    'k() { for p in /proc/[0-9]*; do grep -qs "$1" "$p/environ" && kill "-$2" "${p#/proc/}"; '
    "done; }; k MARK TERM; sleep 0.2; k MARK KILL; true"
)


def exec_mark() -> str:
    """A fresh ``PYDOCK_EXEC=<token>`` environment entry for one exec."""
    return f"{_EXEC_MARK}={uuid.uuid4().hex}"


def cleanup_scope() -> contextlib.AbstractContextManager[object]:
    """Shield a cleanup from the cancellation that made it necessary, for a bounded time."""
    scope: contextlib.AbstractContextManager[object] = contextlib.nullcontext()
    scope = anyio.move_on_after(_EXEC_CLEANUP_LIMIT, shield=True)  # unasync: remove
    return scope


async def exec_exit_code(client: AsyncEngineSession, exec_id: str, *, wait: float) -> int | None:
    """The exit code of an exec, once the engine has recorded it (polled briefly)."""
    deadline = monotonic() + wait
    delay = 0.005
    while True:
        running, exit_code, _ = exec_state(await client.json("GET", f"/exec/{exec_id}/json"))
        if not running and exit_code is not None:
            return exit_code
        if monotonic() >= deadline:
            return None
        await sleep(delay)
        delay = min(delay * 2, 0.2)


async def create_exec(
    container: ContainerRef,
    cmd: str | Sequence[str],
    *,
    stdin: bool,
    tty: bool,
    user: str | None,
    workdir: str | None,
    environment: Mapping[str, Any] | Sequence[str] | None,
    privileged: bool = False,
    mark: str | None = None,
) -> str:
    """Create an exec in the container (``POST /containers/{id}/exec``); its id.

    ``mark`` (``PYDOCK_EXEC=<token>``) is added to its environment, so that
    :func:`end_exec` can find the processes it started.
    """
    command = ["sh", "-c", cmd] if isinstance(cmd, str) else list(cmd)
    body: dict[str, Any] = {
        "Cmd": command,
        "AttachStdin": stdin,
        "AttachStdout": True,
        "AttachStderr": True,
        "Tty": tty,
        "Privileged": privileged,
    }
    if user is not None:
        body["User"] = user
    if workdir is not None:
        body["WorkingDir"] = workdir
    env = environment_list(environment) if environment is not None else []
    if mark is not None:
        env.append(mark)
    if env:
        body["Env"] = env
    created = await container.session.json(
        "POST", container.path("/exec"), json=body, resource="container"
    )
    return created_id(created)


async def end_exec(
    container: ContainerRef,
    exec_id: str,
    mark: str,
    stream: AsyncRawStream | None,
    user: str | None,
) -> int | None:
    """End an exec that is being abandoned; its exit code if known.

    Its stdin is closed first; if it is still running after a short grace,
    every process carrying its mark is sent SIGTERM, then SIGKILL, by a
    second exec. Errors are swallowed: the container may be gone already.
    """
    with contextlib.suppress(Exception):
        if stream is not None:
            await stream.close_stdin()
    try:
        code = await exec_exit_code(container.session, exec_id, wait=_EXEC_GRACE)
    except PydockError:
        return None
    if code is not None:
        return code
    with contextlib.suppress(PydockError):
        killer = await create_exec(
            container,
            _EXEC_KILL_SCRIPT.replace("MARK", mark),
            stdin=False,
            tty=False,
            user=user,
            workdir=None,
            environment=None,
        )
        await container.session.request(
            "POST",
            f"/exec/{killer}/start",
            json={"Detach": False, "Tty": False},
            idempotent=False,
            timeout=request_timeout(_EXEC_CLEANUP_LIMIT),
        )
        return await exec_exit_code(container.session, exec_id, wait=2.0)
    return None


class AsyncExecSession:
    """An interactive command in a container (``docker exec -it``).

    Use as ``async with``: entering starts the command with its stdin open.
    ``send()`` writes to its stdin, ``recv()`` returns its next output
    (``b""`` once it has exited), ``close_stdin()`` sends end of input,
    ``resize()`` sets the TTY size, and ``exit_code`` is known once the
    output has ended (or after :meth:`wait`).
    """

    def __init__(
        self,
        container: ContainerRef,
        cmd: str | Sequence[str],
        *,
        tty: bool,
        user: str | None,
        workdir: str | None,
        environment: Mapping[str, Any] | Sequence[str] | None,
    ) -> None:
        self._container = container
        self._client = container.session
        self._cmd = cmd
        self.tty = tty
        self._user = user
        self._workdir = workdir
        self._environment = environment
        self.id: str | None = None
        self._stream: AsyncRawStream | None = None
        self._mark = exec_mark()
        self._closed = False
        self.exit_code: int | None = None

    async def start(self) -> None:
        """Create the exec and attach to it (done by ``async with``).

        Raises:
            ContainerNotFound: The container does not exist.
            Conflict: The container is not running.
        """
        if self._stream is not None:
            return
        self.id = await create_exec(
            self._container,
            self._cmd,
            stdin=True,
            tty=self.tty,
            user=self._user,
            workdir=self._workdir,
            environment=self._environment,
            mark=self._mark,
        )
        self._stream = await self._client.upgrade(
            "POST", f"/exec/{self.id}/start", json={"Detach": False, "Tty": self.tty}, tty=self.tty
        )

    def _raw(self) -> AsyncRawStream:
        if self._stream is None:
            raise PydockError("the exec session is not started: use it with `async with`")
        return self._stream

    async def send(self, data: bytes | str) -> None:
        """Write to the command's stdin (text is UTF-8 encoded)."""
        await self._raw().send(data.encode() if isinstance(data, str) else data)

    async def recv(self, timeout: float | None = None) -> bytes:
        """The next output bytes; ``b""`` once the command has exited.

        Raises:
            Timeout: Nothing arrived within ``timeout`` seconds.
        """
        frames = await self.recv_frames(timeout)
        return b"".join(f.data for f in frames)

    async def recv_frames(self, timeout: float | None = None) -> builtins.list[Frame]:
        """The next output frames (stdout and stderr apart without a TTY); ``[]`` at the end.

        Raises:
            Timeout: Nothing arrived within ``timeout`` seconds.
        """
        try:
            frames = await self._raw().recv_frames(timeout=timeout)
        except httpx.TimeoutException as exc:
            raise Timeout(f"no output within {timeout} s") from exc
        if not frames and self.exit_code is None and self.id is not None:
            self.exit_code = await exec_exit_code(self._client, self.id, wait=10.0)
        return frames

    async def read_until(self, needle: bytes, timeout: float | None = None) -> bytes:
        """Read until ``needle`` appears in the output (or it ends); return all that was read.

        Raises:
            Timeout: ``needle`` did not come within ``timeout`` seconds.
        """
        seen = bytearray()
        deadline = None if timeout is None else monotonic() + timeout
        while needle not in seen:
            left = None if deadline is None else max(deadline - monotonic(), 0.001)
            chunk = await self.recv(left)
            if not chunk:
                break
            seen += chunk
        return bytes(seen)

    async def close_stdin(self) -> None:
        """Send end of input to the command."""
        await self._raw().close_stdin()

    async def resize(self, height: int, width: int) -> None:
        """Set the TTY size (rows, columns)."""
        self._client.dialect.require("exec.resize")
        await self._client.request(
            "POST", f"/exec/{self.id}/resize", params={"h": height, "w": width}
        )

    async def wait(self, timeout: float | None = None) -> int | None:
        """Read (and drop) output until the command exits; return its exit code.

        Raises:
            Timeout: It did not exit within ``timeout`` seconds.
        """
        deadline = None if timeout is None else monotonic() + timeout
        while True:
            left = None if deadline is None else max(deadline - monotonic(), 0.001)
            if not await self.recv_frames(left):
                return self.exit_code

    async def aclose(self) -> None:
        """End the session and close the connection (done by ``async with``).

        A command still running is ended: its stdin is closed, and if it has
        not exited half a second later, every process it started is sent
        SIGTERM, then SIGKILL (by a second exec running ``sh``, ``grep`` and
        ``kill`` in the container). This also happens when the block is left
        by an exception or a cancellation: the cleanup is shielded from the
        cancellation and bounded to 20 seconds. ``exit_code`` is set when known.
        """
        stream = self._stream
        if stream is None or self._closed:
            return
        self._closed = True
        with cleanup_scope():
            try:
                if self.exit_code is None and self.id is not None:
                    code = await end_exec(self._container, self.id, self._mark, stream, self._user)
                    if code is not None:
                        self.exit_code = code
            finally:
                await stream.aclose()

    async def __aenter__(self) -> AsyncExecSession:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()
