"""Images on Docker and Podman: ``client.images`` and the ``AsyncImage`` model.

The decisions (which endpoint, which parameters, how to read each engine's
answer) are made in :mod:`pydock._core.images`; this module sends the
requests and streams the bodies.
"""

from __future__ import annotations

import builtins
import contextlib
import os
import re
import tempfile
from collections.abc import AsyncGenerator, Callable, Mapping, Sequence
from typing import IO, Any, TypeVar

import attrs

from pydock._async._bodies import (
    ResponseBody,
    StrPath,
    file_chunks,
    open_source,
    progress_events,
)
from pydock._async._credentials import credentials_for
from pydock._async._operation import AsyncOperation, Done
from pydock._async._session import AsyncEngineSession, body_json
from pydock._core.auth import RegistryAuth, encode_x_registry_auth
from pydock._core.dialect import Backend
from pydock._core.errmap import is_auth_failure
from pydock._core.images import (
    HistoryEntry,
    ImageBase,
    ImagePruneReport,
    ImageRemoveReport,
    Platform,
    PullDecoder,
    PullProgress,
    PushDecoder,
    PushProgress,
    SearchResult,
    filter_by_reference,
    history_from_api,
    image_fields,
    image_path,
    import_id_from_docker,
    import_params,
    list_request,
    load_names_from_docker,
    normalize_id,
    normalize_names,
    progress_error,
    prune_params,
    prune_report_from_api,
    pull_params,
    push_request,
    remove_report_from_api,
    resolve_tls_verify,
    search_domain,
    search_results_from_api,
    tag_params,
)
from pydock._core.reference import ImageReference
from pydock._core.shapes import get_str, get_str_list, list_, object_
from pydock._core.streams import JsonLinesDecoder
from pydock.errors import (
    APIError,
    ImageNotFound,
    InvalidReference,
    PullError,
    PullUnauthorized,
    PydockError,
    ServerError,
    StreamError,
)

__all__ = ["AsyncImage", "AsyncImages", "parse_platform"]

EventT = TypeVar("EventT")


_ID_PREFIX = re.compile(r"(sha256:)?[0-9a-f]{1,64}")

#: Credentials as ``pull``/``push`` take them.
AuthLike = RegistryAuth | Mapping[str, Any] | tuple[str, str] | None


@attrs.frozen
class AsyncImage(ImageBase):
    """An image: a snapshot of what the engine said, plus calls on it.

    The fields are those of :class:`~pydock._core.images.ImageBase`; the
    snapshot never changes: :meth:`reload` returns a fresh one.
    """

    _client: AsyncEngineSession = attrs.field(eq=False, repr=False, kw_only=True, alias="client")

    @classmethod
    def from_api(cls, payload: Mapping[str, Any], client: AsyncEngineSession) -> AsyncImage:
        """Build from an inspect answer (``/images/{name}/json``)."""
        return cls(**image_fields(payload, client.dialect.backend or "docker"), client=client)

    async def reload(self) -> AsyncImage:
        """Inspect the image again.

        Returns:
            A new snapshot.

        Raises:
            ImageNotFound: The image is gone.
        """
        return await AsyncImages(self._client).get(self.id)

    async def tag(self, ref: str) -> None:
        """Give the image another name (``docker tag``).

        Raises:
            InvalidReference: ``ref`` is not a valid name.
            ImageNotFound: The image is gone.
        """
        await AsyncImages(self._client).tag(self, ref)

    async def remove(
        self, *, force: bool = False, prune_children: bool = True
    ) -> ImageRemoveReport:
        """Remove the image (by ID: every tag goes).

        Raises:
            ImageNotFound: The image is gone.
            Conflict: A container uses it, or it has several tags and not ``force``.
        """
        return await AsyncImages(self._client).remove(
            self, force=force, prune_children=prune_children
        )

    async def history(self) -> list[HistoryEntry]:
        """The image's layers, newest first.

        Raises:
            ImageNotFound: The image is gone.
        """
        return await AsyncImages(self._client).history(self)


def _target(image: str | AsyncImage) -> str:
    """The name or ID to put in a request path, checked before anything is sent.

    Raises:
        InvalidReference: ``image`` is neither an ID (or ID prefix) nor a valid reference.
    """
    if isinstance(image, AsyncImage):
        return image.id
    if not isinstance(image, str) or not image:
        raise InvalidReference(f"invalid image name or ID: {image!r}")
    if not _ID_PREFIX.fullmatch(image):
        ImageReference.parse_any(image)
    return image


def _image_not_known(exc: APIError) -> APIError:
    """Podman answers 400 or 500 ``image not known`` where Docker answers 404."""
    if isinstance(exc, ImageNotFound) or "image not known" not in exc.message:
        return exc
    return ImageNotFound(exc.message, status_code=404, method=exc.method, path=exc.path)


def _parse_ref(ref: str | ImageReference) -> ImageReference:
    return ref if isinstance(ref, ImageReference) else ImageReference.parse(ref)


def parse_platform(platform: str | Platform | None) -> Platform | None:
    """``platform`` as a :class:`Platform` (``"linux/arm64"`` parsed), None as None.

    Raises:
        ValueError: The text is not a platform.
    """
    if platform is None or isinstance(platform, Platform):
        return platform
    return Platform.parse(platform)


class _AtomicFile:
    """A file written under a temporary name in its folder, renamed into place on success."""

    def __init__(self, dest: StrPath) -> None:
        path = os.fspath(dest)
        folder = os.path.dirname(os.path.abspath(path))
        fd, self.temp = tempfile.mkstemp(
            dir=folder, prefix="." + os.path.basename(path) + ".", suffix=".part"
        )
        self.path = path
        self.file: IO[bytes] = os.fdopen(fd, "wb")
        self.written = 0

    def write(self, data: bytes) -> None:
        self.file.write(data)
        self.written += len(data)

    def commit(self) -> None:
        self.file.close()
        os.replace(self.temp, self.path)

    def abort(self) -> None:
        with contextlib.suppress(OSError):
            self.file.close()
        with contextlib.suppress(OSError):
            os.unlink(self.temp)


class AsyncImages:
    """The engine's images (``client.images``)."""

    def __init__(self, client: AsyncEngineSession) -> None:
        self._client = client

    async def _backend(self) -> Backend:
        await self._client.connect()
        backend = self._client.dialect.backend
        assert backend is not None
        return backend

    # -- pull / push -----------------------------------------------------------

    def begin_pull(
        self,
        ref: str | ImageReference,
        *,
        platform: str | Platform | None = None,
        auth: AuthLike = None,
        tls_verify: bool | None = None,
        progress: Callable[[PullProgress], object] | None = None,
    ) -> AsyncOperation[PullProgress, AsyncImage]:
        """Start pulling an image; iterate the operation for :class:`PullProgress` events.

        Args:
            ref: ``name[:tag]`` or ``name@digest``, normalized like the docker CLI
                (``docker/whalesay`` is ``docker.io/docker/whalesay:latest``).
            platform: ``os/arch[/variant]``.
            auth: Registry credentials (``RegistryAuth``, a dict, or ``(user, password)``);
                by default those in the docker CLI's ``config.json``, if any.
            tls_verify: None verifies TLS except for loopback registries, on
                both engines (Docker's rule).
            progress: Called with every event.

        Raises:
            InvalidReference: ``ref`` is not valid (raised here, before any request).
            ValueError: ``platform`` is not ``os/arch[/variant]``.
        """
        parsed = _parse_ref(ref)
        plat = parse_platform(platform)
        creds = RegistryAuth.coerce(auth)
        return AsyncOperation(self._pull_steps(parsed, plat, creds, tls_verify), progress)

    async def _pull_steps(
        self,
        ref: ImageReference,
        platform: Platform | None,
        auth: RegistryAuth | None,
        tls_verify: bool | None,
    ) -> AsyncGenerator[PullProgress | Done[AsyncImage], None]:
        client = self._client
        backend = await self._backend()
        verify = resolve_tls_verify(ref.domain, tls_verify, backend)
        if platform is not None:
            client.dialect.require("platform")
        params = pull_params(ref, backend=backend, platform=platform, tls_verify=verify)
        auth = await credentials_for(auth, ref.domain, client.logins)
        headers = {"X-Registry-Auth": encode_x_registry_auth(auth)}
        decoder = PullDecoder(backend, ref.familiar)
        try:
            async with client.stream(
                "POST",
                "/images/create",
                "/images/pull",
                params=params,
                headers=headers,
                resource="image",
            ) as response:
                async for event in progress_events(response, decoder):
                    yield event
        except ServerError as exc:
            # Docker answers 500 for most registry failures: a failed pull all the same.
            cls = PullUnauthorized if is_auth_failure(exc.message) else PullError
            raise cls(exc.message, method=exc.method, path=exc.path) from exc
        target = decoder.image_id or str(ref.docker_ref)
        yield Done(await self.get(target))

    async def pull(
        self,
        ref: str | ImageReference,
        *,
        platform: str | Platform | None = None,
        auth: AuthLike = None,
        tls_verify: bool | None = None,
        progress: Callable[[PullProgress], object] | None = None,
    ) -> AsyncImage:
        """Pull an image from its registry (``docker pull``).

        See :meth:`begin_pull` for the arguments.

        Returns:
            The pulled image.

        Raises:
            InvalidReference: ``ref`` is not valid (before any request).
            ImageNotFound: The registry has no such repository, tag or digest.
            PullError: The pull failed (the engine's message says why).
            PullUnauthorized: The registry refused the credentials (a
                ``PullError`` and an ``Unauthorized``, on both engines).
            UnsupportedFeature: On Docker, ``tls_verify`` contradicts the daemon.
        """
        async with self.begin_pull(
            ref, platform=platform, auth=auth, tls_verify=tls_verify, progress=progress
        ) as operation:
            return await operation.result()

    def begin_push(
        self,
        ref: str | ImageReference,
        *,
        auth: AuthLike = None,
        tls_verify: bool | None = None,
        progress: Callable[[PushProgress], object] | None = None,
    ) -> AsyncOperation[PushProgress, str | None]:
        """Start pushing an image; iterate the operation for :class:`PushProgress` events.

        The operation's result is the pushed manifest's digest.

        Raises:
            InvalidReference: ``ref`` is not valid, or names a digest (before any request).
        """
        parsed = _parse_ref(ref)
        if parsed.digest is not None:
            raise InvalidReference(f"cannot push {parsed.familiar!r}: push a tag, not a digest")
        creds = RegistryAuth.coerce(auth)
        return AsyncOperation(self._push_steps(parsed, creds, tls_verify), progress)

    async def _push_steps(
        self, ref: ImageReference, auth: RegistryAuth | None, tls_verify: bool | None
    ) -> AsyncGenerator[PushProgress | Done[str | None], None]:
        client = self._client
        backend = await self._backend()
        verify = resolve_tls_verify(ref.domain, tls_verify, backend)
        path, params = push_request(ref, backend=backend, tls_verify=verify)
        auth = await credentials_for(auth, ref.domain, client.logins)
        headers = {"X-Registry-Auth": encode_x_registry_auth(auth)}
        decoder = PushDecoder()
        try:
            async with client.stream(
                "POST", path, params=params, headers=headers, resource="image"
            ) as response:
                async for event in progress_events(response, decoder):
                    yield event
        except APIError as exc:
            raise _image_not_known(exc) from exc
        yield Done(decoder.digest)

    async def push(
        self,
        ref: str | ImageReference,
        *,
        auth: AuthLike = None,
        tls_verify: bool | None = None,
        progress: Callable[[PushProgress], object] | None = None,
    ) -> str | None:
        """Push an image to its registry (``docker push``); no tag means ``latest``.

        Returns:
            The digest of the pushed manifest, when the engine reports it (both do).

        Raises:
            InvalidReference: ``ref`` is not valid or names a digest (before any request).
            ImageNotFound: No local image has that name.
            PushError: The push failed (the engine's message says why).
            PushUnauthorized: The registry refused the credentials, e.g. ``no
                basic auth credentials`` (a ``PushError`` and an ``Unauthorized``).
            UnsupportedFeature: On Docker, ``tls_verify`` contradicts the daemon.
        """
        async with self.begin_push(
            ref, auth=auth, tls_verify=tls_verify, progress=progress
        ) as operation:
            return await operation.result()

    # -- local images ----------------------------------------------------------

    async def get(self, name_or_id: str) -> AsyncImage:
        """Inspect one image.

        Raises:
            InvalidReference: ``name_or_id`` is neither a name nor an ID (before any request).
            ImageNotFound: No such image.
        """
        target = _target(name_or_id)
        payload = await self._client.json("GET", image_path(target, "/json"), resource="image")
        return AsyncImage.from_api(payload, self._client)

    async def exists(self, name_or_id: str) -> bool:
        """Whether the engine has this image.

        Raises:
            InvalidReference: ``name_or_id`` is neither a name nor an ID (before any request).
        """
        try:
            await self.get(name_or_id)
        except ImageNotFound:
            return False
        return True

    async def list(
        self, *, all: bool = False, filters: Mapping[str, object] | None = None
    ) -> list[AsyncImage]:
        """The engine's images (``docker images``), each fully inspected.

        Args:
            all: Include intermediate images.
            filters: ``dangling`` (bool), ``label`` (``"k"``, ``"k=v"``, a list
                or a dict), ``reference`` (a pattern such as ``demo/*:1``, matched
                Docker's way on both engines), ``before`` / ``since`` (an image).

        Raises:
            BadRequest: The engine rejected a filter.
        """
        backend = await self._backend()
        params, patterns = list_request(all=all, filters=filters, backend=backend)
        summaries = await self._client.json("GET", "/images/json", params=params)
        images: builtins.list[AsyncImage] = []
        seen: set[str] = set()
        for i, entry in enumerate(list_(summaries) if summaries is not None else []):
            summary = object_(entry, f"[{i}]")
            image_id = normalize_id(get_str(summary, "Id", f"[{i}]"))
            if image_id in seen:
                continue
            seen.add(image_id)
            if patterns:
                names = [
                    *normalize_names(get_str_list(summary, "RepoTags", f"[{i}]"), backend),
                    *normalize_names(get_str_list(summary, "RepoDigests", f"[{i}]"), backend),
                ]
                if not filter_by_reference(names, patterns):
                    continue
            try:
                images.append(await self.get(image_id))
            except ImageNotFound:
                continue  # removed meanwhile
        return images

    async def tag(self, image: str | AsyncImage, ref: str) -> None:
        """Give an image another name (``docker tag``); no tag means ``latest``.

        Raises:
            InvalidReference: ``ref`` is not a valid name, or has a digest (before any request).
            ImageNotFound: No such image.
        """
        target = _target(image)
        params = tag_params(ref)
        await self._client.request(
            "POST", image_path(target, "/tag"), params=params, resource="image"
        )

    async def remove(
        self, image: str | AsyncImage, *, force: bool = False, prune_children: bool = True
    ) -> ImageRemoveReport:
        """Remove an image or one of its names (``docker rmi``).

        Args:
            image: A name (removes that name; the image goes with its last
                name), an ID, or an :class:`AsyncImage` (by ID).
            force: Remove even if several names point at it or a stopped
                container uses it.
            prune_children: Also delete untagged parent images.

        Raises:
            ImageNotFound: No such image.
            Conflict: The image is in use, or has several names and not ``force``.
        """
        target = _target(image)
        payload = await self._client.json(
            "DELETE",
            image_path(target),
            params={"force": force, "noprune": not prune_children},
            resource="image",
        )
        return remove_report_from_api(payload, await self._backend())

    async def prune(
        self, *, dangling: bool = True, filters: Mapping[str, object] | None = None
    ) -> ImagePruneReport:
        """Remove unused images (``docker image prune``).

        Args:
            dangling: Only images without a name (True), or every image no
                container uses (False, like ``docker image prune -a``).
            filters: ``label`` (``"k=v"``, ``"label!=..."``), ``until`` (a time).

        Raises:
            BadRequest: The engine rejected a filter.
        """
        backend = await self._backend()
        payload = await self._client.json(
            "POST",
            "/images/prune",
            "/images/prune",
            params=prune_params(dangling=dangling, filters=filters, backend=backend),
        )
        return prune_report_from_api(payload, backend)

    async def history(self, image: str | AsyncImage) -> builtins.list[HistoryEntry]:
        """An image's layers, newest first (``docker history``).

        Raises:
            ImageNotFound: No such image.
        """
        target = _target(image)
        payload = await self._client.json("GET", image_path(target, "/history"), resource="image")
        backend = await self._backend()
        known: dict[str, tuple[str, ...]] = {}
        if backend == "podman":
            # Podman leaves out the tags: take them from the image itself.
            snapshot = image if isinstance(image, AsyncImage) else await self.get(target)
            known[snapshot.id] = snapshot.tags
        return history_from_api(payload, backend, known)

    async def search(
        self, term: str, *, limit: int = 25, tls_verify: bool | None = None
    ) -> builtins.list[SearchResult]:
        """Search a registry through the engine (``docker search``).

        ``term`` may name the registry: ``127.0.0.1:5000/word``. Docker asks the
        registry's v1 search API; Podman also lists a v2 registry's catalog.

        Raises:
            UnsupportedFeature: On Docker, ``tls_verify`` contradicts the daemon.
            ServerError: The engine could not reach the index.
        """
        backend = await self._backend()
        params: dict[str, Any] = {"term": term, "limit": limit}
        domain = search_domain(term)
        if domain is not None:
            verify = resolve_tls_verify(domain, tls_verify, backend)
            if backend == "podman":
                params["tlsVerify"] = verify
        payload = await self._client.json("GET", "/images/search", "/images/search", params=params)
        return search_results_from_api(payload)

    # -- archives ---------------------------------------------------------------

    async def save(
        self,
        images: str | AsyncImage | Sequence[str | AsyncImage],
        dest: StrPath | IO[bytes],
    ) -> int:
        """Write images (with their names) to a tar archive (``docker save``).

        The archive is streamed to ``dest`` in chunks. A path is written under
        a temporary name in the same folder and renamed when complete, so a
        failure leaves nothing behind.

        Args:
            images: Names, IDs or images. An :class:`AsyncImage` is saved
                with all its names.
            dest: A file path, or a binary file open for writing.

        Returns:
            The number of bytes written.

        Raises:
            ImageNotFound: An image does not exist.
        """
        items: Sequence[str | AsyncImage]
        items = [images] if isinstance(images, (str, AsyncImage)) else images
        names: builtins.list[str] = []
        for item in items:
            if isinstance(item, AsyncImage):
                names.extend(item.engine_names or (item.id,))
            else:
                names.append(_target(item))
        if not names:
            raise ValueError("save needs at least one image")
        writer: _AtomicFile | None = None
        write: Callable[[bytes], object]
        if isinstance(dest, (str, os.PathLike)):
            writer = _AtomicFile(dest)
            write = writer.write
        else:
            write = dest.write
        written = 0
        try:
            async with self._client.stream(
                "GET", "/images/get", params={"names": names}, resource="image"
            ) as response:
                body = ResponseBody(response)  # no re-chunking: write what arrives
                try:
                    async for chunk in body:
                        write(chunk)
                        written += len(chunk)
                finally:
                    await body.aclose()
        except APIError as exc:
            if writer is not None:
                writer.abort()
            raise _image_not_known(exc) from exc
        except BaseException:
            if writer is not None:
                writer.abort()
            raise
        if writer is not None:
            writer.commit()
        return written

    async def load(self, source: StrPath | IO[bytes]) -> builtins.list[AsyncImage]:
        """Load images from a tar archive made by ``save`` (``docker load``).

        The file is streamed to the engine in chunks.

        Args:
            source: A file path, or a binary file open for reading.

        Returns:
            The loaded images.

        Raises:
            StreamError: The engine could not read the archive.
        """
        backend = await self._backend()
        file, opened = open_source(source)
        try:
            response = await self._client.request(
                "POST",
                "/images/load",
                "/images/load",
                content=file_chunks(file),
                headers={"Content-Type": "application/x-tar"},
                idempotent=False,
            )
        finally:
            if opened:
                file.close()
        names: builtins.list[str] = []
        if backend == "podman":
            names = get_str_list(object_(body_json(response)), "Names")
        else:
            decoder = JsonLinesDecoder()
            for obj in [*decoder.feed(response.content), *decoder.flush()]:
                message = progress_error(obj)
                if message is not None:
                    raise StreamError(message)
                names.extend(load_names_from_docker(get_str(obj, "stream")))
        loaded: builtins.list[AsyncImage] = []
        seen: set[str] = set()
        for name in names:
            image = await self.get(name)
            if image.id not in seen:
                seen.add(image.id)
                loaded.append(image)
        return loaded

    async def import_(
        self,
        source: StrPath | IO[bytes],
        ref: str | None = None,
        *,
        changes: Sequence[str] | None = None,
        message: str | None = None,
        platform: str | Platform | None = None,
    ) -> AsyncImage:
        """Make an image from a root filesystem tar (``docker import``).

        Args:
            source: A tar file path (plain or compressed), or a binary file open for reading.
            ref: The name to give the image (no tag means ``latest``); None leaves it unnamed.
            changes: Dockerfile instructions to apply (``"CMD [\\"sh\\"]"``, ``"LABEL a=b"``).
            message: The commit message.
            platform: ``os/arch[/variant]`` to record.

        Returns:
            The new image.

        Raises:
            InvalidReference: ``ref`` is not valid, or has a digest (before any request).
            StreamError: The engine could not import the archive.
        """
        if ref is not None:
            tag_params(ref)  # check it before anything is sent
        plat = parse_platform(platform)
        backend = await self._backend()
        params = import_params(
            ref, backend=backend, changes=changes, message=message, platform=plat
        )
        file, opened = open_source(source)
        try:
            response = await self._client.request(
                "POST",
                "/images/create",
                "/images/import",
                params=params,
                content=file_chunks(file),
                headers={"Content-Type": "application/x-tar"},
                idempotent=False,
            )
        finally:
            if opened:
                file.close()
        if backend == "podman":
            answer = body_json(response)
            image_id: str | None = normalize_id(
                get_str(object_(answer), "Id") if answer is not None else None
            )
        else:
            decoder = JsonLinesDecoder()
            image_id = import_id_from_docker([*decoder.feed(response.content), *decoder.flush()])
        if not image_id:
            raise PydockError("the engine did not say which image it imported")
        return await self.get(image_id)
