"""Containers on Docker and Podman: ``client.containers``.

Both engines are driven through the Docker-dialect endpoints (Podman's
Docker-compatible layer takes the same create body and answers in the same
shapes), so a container behaves the same on either. The container model,
its streams and exec sessions live in modules of their own and are
re-exported here.
"""

from __future__ import annotations

import builtins
import contextlib
from collections.abc import (
    Mapping,
    Sequence,
)
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal, overload

from pydock._async._container import AsyncContainer, PullPolicy
from pydock._async._container_ref import request_timeout
from pydock._async._container_streams import (
    AsyncArchiveStream,
    AsyncEventStream,
    AsyncLogStream,
    AsyncStatsStream,
)
from pydock._async._exec import AsyncExecSession
from pydock._async._images import AsyncImages
from pydock._async._session import AsyncEngineSession
from pydock._core.containers import (
    CreateOptions,
    PruneReport,
    RunResult,
    build_create_body,
    check_image_argument,
    container_list_entries,
    container_path,
    created_id,
    docker_since,
    encode_filters,
)
from pydock._core.dialect import quote_path
from pydock._core.shapes import get_str, object_
from pydock._core.streams import STDERR, STDOUT, frame_decoder
from pydock.errors import (
    ContainerError,
    ContainerNotFound,
    ImageNotFound,
    PydockError,
)

if TYPE_CHECKING:
    from typing_extensions import Unpack


__all__ = [
    "AsyncArchiveStream",
    "AsyncContainer",
    "AsyncContainers",
    "AsyncEventStream",
    "AsyncExecSession",
    "AsyncLogStream",
    "AsyncStatsStream",
]


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
            timeout=request_timeout(300),
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
