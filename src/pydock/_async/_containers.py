"""Containers on Docker and Podman: ``client.containers``.

Both engines are driven through the Docker-dialect endpoints (Podman's
Docker-compatible layer takes the same create body and answers in the same
shapes), so a container behaves the same on either.
"""

from __future__ import annotations

import base64
import builtins
import contextlib
import json
import os
import posixpath
import stat
import uuid
from collections.abc import (
    AsyncIterable,
    AsyncIterator,
    Iterable,
    Mapping,
    Sequence,
)
from datetime import datetime
from typing import TYPE_CHECKING, Any, Generic, Literal, TypeVar, overload

import anyio  # unasync: remove
import attrs
import httpx

from pydock._async._backend import monotonic, sleep
from pydock._async._bodies import stream_chunks
from pydock._async._images import AsyncImage, AsyncImages
from pydock._async._session import AsyncEngineSession
from pydock._core.archive import (
    CopyExtractor,
    TarReader,
    escape_glob,
    iter_tar,
    local_source,
    plan_copy_from,
    plan_copy_to,
    stat_is_link,
)
from pydock._core.containers import (
    ContainerChange,
    ContainerEvent,
    ContainerState,
    ContainerStats,
    CreateOptions,
    ExecResult,
    LogAssembler,
    LogLine,
    PortBinding,
    PruneReport,
    RestartPolicy,
    RunResult,
    TopResult,
    build_create_body,
    changes_from_api,
    check_image_argument,
    check_seconds,
    check_signal,
    check_wait_condition,
    container_fields_from_inspect,
    container_fields_from_list,
    container_list_entries,
    container_path,
    created_id,
    docker_since,
    encode_filters,
    environment_list,
    exec_state,
    normalize_port,
    wait_status,
)
from pydock._core.dialect import quote_path
from pydock._core.shapes import get_str, object_
from pydock._core.streams import STDERR, STDOUT, Frame, JsonLinesDecoder, frame_decoder
from pydock.errors import (
    ContainerError,
    ContainerNotFound,
    ImageNotFound,
    NotFound,
    PydockError,
    Timeout,
)

if TYPE_CHECKING:
    from typing_extensions import Self, Unpack

    from pydock._async._upgrade import AsyncRawStream

__all__ = [
    "AsyncArchiveStream",
    "AsyncContainer",
    "AsyncContainers",
    "AsyncEventStream",
    "AsyncExecSession",
    "AsyncLogStream",
    "AsyncStatsStream",
]

PullPolicy = Literal["missing", "always", "never"]
T = TypeVar("T")
_STAT_HEADER = "X-Docker-Container-Path-Stat"


def _timeout(read: float | None) -> httpx.Timeout:
    return httpx.Timeout(connect=10.0, read=read, write=60.0, pool=60.0)


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


def _exec_mark() -> str:
    return f"{_EXEC_MARK}={uuid.uuid4().hex}"


def _cleanup_scope() -> contextlib.AbstractContextManager[object]:
    """Shield a cleanup from the cancellation that made it necessary, for a bounded time."""
    scope: contextlib.AbstractContextManager[object] = contextlib.nullcontext()
    scope = anyio.move_on_after(_EXEC_CLEANUP_LIMIT, shield=True)  # unasync: remove
    return scope


async def _aiter_any(data: AsyncIterable[bytes] | Iterable[bytes]) -> AsyncIterator[bytes]:
    if isinstance(data, AsyncIterable):  # unasync: remove
        async for chunk in data:  # unasync: remove
            yield chunk  # unasync: remove
        return  # unasync: remove
    chunks = iter(data)
    while (piece := next(chunks, None)) is not None:
        yield piece


# --------------------------------------------------------------------------- container


@attrs.frozen
class AsyncContainer:
    """A snapshot of one container, with the methods that act on it.

    The fields are what the engine said when the snapshot was taken;
    :meth:`reload` takes a new one. Snapshots from :meth:`AsyncContainers.list`
    lack ``restart_count``, ``restart_policy``, ``tty`` and ``state`` (None).

    Attributes:
        id: The full container id.
        name: The name, without Docker's leading ``/``.
        image: The image as it was given (Podman adds ``localhost/`` or
            ``docker.io/`` to short names).
        image_id: The image's id.
        status: ``created``, ``running``, ``paused``, ``restarting``, ``exited``...
        ports: Container port (``"80/tcp"``) → where it is published on the host.
        labels: The container's labels.
        created: When it was created.
        restart_count: How many times the engine restarted it.
        restart_policy: Its :class:`~pydock.RestartPolicy`.
        tty: Whether it has a TTY.
        state: The detailed runtime state.
        attrs: The raw engine JSON.
    """

    _client: AsyncEngineSession = attrs.field(eq=False, repr=False)
    id: str
    name: str
    image: str
    image_id: str = attrs.field(repr=False)
    status: str
    ports: Mapping[str, builtins.list[PortBinding]] = attrs.field(repr=False)
    labels: Mapping[str, str] = attrs.field(repr=False)
    created: datetime | None = attrs.field(repr=False)
    restart_count: int | None = attrs.field(repr=False)
    restart_policy: RestartPolicy | None = attrs.field(repr=False)
    tty: bool | None = attrs.field(repr=False)
    state: ContainerState | None = attrs.field(repr=False)
    attrs: Mapping[str, Any] = attrs.field(repr=False, eq=False)

    @classmethod
    def from_api(cls, client: AsyncEngineSession, payload: Mapping[str, Any]) -> AsyncContainer:
        """Build from an inspect answer (``GET /containers/{id}/json``)."""
        return cls(client, **container_fields_from_inspect(payload))

    @classmethod
    def from_list(cls, client: AsyncEngineSession, payload: Mapping[str, Any]) -> AsyncContainer:
        """Build from one entry of ``GET /containers/json``."""
        return cls(client, **container_fields_from_list(payload))

    @property
    def short_id(self) -> str:
        """The first 12 characters of the id."""
        return self.id[:12]

    def host_port(self, port: int | str, host_ip: str | None = None) -> int | None:
        """The host port a container port is published on (the first one), or None.

        Args:
            port: ``80``, ``"80"`` or ``"80/tcp"``.
            host_ip: Only bindings on this host address.
        """
        for binding in self.ports.get(normalize_port(port), []):
            if host_ip is None or binding.host_ip == host_ip:
                return binding.host_port
        return None

    def _path(self, suffix: str = "") -> str:
        return f"/containers/{quote_path(self.id)}{suffix}"

    async def _is_tty(self) -> bool:
        if self.tty is not None:
            return self.tty
        return bool((await self.reload()).tty)

    # -- lifecycle -----------------------------------------------------------

    async def reload(self) -> AsyncContainer:
        """A fresh snapshot of this container.

        Raises:
            ContainerNotFound: It no longer exists.
        """
        payload = await self._client.json("GET", self._path("/json"), resource="container")
        return AsyncContainer.from_api(self._client, payload)

    async def start(self) -> None:
        """Start the container (nothing happens if it is running).

        Raises:
            ContainerNotFound: It no longer exists.
            APIError: The engine could not start it.
        """
        await self._client.request("POST", self._path("/start"), resource="container")

    async def stop(self, timeout: float | None = None) -> None:
        """Stop: send the stop signal, then SIGKILL after ``timeout`` seconds.

        Args:
            timeout: The grace period in seconds (None: the container's own, 10 s
                by default).

        Raises:
            InvalidConfiguration: ``timeout`` is negative or not a number (nothing
                is sent).
            ContainerNotFound: It no longer exists.
        """
        await self._stop_with_grace("/stop", timeout)

    async def _stop_with_grace(self, action: str, timeout: float | None) -> None:
        # The engine waits out the grace period before answering: give the HTTP
        # read that long and a minute more (10 s is the engines' default grace).
        seconds = check_seconds(timeout, "timeout")
        grace = None if seconds is None else int(seconds)
        await self._client.request(
            "POST",
            self._path(action),
            params={"t": grace},
            resource="container",
            timeout=_timeout((grace if grace is not None else 10) + 60),
        )

    async def kill(self, signal: str | int = "SIGKILL") -> None:
        """Send a signal to the container's main process.

        Args:
            signal: A name (``"SIGTERM"``, ``"TERM"``, ``"SIGRTMIN+3"``) or a
                number from 1 to 64.

        Raises:
            InvalidConfiguration: ``signal`` is neither (nothing is sent).
            ContainerNotFound: It no longer exists.
            Conflict: It is not running.
        """
        await self._client.request(
            "POST",
            self._path("/kill"),
            params={"signal": check_signal(signal)},
            resource="container",
        )

    async def restart(self, timeout: float | None = None) -> None:
        """Stop (with a grace period of ``timeout`` seconds) and start again.

        Raises:
            InvalidConfiguration: ``timeout`` is negative or not a number (nothing
                is sent).
            ContainerNotFound: It no longer exists.
        """
        await self._stop_with_grace("/restart", timeout)

    async def pause(self) -> None:
        """Freeze every process of the container.

        Raises:
            ContainerNotFound: It no longer exists.
            Conflict: It is not running.
        """
        await self._client.request("POST", self._path("/pause"), resource="container")

    async def unpause(self) -> None:
        """Resume a paused container.

        Raises:
            ContainerNotFound: It no longer exists.
        """
        await self._client.request("POST", self._path("/unpause"), resource="container")

    async def rename(self, name: str) -> None:
        """Give the container a new name.

        Raises:
            ContainerNotFound: It no longer exists.
            Conflict: The name is taken.
        """
        await self._client.request(
            "POST", self._path("/rename"), params={"name": name}, resource="container"
        )

    async def wait(self, *, timeout: float | None = None, condition: str = "not-running") -> int:
        """Wait for the container to stop and return its exit code.

        Args:
            timeout: Seconds to wait at most (None: no limit).
            condition: ``"not-running"``, ``"next-exit"`` or ``"removed"``.

        Raises:
            InvalidConfiguration: ``timeout`` is negative or not a number, or
                ``condition`` is unknown (nothing is sent).
            Timeout: The condition was not met within ``timeout``.
            ContainerNotFound: It does not exist.
        """
        timeout = check_seconds(timeout, "timeout")
        condition = check_wait_condition(condition)
        self._client.dialect.require("containers.wait.condition")
        try:
            payload = await self._client.json(
                "POST",
                self._path("/wait"),
                params={"condition": condition},
                resource="container",
                timeout=_timeout(timeout),
                idempotent=False,
            )
        except Timeout as exc:
            raise Timeout(
                f"container {self.name or self.short_id} did not stop within {timeout} s",
                method=exc.method,
                path=exc.path,
            ) from exc
        exit_code, error = wait_status(payload)
        if error:
            raise PydockError(f"waiting for the container failed: {error}")
        return exit_code

    async def remove(self, *, force: bool = False, volumes: bool = False) -> None:
        """Remove the container.

        Args:
            force: Kill it first if it runs.
            volumes: Also remove its anonymous volumes.

        Raises:
            ContainerNotFound: It does not exist.
            Conflict: It runs and ``force`` is false.
        """
        await self._client.request(
            "DELETE",
            self._path(),
            params={"force": force, "v": volumes},
            resource="container",
        )

    # -- logs ----------------------------------------------------------------

    def _log_params(
        self,
        stdout: bool,
        stderr: bool,
        tail: int | str | None,
        since: datetime | float | str | None,
        until: datetime | float | str | None,
        timestamps: bool,
        follow: bool,
    ) -> dict[str, Any]:
        return {
            "stdout": stdout,
            "stderr": stderr,
            "tail": "all" if tail is None else str(tail),
            "since": docker_since(since),
            "until": docker_since(until),
            "timestamps": timestamps,
            "follow": follow,
        }

    async def logs(
        self,
        *,
        stdout: bool = True,
        stderr: bool = True,
        tail: int | str | None = None,
        since: datetime | float | str | None = None,
        until: datetime | float | str | None = None,
        timestamps: bool = False,
    ) -> bytes:
        """The container's output so far, stdout and stderr interleaved in the engine's order.

        Each stream keeps its own order; how lines of the two streams interleave
        is up to the engine (it need not be the order they were written in).
        ``tail`` counts lines of both streams together, before ``stdout`` /
        ``stderr`` select one.

        Args:
            stdout: Include standard output.
            stderr: Include standard error.
            tail: Only the last ``tail`` lines.
            since: Only output after this time (datetime or Unix seconds).
            until: Only output before this time.
            timestamps: Start each line with the engine's RFC 3339 timestamp.

        Raises:
            ContainerNotFound: It does not exist.
        """
        tty = await self._is_tty()
        params = self._log_params(stdout, stderr, tail, since, until, timestamps, False)
        response = await self._client.request(
            "GET", self._path("/logs"), params=params, resource="container"
        )
        decoder = frame_decoder(tty=tty)
        frames = decoder.feed(response.content)
        frames += decoder.flush()
        return b"".join(f.data for f in frames if f.stream in (STDOUT, STDERR))

    def stream_logs(
        self,
        *,
        stdout: bool = True,
        stderr: bool = True,
        tail: int | str | None = None,
        since: datetime | float | str | None = None,
        until: datetime | float | str | None = None,
        timestamps: bool = False,
        follow: bool = True,
    ) -> AsyncLogStream:
        """The container's output as a stream of :class:`~pydock.LogLine`.

        The request is sent on first iteration (or ``async with``). With
        ``follow`` the stream lasts until the container stops or the stream
        is closed. Memory stays bounded: very long lines come in pieces.

        Raises:
            ContainerNotFound: It does not exist (when iteration starts).
        """
        params = self._log_params(stdout, stderr, tail, since, until, timestamps, follow)
        return AsyncLogStream(self, params, timestamps=timestamps)

    # -- exec ----------------------------------------------------------------

    async def _create_exec(
        self,
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
        created = await self._client.json(
            "POST", self._path("/exec"), json=body, resource="container"
        )
        return created_id(created)

    async def _end_exec(
        self, exec_id: str, mark: str, stream: AsyncRawStream | None, user: str | None
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
            code = await _exec_exit_code(self._client, exec_id, wait=_EXEC_GRACE)
        except PydockError:
            return None
        if code is not None:
            return code
        with contextlib.suppress(PydockError):
            killer = await self._create_exec(
                _EXEC_KILL_SCRIPT.replace("MARK", mark),
                stdin=False,
                tty=False,
                user=user,
                workdir=None,
                environment=None,
            )
            await self._client.request(
                "POST",
                f"/exec/{killer}/start",
                json={"Detach": False, "Tty": False},
                idempotent=False,
                timeout=_timeout(_EXEC_CLEANUP_LIMIT),
            )
            return await _exec_exit_code(self._client, exec_id, wait=2.0)
        return None

    async def exec(
        self,
        cmd: str | Sequence[str],
        *,
        user: str | None = None,
        workdir: str | None = None,
        environment: Mapping[str, Any] | Sequence[str] | None = None,
        tty: bool = False,
        privileged: bool = False,
        stdin: bytes | None = None,
    ) -> ExecResult:
        """Run a command in the running container and wait for it.

        If the call is cancelled or interrupted, the command is ended too (see
        :meth:`AsyncExecSession.aclose`): it does not outlive the call.

        Args:
            cmd: The command: a list of arguments, or a string run with ``sh -c``.
            user: Run as this user (``name``, ``uid`` or ``uid:gid``).
            workdir: Run in this folder.
            environment: Extra environment variables.
            tty: Give it a TTY (stdout and stderr then arrive together).
            privileged: Run with extended privileges.
            stdin: Bytes to write to its standard input (then closed).

        Raises:
            ContainerNotFound: The container does not exist.
            Conflict: The container is not running.
        """
        mark = _exec_mark()
        exec_id = await self._create_exec(
            cmd,
            stdin=stdin is not None,
            tty=tty,
            user=user,
            workdir=workdir,
            environment=environment,
            privileged=privileged,
            mark=mark,
        )
        out: builtins.list[bytes] = []
        err: builtins.list[bytes] = []
        stream: AsyncRawStream | None = None
        try:
            stream = await self._client.upgrade(
                "POST", f"/exec/{exec_id}/start", json={"Detach": False, "Tty": tty}, tty=tty
            )
            if stdin is not None:
                if stdin:
                    await stream.send(stdin)
                await stream.close_stdin()
            while frames := await stream.recv_frames():
                for frame in frames:
                    if frame.stream == STDERR:
                        err.append(frame.data)
                    elif frame.stream == STDOUT:
                        out.append(frame.data)
        except BaseException:
            # Cancelled or failed half-way: the command must not outlive the call.
            with _cleanup_scope():
                await self._end_exec(exec_id, mark, stream, user)
            raise
        finally:
            if stream is not None:
                with _cleanup_scope():
                    await stream.aclose()
        code = await _exec_exit_code(self._client, exec_id, wait=10.0)
        return ExecResult(code if code is not None else -1, b"".join(out), b"".join(err))

    def exec_session(
        self,
        cmd: str | Sequence[str],
        *,
        tty: bool = True,
        user: str | None = None,
        workdir: str | None = None,
        environment: Mapping[str, Any] | Sequence[str] | None = None,
    ) -> AsyncExecSession:
        """An interactive command with stdin (``docker exec -it``), as a context manager.

        The command starts when the ``async with`` block is entered::

            async with container.exec_session("sh") as sh:
                await sh.send(b"echo $((6*7))\\n")
                ...

        Leaving the block ends the command if it still runs (:meth:`AsyncExecSession.aclose`).
        """
        return AsyncExecSession(
            self, cmd, tty=tty, user=user, workdir=workdir, environment=environment
        )

    # -- files ---------------------------------------------------------------

    async def stat_path(self, path: str) -> Mapping[str, Any] | None:
        """What the engine says about a path in the container, or None if it does not exist.

        Returns:
            ``{"name", "size", "mode", "mtime", "linkTarget"}`` (``mode`` in Go's
            ``FileMode`` bits: folders have bit 31 set).

        Raises:
            ContainerNotFound: The container does not exist.
        """
        try:
            response = await self._client.request(
                "HEAD",
                self._path("/archive"),
                params={"path": await self._archive_path(path)},
                resource="container",
            )
        except ContainerNotFound:
            await self.reload()  # raises if the container itself is missing
            return None
        except NotFound:
            return None
        return _decode_stat(response.headers.get(_STAT_HEADER))

    async def _archive_path(self, path: str) -> str:
        """``path`` as the engine's archive endpoint reads it (Podman's is a glob)."""
        await self._client.connect()
        return escape_glob(path) if self._client.dialect.backend == "podman" else path

    async def put_archive(
        self, path: str, data: bytes | AsyncIterable[bytes] | Iterable[bytes]
    ) -> None:
        """Extract a tar archive into a folder of the container.

        Args:
            path: The folder in the container (must exist).
            data: The archive: bytes, or an iterable of chunks (streamed).

        Raises:
            ContainerNotFound: The container does not exist.
            NotFound: ``path`` does not exist.
        """
        content: bytes | AsyncIterator[bytes] = (
            data if isinstance(data, bytes) else _aiter_any(data)
        )
        await self._client.request(
            "PUT",
            self._path("/archive"),
            params={"path": await self._archive_path(path)},
            content=content,
            headers={"Content-Type": "application/x-tar"},
            resource="container",
            idempotent=False,
            timeout=_timeout(None),
        )

    def get_archive(self, path: str) -> AsyncArchiveStream:
        """A path of the container as a tar stream (``async with``, then ``async for`` chunks).

        Raises:
            ContainerNotFound: The container or the path does not exist (on entry).
        """
        return AsyncArchiveStream(self, path)

    async def copy_to(self, host_path: str | os.PathLike[str], container_path: str) -> None:
        """Copy a local file or folder into the container (``docker cp SRC CONTAINER:DEST``).

        ``docker cp``'s rules (see the table in ``docs/containers.md``): a
        symlink at ``container_path`` is followed (the engine's ``linkTarget``),
        never replaced; an existing folder receives the source under its own
        name (``SRC/.``: its contents); an existing file is replaced by a file
        source; a missing path is created as the copy (its parent must
        exist). Modes are kept. The archive is streamed: big files are never
        held in memory.

        Raises:
            FileNotFoundError: ``host_path`` does not exist.
            CopyError: A folder onto an existing file, or a file onto a missing
                path ending in ``/``.
            NotFound: The parent of ``container_path`` does not exist.
        """
        source = local_source(host_path)
        source_is_dir = stat.S_ISDIR(os.lstat(source.path).st_mode)
        target = container_path or "/"
        info = await self.stat_path(target)
        if stat_is_link(info) and not target.endswith(("/", "/.")):
            link = str((info or {}).get("linkTarget") or "")
            if link:
                parent = posixpath.dirname(posixpath.normpath(target)) or "/"
                target = posixpath.join(parent, link)
                info = await self.stat_path(target)
        text = os.fspath(host_path)
        contents = source_is_dir and (text == "." or text.endswith(("/.", os.sep + ".")))
        folder, arcname = plan_copy_to(
            target, info, source_name="." if contents else source.name, source_is_dir=source_is_dir
        )
        await self.put_archive(folder, stream_chunks(iter_tar(source.path, arcname)))

    async def copy_from(
        self,
        container_path: str,
        host_path: str | os.PathLike[str],
        *,
        preserve_mode: bool = False,
    ) -> None:
        """Copy a file or folder out of the container (``docker cp CONTAINER:SRC DEST``).

        ``docker cp``'s destination rules (see the table in
        ``docs/containers.md``): an existing folder receives SRC under its own
        name (``SRC/.``: its contents); a missing path is created as the copy
        (its parent must exist); an existing file is replaced by a file SRC.
        The archive is streamed and extracted member by member, safely: see
        :class:`~pydock._core.archive.SafeExtractor`. Members outside the path
        the engine says it sends never land beside the destination. A symlink
        SRC is copied as a link, as ``docker cp`` does without ``-L``.

        Args:
            container_path: SRC in the container.
            host_path: DEST on this machine.
            preserve_mode: Keep setuid, setgid and sticky bits (dropped by
                default, as Python's ``tarfile`` ``data`` filter does).

        Raises:
            NotFound: ``container_path`` does not exist.
            CopyError: The destination does not fit the source (a folder onto
                a file, a file onto a missing path ending in ``/``, a missing
                parent folder); nothing is written.
            UnsafeArchiveError: The archive tries to write outside the
                destination; nothing is written for that member, no link is
                left pointing outside, no file is left half-written.
            ArchiveFormatError: The stream is not a tar archive.
        """
        async with self.get_archive(container_path) as archive:
            plan = plan_copy_from(container_path, archive.stat, host_path)
            extractor = CopyExtractor(plan, preserve_mode=preserve_mode)
            reader = TarReader()
            try:
                async for chunk in archive:
                    extractor.feed(reader.feed(chunk))
                    if reader.finished:
                        break
                reader.close()
                extractor.close()
            except BaseException:
                extractor.abort()
                raise

    # -- images, stats, processes ------------------------------------------

    async def commit(
        self,
        repository: str | None = None,
        tag: str | None = None,
        *,
        message: str | None = None,
        author: str | None = None,
        changes: str | Sequence[str] | None = None,
        pause: bool = True,
    ) -> AsyncImage:
        """Make an image of the container's filesystem (``docker commit``).

        Args:
            repository: The image's repository (None: an untagged image).
            tag: Its tag (``latest`` when a repository is given without one).
            message: The commit message.
            author: The author.
            changes: Dockerfile instructions to apply (``"CMD ..."``, ``"ENV A=1"``).
            pause: Pause the container while committing.

        Returns:
            The new :class:`~pydock.Image`.

        Raises:
            ContainerNotFound: The container does not exist.
        """
        change_list = [changes] if isinstance(changes, str) else list(changes or [])
        params: dict[str, Any] = {
            "container": self.id,
            "repo": repository,
            "tag": tag if tag is not None or repository is None else "latest",
            "comment": message,
            "author": author,
            "pause": pause,
        }
        if change_list:
            params["changes"] = change_list
        created = await self._client.json(
            "POST",
            "/commit",
            params=params,
            json={},  # Podman's compat endpoint insists on a body
            resource="container",
            idempotent=False,
        )
        return await AsyncImages(self._client).get(created_id(created))

    async def stats(self) -> ContainerStats:
        """One resource-usage sample (takes about a second: CPU use needs two readings).

        Raises:
            ContainerNotFound: The container does not exist.
        """
        payload = await self._client.json(
            "GET", self._path("/stats"), params={"stream": False}, resource="container"
        )
        return ContainerStats.from_api(payload)

    def stream_stats(self) -> AsyncStatsStream:
        """Resource-usage samples, one a second, until closed."""
        return AsyncStatsStream(self._client, self._path("/stats"), {"stream": True})

    async def top(self, ps_args: str | None = None) -> TopResult:
        """The container's processes (``docker top``).

        Raises:
            ContainerNotFound: The container does not exist.
            Conflict: It is not running.
        """
        payload = await self._client.json(
            "GET", self._path("/top"), params={"ps_args": ps_args}, resource="container"
        )
        return TopResult.from_api(payload)

    async def diff(self) -> builtins.list[ContainerChange]:
        """What changed in the container's filesystem since it was created (``docker diff``).

        Raises:
            ContainerNotFound: The container does not exist.
        """
        payload = await self._client.json("GET", self._path("/changes"), resource="container")
        return changes_from_api(payload)

    async def resize(self, height: int, width: int) -> None:
        """Resize the container's TTY.

        Raises:
            ContainerNotFound: The container does not exist.
        """
        await self._client.request(
            "POST", self._path("/resize"), params={"h": height, "w": width}, resource="container"
        )


def _decode_stat(header: str | None) -> Mapping[str, Any] | None:
    if not header:
        return None
    try:
        value = json.loads(base64.b64decode(header))
    except ValueError:
        return None
    return value if isinstance(value, Mapping) else None


async def _exec_exit_code(client: AsyncEngineSession, exec_id: str, *, wait: float) -> int | None:
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


# --------------------------------------------------------------------------- streams


class _AsyncChunkStream(Generic[T]):
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

    def __aiter__(self) -> _AsyncChunkStream[T]:
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


class AsyncLogStream(_AsyncChunkStream[LogLine]):
    """A container's output, line by line (``async for line in stream``).

    Each item is a :class:`~pydock.LogLine` telling stdout from stderr (with
    a TTY everything is stdout). Close it with ``aclose()`` or ``async with``.
    """

    def __init__(
        self, container: AsyncContainer, params: Mapping[str, Any], *, timestamps: bool
    ) -> None:
        super().__init__(container._client)
        self._container = container
        self._params = params
        self._lines = LogAssembler(timestamps=timestamps)
        self._frames = frame_decoder(tty=False)

    async def _open(self) -> httpx.Response:
        tty = await self._container._is_tty()
        self._frames = frame_decoder(tty=tty)
        return await self._client.request(
            "GET",
            self._container._path("/logs"),
            params=self._params,
            resource="container",
            stream=True,
        )

    def _decode(self, chunk: bytes) -> builtins.list[LogLine]:
        return self._lines.feed(self._frames.feed(chunk))

    def _flush(self) -> builtins.list[LogLine]:
        frames: builtins.list[Frame] = self._frames.flush()
        return self._lines.feed(frames) + self._lines.flush()


class _AsyncJsonStream(_AsyncChunkStream[T]):
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


class AsyncArchiveStream(_AsyncChunkStream[bytes]):
    """A tar stream of a path in a container: ``async for chunk in stream``.

    ``stat`` holds what the engine says about the path (``name``, ``size``,
    ``mode``, ``mtime``, ``linkTarget``) once the stream is open.
    """

    def __init__(self, container: AsyncContainer, path: str) -> None:
        super().__init__(container._client)
        self._container = container
        self.path = path
        self.stat: Mapping[str, Any] | None = None

    async def _open(self) -> httpx.Response:
        response = await self._client.request(
            "GET",
            self._container._path("/archive"),
            params={"path": await self._container._archive_path(self.path)},
            headers={"Accept-Encoding": "identity"},
            resource="container",
            stream=True,
        )
        self.stat = _decode_stat(response.headers.get(_STAT_HEADER))
        return response

    def _decode(self, chunk: bytes) -> builtins.list[bytes]:
        return [chunk]


# --------------------------------------------------------------------------- exec session


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
        container: AsyncContainer,
        cmd: str | Sequence[str],
        *,
        tty: bool,
        user: str | None,
        workdir: str | None,
        environment: Mapping[str, Any] | Sequence[str] | None,
    ) -> None:
        self._container = container
        self._client = container._client
        self._cmd = cmd
        self.tty = tty
        self._user = user
        self._workdir = workdir
        self._environment = environment
        self.id: str | None = None
        self._stream: AsyncRawStream | None = None
        self._mark = _exec_mark()
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
        self.id = await self._container._create_exec(
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
            self.exit_code = await _exec_exit_code(self._client, self.id, wait=10.0)
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
        with _cleanup_scope():
            try:
                if self.exit_code is None and self.id is not None:
                    code = await self._container._end_exec(self.id, self._mark, stream, self._user)
                    if code is not None:
                        self.exit_code = code
            finally:
                await stream.aclose()

    async def __aenter__(self) -> AsyncExecSession:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()


# --------------------------------------------------------------------------- collection


class AsyncContainers:
    """The engine's containers (``client.containers``)."""

    def __init__(self, client: AsyncEngineSession) -> None:
        self._client = client

    async def _pull(self, image: str) -> None:
        await AsyncImages(self._client).pull(image)

    async def _create_raw(
        self,
        image: str,
        command: str | Sequence[str] | None,
        *,
        pull: PullPolicy,
        auto_remove: bool,
        attach: bool,
        options: Mapping[str, Any],
    ) -> str:
        if pull not in ("missing", "always", "never"):
            raise ValueError(f"pull must be 'missing', 'always' or 'never', not {pull!r}")
        check_image_argument(image)
        opts = dict(options)
        name = opts.pop("name", None)
        body = build_create_body(image, command, auto_remove=auto_remove, attach=attach, **opts)
        if pull == "always":
            await self._pull(image)
        params = {"name": name}
        try:
            created = await self._client.json(
                "POST", "/containers/create", params=params, json=body, resource="image"
            )
        except ImageNotFound:
            if pull != "missing":
                raise
            await self._pull(image)
            created = await self._client.json(
                "POST", "/containers/create", params=params, json=body, resource="image"
            )
        return created_id(created)

    async def create(
        self,
        image: str,
        command: str | Sequence[str] | None = None,
        *,
        pull: PullPolicy = "missing",
        auto_remove: bool = False,
        **options: Unpack[CreateOptions],
    ) -> AsyncContainer:
        """Create a container without starting it (``docker create``).

        Takes the settings of :meth:`run`.

        Raises:
            ImageNotFound: The image is missing and ``pull="never"``.
            Conflict: The name is taken.
            ValueError: A setting is malformed.
        """
        cid = await self._create_raw(
            image, command, pull=pull, auto_remove=auto_remove, attach=False, options=options
        )
        return await self.get(cid)

    @overload
    async def run(
        self,
        image: str,
        command: str | Sequence[str] | None = None,
        *,
        detach: Literal[True],
        remove: bool = False,
        check: bool = True,
        pull: PullPolicy = "missing",
        **options: Unpack[CreateOptions],
    ) -> AsyncContainer: ...

    @overload
    async def run(
        self,
        image: str,
        command: str | Sequence[str] | None = None,
        *,
        detach: Literal[False] = False,
        remove: bool = False,
        check: bool = True,
        pull: PullPolicy = "missing",
        **options: Unpack[CreateOptions],
    ) -> RunResult: ...

    async def run(
        self,
        image: str,
        command: str | Sequence[str] | None = None,
        *,
        detach: bool = False,
        remove: bool = False,
        check: bool = True,
        pull: PullPolicy = "missing",
        **options: Unpack[CreateOptions],
    ) -> AsyncContainer | RunResult:
        """Run a container (``docker run``).

        Args:
            image: The image; pulled first when missing (see ``pull``).
            command: The command (a list, or a string split like a shell would).
            detach: Return the started :class:`Container` at once instead of
                waiting for the container to exit.
            remove: Remove the container once it exits (``--rm``; with
                ``detach`` the engine does it).
            check: When not detached, raise :class:`~pydock.errors.ContainerError`
                on a non-zero exit.
            pull: ``"missing"`` (pull if absent), ``"always"``, or ``"never"``.
            **options: Container settings: ``name``, ``restart``
                (:class:`~pydock.RestartPolicy` or ``"on-failure:3"``), ``ports``
                (``{"80/tcp": 8080}``, ``{"80/tcp": ("127.0.0.1", 8080)}``,
                ``{"80/tcp": None}`` for any free port), ``environment``,
                ``volumes`` (``["/host:/ctr:ro", "named:/data"]`` or
                ``{"/host": {"bind": "/ctr", "mode": "ro"}}``), ``user``,
                ``workdir``, ``entrypoint``, ``tty``, ``stdin_open``, ``labels``,
                ``hostname``, ``network_mode``, ``mem_limit`` (``"64m"``),
                ``nano_cpus``/``cpus``, ``healthcheck`` (:class:`~pydock.Healthcheck`),
                ``privileged``, ``cap_add``, ``extra_hosts``.

        Returns:
            The :class:`Container` when detached, else a :class:`~pydock.RunResult`.

        Raises:
            ContainerError: Not detached, ``check`` true, and a non-zero exit.
            ImageNotFound: The image is missing and cannot be pulled.
            ValueError: A setting is malformed.
        """
        if detach:
            cid = await self._create_raw(
                image, command, pull=pull, auto_remove=remove, attach=False, options=options
            )
            try:
                await self._client.request("POST", f"/containers/{cid}/start", resource="container")
            except BaseException:
                await _remove_quietly(self._client, cid)
                raise
            try:
                return await self.get(cid)
            except ContainerNotFound:  # removed on exit already
                return _gone(self._client, cid, options.get("name"), image)
        cid = await self._create_raw(
            image, command, pull=pull, auto_remove=False, attach=True, options=options
        )
        container = _gone(self._client, cid, options.get("name"), image)
        try:
            await container.start()
            exit_code = await container.wait()
            tty = bool(options.get("tty"))
            response = await self._client.request(
                "GET",
                f"/containers/{cid}/logs",
                params={"stdout": True, "stderr": True},
                resource="container",
            )
            decoder = frame_decoder(tty=tty)
            frames = decoder.feed(response.content) + decoder.flush()
        finally:
            if remove:
                await _remove_quietly(self._client, cid)
        stdout = b"".join(f.data for f in frames if f.stream == STDOUT)
        stderr = b"".join(f.data for f in frames if f.stream == STDERR)
        if check and exit_code != 0:
            name = options.get("name") or cid[:12]
            tail = stderr[-500:].decode("utf-8", "replace").strip()
            raise ContainerError(
                f"container {name} ({image}) exited with code {exit_code}"
                + (f": {tail}" if tail else ""),
                exit_code=exit_code,
                stderr=stderr,
                command=command,
                image=image,
            )
        return RunResult(exit_code, stdout, stderr)

    async def get(self, name_or_id: str) -> AsyncContainer:
        """One container, by name (``web`` or Docker's ``/web``) or (partial) id.

        A name no container can have (``x/``, ``../x``, ``x?y=1``) is not
        found, on both engines, without asking the engine.

        Raises:
            ContainerNotFound: There is no such container.
            ProtocolError: The engine's answer is not a container.
        """
        path = container_path(name_or_id, "/json")
        if path is None:
            raise ContainerNotFound(
                f"no such container: {name_or_id!r} is not a container name or id",
                status_code=404,
                method="GET",
                path="/containers/{name}/json",
            )
        payload = await self._client.json("GET", path, resource="container")
        return AsyncContainer.from_api(self._client, payload)

    async def exists(self, name_or_id: str) -> bool:
        """Whether a container exists: False exactly when :meth:`get` raises ``ContainerNotFound``.

        Raises:
            PydockError: Any other error :meth:`get` raises.
        """
        try:
            await self.get(name_or_id)
        except ContainerNotFound:
            return False
        return True

    async def list(
        self,
        *,
        all: bool = False,
        filters: Mapping[str, Any] | None = None,
        limit: int | None = None,
    ) -> builtins.list[AsyncContainer]:
        """Containers, newest first (``docker ps``).

        Args:
            all: Include stopped containers (by default only running ones).
            filters: ``status`` (``"exited"``...), ``label`` (``"app=web"``, a
                list, or a mapping), ``name``, ``ancestor``, ``id``, ``before``,
                ``since``, ``network``, ``volume``, ``health``...
            limit: At most this many.
        """
        await self._client.connect()
        if filters and filters.get("ancestor") and self._client.dialect.backend == "podman":
            filters = {**filters, "ancestor": await self._image_ids(filters["ancestor"])}
        payload = await self._client.json(
            "GET",
            "/containers/json",
            params={"all": all, "filters": encode_filters(filters), "limit": limit},
        )
        return [
            AsyncContainer(self._client, **fields) for fields in container_list_entries(payload)
        ]

    async def _image_ids(self, names: str | Sequence[str]) -> builtins.list[str]:
        """Podman's ancestor filter only matches full ids or fully qualified names: resolve."""
        out = []
        for name in [names] if isinstance(names, str) else names:
            try:
                image = await self._client.json(
                    "GET", f"/images/{quote_path(name, safe='/:@')}/json", resource="image"
                )
            except ImageNotFound:
                out.append(name)
                continue
            out.append((get_str(object_(image), "Id") or name).removeprefix("sha256:"))
        return out

    async def prune(self, *, filters: Mapping[str, Any] | None = None) -> PruneReport:
        """Remove every stopped container (``docker container prune``).

        Args:
            filters: ``until`` (a time) and ``label`` filters.
        """
        self._client.dialect.require("containers.prune")
        payload = await self._client.json(
            "POST",
            "/containers/prune",
            params={"filters": encode_filters(filters)},
            idempotent=False,
            timeout=_timeout(300),
        )
        return PruneReport.from_api(payload)

    def events(
        self,
        *,
        filters: Mapping[str, Any] | None = None,
        since: datetime | float | str | None = None,
        until: datetime | float | str | None = None,
        all_types: bool = False,
    ) -> AsyncEventStream:
        """Engine events as a stream of :class:`~pydock.ContainerEvent` (``docker events``).

        Only container events unless ``all_types`` (or a ``type`` filter). The
        stream is open-ended unless ``until`` is given; close it with ``aclose()``.

        Args:
            filters: ``container``, ``event`` (``"start"``, ``"die"``...),
                ``label``, ``image``, ``type``...
            since: Replay events from this time.
            until: Stop at this time.
            all_types: Do not limit the stream to container events.
        """
        merged: dict[str, Any] = dict(filters or {})
        if not all_types:
            merged.setdefault("type", ["container"])
        params = {"since": docker_since(since), "until": docker_since(until)}
        return AsyncEventStream(self._client, "/events", params, merged)


def _gone(client: AsyncEngineSession, cid: str, name: str | None, image: str) -> AsyncContainer:
    """A minimal snapshot for a container known only by id (removed, or not inspected)."""
    return AsyncContainer(
        client,
        id=cid,
        name=name or "",
        image=image,
        image_id="",
        status="removed",
        ports={},
        labels={},
        created=None,
        restart_count=None,
        restart_policy=None,
        tty=None,
        state=None,
        attrs={"Id": cid},
    )


async def _remove_quietly(client: AsyncEngineSession, cid: str) -> None:
    with contextlib.suppress(PydockError):
        await client.request(
            "DELETE", f"/containers/{cid}", params={"force": True}, resource="container"
        )
