"""One container: the ``AsyncContainer`` snapshot and the methods that act on it."""

from __future__ import annotations

import builtins
import os
import posixpath
import stat
from collections.abc import (
    AsyncIterable,
    AsyncIterator,
    Iterable,
    Mapping,
    Sequence,
)
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

import attrs

from pydock._async._bodies import stream_chunks
from pydock._async._container_ref import STAT_HEADER, ContainerRef, decode_stat, request_timeout
from pydock._async._container_streams import AsyncArchiveStream, AsyncLogStream, AsyncStatsStream
from pydock._async._exec import (
    AsyncExecSession,
    cleanup_scope,
    create_exec,
    end_exec,
    exec_exit_code,
    exec_mark,
)
from pydock._async._images import AsyncImage, AsyncImages
from pydock._async._session import AsyncEngineSession
from pydock._core.archive import (
    CopyExtractor,
    TarReader,
    iter_tar,
    local_source,
    plan_copy_from,
    plan_copy_to,
    stat_is_link,
)
from pydock._core.containers import (
    ContainerChange,
    ContainerState,
    ContainerStats,
    ExecResult,
    PortBinding,
    RestartPolicy,
    TopResult,
    changes_from_api,
    check_seconds,
    check_signal,
    check_wait_condition,
    container_fields_from_inspect,
    container_fields_from_list,
    created_id,
    docker_since,
    normalize_port,
    wait_status,
)
from pydock._core.dialect import quote_path
from pydock._core.streams import STDERR, STDOUT, frame_decoder
from pydock.errors import (
    ContainerNotFound,
    NotFound,
    PydockError,
    Timeout,
)

if TYPE_CHECKING:
    from pydock._async._upgrade import AsyncRawStream


__all__ = ["AsyncContainer", "PullPolicy"]

PullPolicy = Literal["missing", "always", "never"]


async def _aiter_any(data: AsyncIterable[bytes] | Iterable[bytes]) -> AsyncIterator[bytes]:
    if isinstance(data, AsyncIterable):  # unasync: remove
        async for chunk in data:  # unasync: remove
            yield chunk  # unasync: remove
        return  # unasync: remove
    chunks = iter(data)
    while (piece := next(chunks, None)) is not None:
        yield piece


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

    @property
    def _ref(self) -> ContainerRef:
        return ContainerRef(self._client, self.id, self.tty)

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
            timeout=request_timeout((grace if grace is not None else 10) + 60),
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
                timeout=request_timeout(timeout),
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
        tty = await self._ref.is_tty()
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
        return AsyncLogStream(self._ref, params, timestamps=timestamps)

    # -- exec ----------------------------------------------------------------

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
        mark = exec_mark()
        exec_id = await create_exec(
            self._ref,
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
            with cleanup_scope():
                await end_exec(self._ref, exec_id, mark, stream, user)
            raise
        finally:
            if stream is not None:
                with cleanup_scope():
                    await stream.aclose()
        code = await exec_exit_code(self._client, exec_id, wait=10.0)
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
            self._ref, cmd, tty=tty, user=user, workdir=workdir, environment=environment
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
                params={"path": await self._ref.archive_path(path)},
                resource="container",
            )
        except ContainerNotFound:
            await self.reload()  # raises if the container itself is missing
            return None
        except NotFound:
            return None
        return decode_stat(response.headers.get(STAT_HEADER))

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
            params={"path": await self._ref.archive_path(path)},
            content=content,
            headers={"Content-Type": "application/x-tar"},
            resource="container",
            idempotent=False,
            timeout=request_timeout(None),
        )

    def get_archive(self, path: str) -> AsyncArchiveStream:
        """A path of the container as a tar stream (``async with``, then ``async for`` chunks).

        Raises:
            ContainerNotFound: The container or the path does not exist (on entry).
        """
        return AsyncArchiveStream(self._ref, path)

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
