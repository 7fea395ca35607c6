"""The async client for OCI distribution registries (no engine involved).

Decisions (auth flow, media types, platforms, digests, upload URLs, paging)
live in :mod:`pydock._core.registry` and :mod:`pydock._core.credentials`; this
module sends what they decide. The sync twin is generated from it.
"""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import os
import urllib.parse
import uuid
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Sequence
from pathlib import Path
from typing import Any, Generic, TypeVar

import httpx

from pydock import errors
from pydock._async._backend import (
    BackgroundDigest,
    open_file,
    pump_events,
    run_parallel,
    to_thread,
    write_chunks,
)
from pydock._async._credentials import load_credentials, save_credentials
from pydock._async._operation import AsyncOperation, Done
from pydock._async._registry_session import AsyncRegistrySession, RegistryRef, parse_ref
from pydock._core.auth import RegistryAuth
from pydock._core.reference import ImageReference
from pydock._core.registry import (
    MANIFEST_ACCEPT,
    MANIFEST_LIMIT,
    OCI_LAYOUT_FILE,
    REF_NAME_ANNOTATION,
    CopyPhase,
    CopyProgress,
    Descriptor,
    Digester,
    ImageIndex,
    ImageManifest,
    Manifest,
    Platform,
    blob_path,
    chunk_size,
    compute_digest,
    content_range,
    layout_index,
    parse_digest_header,
    parse_manifest,
    parse_range_end,
    referrers_tag,
    repository_scope,
    resolve_location,
    split_digest,
    upload_finish_url,
)

__all__ = ["AsyncPaged", "AsyncRegistry", "load_credentials", "save_credentials"]

log = logging.getLogger("pydock")
http_log = logging.getLogger("pydock.http")

T = TypeVar("T")

#: Bytes read at a time from a blob answer or a file.
READ_SIZE = 1 << 20
_CATALOG_SCOPE = "registry:catalog:*"
_O_BINARY: int = getattr(os, "O_BINARY", 0)
#: A copy reports a blob's progress each time this many more bytes have gone.
_PROGRESS_STEP = 8 << 20


def _blob_target(dest: Path, digest: str) -> Path:
    """The file to download into: ``dest``, or ``dest/<hex>`` when it is a folder."""
    return dest / split_digest(digest)[1] if dest.is_dir() else dest


def _make_dir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path


def _hash_file(path: str) -> tuple[str, int]:
    digester = Digester()
    with open(path, "rb") as f:
        while chunk := f.read(READ_SIZE):
            digester.update(chunk)
    return digester.digest, digester.size


class _VerifiedBody:
    """A blob answer's body as an upload body, hashed (on another core) as it passes.

    The last chunk is held back until the whole blob is verified: when the
    bytes do not match, :class:`~pydock.errors.DigestMismatch` aborts the
    upload before the registry has all of it. A plain iterator (not a
    generator), so that an upload cancelled half-way leaves nothing to
    finalize; :meth:`aclose` stops the hashing thread.
    """

    def __init__(
        self,
        response: httpx.Response,
        expected: str,
        size: int | None,
        report: Callable[[int], None] | None = None,
    ) -> None:
        self._response = response
        self._digester = Digester(expected)
        self._hasher = BackgroundDigest(self._digester.update)
        self._size = size
        self._report = report
        self._next_report = _PROGRESS_STEP
        self._chunks: AsyncIterator[bytes] | None = None
        self._held: bytes | None = None
        self._ended = False
        self.sent = 0

    def __aiter__(self) -> _VerifiedBody:
        return self

    def _hand_on(self, chunk: bytes) -> bytes:
        self.sent += len(chunk)
        if self._report is not None and self.sent >= self._next_report:
            self._next_report = self.sent + _PROGRESS_STEP
            self._report(self.sent)
        return chunk

    async def __anext__(self) -> bytes:
        if self._ended:
            raise StopAsyncIteration
        if self._chunks is None:
            self._chunks = self._response.aiter_bytes()
        async for chunk in self._chunks:
            await self._hasher.feed(chunk)
            held, self._held = self._held, chunk
            if held is not None:
                return self._hand_on(held)
        self._ended = True
        await self._hasher.finish()
        request = self._response.request
        self._digester.verify(what="blob", method=request.method, path=request.url.path)
        if self._size is not None and self._digester.size != self._size:
            raise errors.SizeInvalid(
                f"blob {self._digester.expected} has {self._digester.size} bytes,"
                f" its descriptor says {self._size}",
                status_code=0,
                method=request.method,
                path=request.url.path,
            )
        if self._held is None:
            raise StopAsyncIteration
        held, self._held = self._held, None
        return self._hand_on(held)

    async def aclose(self) -> None:
        """Stop reading: close the source's iterator and the hashing thread."""
        self._ended = True
        close = getattr(self._chunks, "aclose", None)
        if close is not None:
            await close()
        await self._hasher.aclose()


class _FileBody:
    """``length`` bytes of a file from ``offset``, read as an upload body."""

    def __init__(self, path: str, offset: int, length: int) -> None:
        self._path = path
        self._offset = offset
        self._length = length

    async def __aiter__(self) -> AsyncIterator[bytes]:
        remaining = self._length
        async with await open_file(self._path, "rb") as f:
            await f.seek(self._offset)
            while remaining > 0:
                chunk = await f.read(min(READ_SIZE, remaining))
                if not chunk:
                    raise errors.PydockError(f"{self._path} shrank while it was uploaded")
                remaining -= len(chunk)
                yield chunk


# --------------------------------------------------------------------------- paging


class AsyncPaged(Generic[T]):
    """A listing the registry sends page by page (``Link`` headers).

    Iterate it for the items (``async for name in reg.tags(repo)``), or over
    :meth:`by_page` for lists of items. Each iteration starts from the first page.
    """

    def __init__(
        self, registry: AsyncRegistry, path: str, key: str, scopes: tuple[str, ...]
    ) -> None:
        self._registry = registry
        self._path = path
        self._key = key
        self._scopes = scopes

    async def by_page(self) -> AsyncIterator[list[T]]:
        """Yield the items one page at a time.

        Raises:
            RegistryError: The registry refused the listing.
        """
        url: str | None = self._path
        while url is not None:
            items, url = await self._registry._page(url, self._key, self._scopes)
            yield items

    async def __aiter__(self) -> AsyncIterator[T]:
        async for page in self.by_page():
            for item in page:  # noqa: UP028, RUF100 (no yield from in async generators)
                yield item

    async def collect(self) -> list[T]:
        """Every item of every page, in a list."""
        out: list[T] = []
        async for page in self.by_page():
            out.extend(page)
        return out


# --------------------------------------------------------------------------- the client


class AsyncRegistry(AsyncRegistrySession):
    """A client for one OCI distribution registry (``/v2/`` API).

    The constructor does no I/O. On first use the client finds the registry's
    scheme (``https``, and plain ``http`` only for loopback hosts or with
    ``insecure=True``) and its credentials (``auth``, else docker's
    ``config.json``, ``credsStore`` and ``credHelpers``).

    Args:
        host: ``host[:port]`` (or a ``http(s)://`` URL).
        insecure: Allow plain HTTP, and HTTPS without verification, for any host.
        auth: Credentials: a :class:`~pydock.RegistryAuth`, a ``(user, password)``
            pair or a docker-py style dict. ``None`` reads docker's config.
        ca_cert: A CA file to verify the registry with; by default the system's
            CAs plus ``/etc/docker/certs.d/<host>/*.crt``.
        verify: ``False`` skips TLS verification; an ``ssl.SSLContext`` is used as is.
        transport: Any httpx transport (``httpx.MockTransport`` in tests).
        retry: The :class:`~pydock.RetryPolicy` (429 honours ``Retry-After``).
        timeout: Timeouts for each socket operation of a request.
        deadline: Seconds each request may take in all (auth, redirects,
            retries and the answer, when read whole); None for none.
            ``with pydock.deadline(s):`` bounds a block of calls.
        chunk_size: Blobs bigger than this are uploaded in chunks of this size.
        concurrency: How many blobs are transferred at once.
        env: The environment to find docker's config in; ``os.environ`` when ``None``.

    Raises:
        InvalidConfiguration: A nonsense argument (an empty or malformed
            ``host``, ``chunk_size`` or ``concurrency`` below 1, a ``timeout``
            or ``deadline`` of 0 or less, a ``ca_cert`` that cannot be read); the message
            names the parameter. Nothing is sent.
    """

    # -- lifecycle -----------------------------------------------------------

    async def __aenter__(self) -> AsyncRegistry:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close every connection."""
        for other in self._owned:
            await other.aclose()
        self._owned.clear()
        await super().aclose()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self._base or self.host}>"

    # -- basics --------------------------------------------------------------

    async def ping(self) -> bool:
        """Whether the registry answers the ``/v2/`` API (a 401 counts: it is there).

        Raises:
            ConnectError: The registry cannot be reached.
        """
        base = await self._prepare()
        response = await self._send(self._http.build_request("GET", base + "/v2/"), idempotent=True)
        await response.aclose()
        return response.status_code in (200, 401)

    async def login(self, username: str, password: str, *, store: bool = False) -> None:
        """Check credentials against the registry and use them from now on.

        Args:
            username: The user name.
            password: The password or access token.
            store: Also save them like ``docker login`` (credential helper, else
                ``config.json`` with 0600 permissions).

        Raises:
            RegistryUnauthorized: The registry (or its token service) refused them.
        """
        await self._prepare()
        previous = self._auth.credentials
        auth = RegistryAuth(username=username, password=password, serveraddress=self.host)
        self._auth.credentials = auth
        try:
            await self._request("GET", "/v2/")
        except BaseException:
            self._auth.credentials = previous
            raise
        if store:
            await save_credentials(self.host, auth, env=self._env)

    def catalog(self, *, page_size: int | None = None) -> AsyncPaged[str]:
        """The repositories of the registry (``/v2/_catalog``), paged."""
        path = "/v2/_catalog" + (f"?n={page_size}" if page_size else "")
        return AsyncPaged(self, path, "repositories", (_CATALOG_SCOPE,))

    def tags(self, repository: str, *, page_size: int | None = None) -> AsyncPaged[str]:
        """The tags of ``repository``, paged."""
        repo = self._ref(repository).repository
        path = f"/v2/{repo}/tags/list" + (f"?n={page_size}" if page_size else "")
        return AsyncPaged(self, path, "tags", (repository_scope(repo, "pull"),))

    async def search(self, term: str, *, limit: int | None = None) -> list[str]:
        """Repositories whose name contains ``term`` (case-insensitive), from the catalog."""
        needle = term.lower()
        found: list[str] = []
        async for name in self.catalog():
            if needle in name.lower():
                found.append(name)
                if limit is not None and len(found) >= limit:
                    break
        return found

    # -- manifests -----------------------------------------------------------

    async def _fetch_manifest(self, repo: str, target: str) -> Manifest:
        path = f"/v2/{repo}/manifests/{target}"
        response = await self._request(
            "GET",
            path,
            scopes=(repository_scope(repo, "pull"),),
            headers={"Accept": MANIFEST_ACCEPT},
            limit=MANIFEST_LIMIT,
            what="manifest",
        )
        raw = response.content
        said = response.headers.get("docker-content-digest")
        expected = target if target.startswith(("sha256:", "sha512:")) else None
        if expected is None and said and said.startswith(("sha256:", "sha512:")):
            expected = said
        digest = Digester(expected)
        digest.update(raw)
        actual = digest.verify(what="manifest", method="GET", path=path)
        return parse_manifest(raw, response.headers.get("content-type"), actual)

    async def resolve(self, ref: str | ImageReference) -> str:
        """The digest a reference points at (``HEAD`` on the manifest).

        Raises:
            ManifestUnknown: No such manifest.
        """
        r = self._ref(ref)
        response = await self._request(
            "HEAD",
            f"/v2/{r.repository}/manifests/{r.target}",
            scopes=(repository_scope(r.repository, "pull"),),
            headers={"Accept": MANIFEST_ACCEPT},
        )
        said = parse_digest_header(response.headers.get("docker-content-digest"))
        if said:
            return said
        return (await self._fetch_manifest(r.repository, r.target)).digest

    async def manifest(
        self, ref: str | ImageReference, *, platform: str | Platform | None = None
    ) -> Manifest:
        """The manifest a reference points at; with ``platform``, the one for that platform.

        A manifest fetched by digest is checked against it.

        Args:
            ref: ``repo:tag``, ``repo@digest`` (on this registry).
            platform: ``os/arch[/variant]``: pick that platform's manifest from an index.

        Raises:
            ManifestUnknown: No such manifest, or no manifest for ``platform``.
            DigestMismatch: The manifest does not match its digest.
        """
        r = self._ref(ref)
        found = await self._fetch_manifest(r.repository, r.target)
        if platform is not None and isinstance(found, ImageIndex):
            chosen = found.select(platform)
            found = await self._fetch_manifest(r.repository, chosen.digest)
        return found

    async def put_manifest(
        self,
        ref: str | ImageReference,
        manifest: bytes | ImageManifest | ImageIndex,
        *,
        media_type: str | None = None,
    ) -> str:
        """Put a manifest's exact bytes under a tag or digest.

        Args:
            ref: ``repo:tag`` or ``repo@digest``.
            manifest: The bytes, or a manifest model (its ``raw`` bytes are sent).
            media_type: The ``Content-Type``; by default the manifest's media type.

        Returns:
            The manifest's digest.

        Raises:
            DigestMismatch: ``ref`` has a digest the bytes do not match.
            ManifestBlobUnknown, ManifestInvalid: The registry refused it.
        """
        r = self._ref(ref)
        parsed = parse_manifest(manifest) if isinstance(manifest, bytes) else manifest
        raw = parsed.raw
        digest = compute_digest(raw)
        if r.digest is not None:
            check = Digester(r.digest)
            check.update(raw)
            digest = check.verify(what="manifest")
        response = await self._request(
            "PUT",
            f"/v2/{r.repository}/manifests/{r.target}",
            scopes=(repository_scope(r.repository, "pull", "push"),),
            headers={"Content-Type": media_type or parsed.media_type},
            content=raw,
        )
        if parsed.subject is not None and "oci-subject" not in response.headers:
            await self._add_referrer_fallback(r.repository, parsed.subject.digest, parsed, digest)
        return digest

    async def delete(self, ref: str | ImageReference) -> None:
        """Delete a manifest (a tag is resolved to its digest first).

        Raises:
            ManifestUnknown: No such manifest.
            Unsupported: The registry does not allow deletes.
        """
        r = self._ref(ref)
        digest = r.digest or await self.resolve(ref)
        await self._request(
            "DELETE",
            f"/v2/{r.repository}/manifests/{digest}",
            scopes=(repository_scope(r.repository, "delete"),),
        )

    async def delete_blob(self, repository: str, digest: str) -> None:
        """Delete a blob.

        Raises:
            BlobUnknown: No such blob.
        """
        repo = self._ref(repository).repository
        await self._request(
            "DELETE",
            f"/v2/{repo}/blobs/{digest}",
            scopes=(repository_scope(repo, "delete"),),
        )

    # -- referrers -----------------------------------------------------------

    async def referrers(
        self, ref: str | ImageReference, *, artifact_type: str | None = None
    ) -> list[Descriptor]:
        """The manifests whose ``subject`` is ``ref`` (OCI 1.1 referrers).

        Uses the referrers API, or the fallback tag (``sha256-<hex>``) on
        registries without it.
        """
        r = self._ref(ref)
        digest = r.digest or await self.resolve(ref)
        scopes = (repository_scope(r.repository, "pull"),)
        query = (
            "?" + urllib.parse.urlencode({"artifactType": artifact_type}) if artifact_type else ""
        )
        response = await self._request(
            "GET",
            f"/v2/{r.repository}/referrers/{digest}{query}",
            scopes=scopes,
            headers={"Accept": "application/vnd.oci.image.index.v1+json"},
            allow=(404,),
            limit=MANIFEST_LIMIT,
            what="referrers index",
        )
        found: list[Descriptor]
        filtered = False
        if response.status_code == 200 and response.content.lstrip().startswith(b"{"):
            index = parse_manifest(response.content)
            found = list(index.manifests) if isinstance(index, ImageIndex) else []
            filtered = "artifactType" in response.headers.get("oci-filters-applied", "")
        else:
            fallback = await self._fallback_index(r.repository, digest)
            found = list(fallback.manifests) if fallback is not None else []
        if artifact_type and not filtered:
            found = [d for d in found if d.artifact_type == artifact_type]
        return found

    async def _fallback_index(self, repo: str, digest: str) -> ImageIndex | None:
        try:
            found = await self._fetch_manifest(repo, referrers_tag(digest))
        except (errors.ManifestUnknown, errors.NameUnknown):
            return None
        return found if isinstance(found, ImageIndex) else None

    async def _add_referrer_fallback(
        self, repo: str, subject: str, manifest: Manifest, digest: str
    ) -> None:
        """Record a referrer in the fallback tag's index (registries without the API)."""
        current = await self._fallback_index(repo, subject)
        entries = [d for d in (current.manifests if current else ()) if d.digest != digest]
        entry = Descriptor(
            manifest.media_type,
            digest,
            len(manifest.raw),
            annotations=dict(manifest.annotations),
            artifact_type=manifest.artifact_type
            or (manifest.config.media_type if isinstance(manifest, ImageManifest) else None),
        )
        raw = json.dumps(
            {
                "schemaVersion": 2,
                "mediaType": "application/vnd.oci.image.index.v1+json",
                "manifests": [d.to_json() for d in [*entries, entry]],
            }
        ).encode()
        await self._request(
            "PUT",
            f"/v2/{repo}/manifests/{referrers_tag(subject)}",
            scopes=(repository_scope(repo, "pull", "push"),),
            headers={"Content-Type": "application/vnd.oci.image.index.v1+json"},
            content=raw,
        )

    # -- blobs ---------------------------------------------------------------

    async def blob_exists(self, repository: str, digest: str) -> bool:
        """Whether the repository has the blob (``HEAD``)."""
        repo = self._ref(repository).repository
        response = await self._request(
            "HEAD",
            f"/v2/{repo}/blobs/{digest}",
            scopes=(repository_scope(repo, "pull"),),
            allow=(404,),
        )
        return response.status_code == 200

    async def download_blob(
        self, repository: str, digest: str, dest: str | os.PathLike[str]
    ) -> Path:
        """Download a blob to a file, verified while it streams.

        The bytes go to a temporary file beside ``dest``, renamed at the end:
        if the content does not match, nothing is left behind. A connection
        that breaks mid-blob is resumed with ``Range``.

        Args:
            repository: The repository.
            digest: The blob's digest.
            dest: The file to write, or an existing folder (the file is then
                named after the digest's hex).

        Returns:
            The file written.

        Raises:
            BlobUnknown: No such blob.
            DigestMismatch: The content does not match ``digest``.
            TransportError: The connection kept breaking.
        """
        repo = self._ref(repository).repository
        target = _blob_target(Path(dest), digest)
        partial = target.parent / f".{target.name}.{uuid.uuid4().hex[:12]}.partial"
        path = f"/v2/{repo}/blobs/{digest}"
        digester = Digester(digest)
        # The hash runs on a thread of its own (the second core) while the
        # chunks are received and written; chunks are written as received, a
        # MiB at a time with one writev (no joining copy).
        hasher = BackgroundDigest(digester.update)
        scopes = (repository_scope(repo, "pull"),)
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _O_BINARY, 0o644)
        try:
            written = 0
            failures = 0
            while True:
                headers = {"Range": f"bytes={written}-"} if written else {}
                response = await self._request(
                    "GET", path, scopes=scopes, headers=headers, stream=True
                )
                pending: list[bytes] = []
                buffered = 0
                try:
                    if written and response.status_code != 206:
                        await hasher.finish()
                        digester.reset()
                        os.ftruncate(fd, 0)
                        os.lseek(fd, 0, os.SEEK_SET)
                        written = 0
                    # Chunks as they arrive (a broken answer loses none).
                    async for chunk in response.aiter_bytes():
                        await hasher.feed(chunk)
                        pending.append(chunk)
                        buffered += len(chunk)
                        if buffered >= READ_SIZE:
                            written += await to_thread(write_chunks, fd, pending)
                            pending = []
                            buffered = 0
                    break
                except httpx.TransportError as exc:
                    failures += 1
                    if failures >= max(self._retry.attempts, 2):
                        raise errors.TransportError(
                            f"the blob download kept breaking: {exc}", method="GET", path=path
                        ) from exc
                    log.info("blob %s broke at byte %d: resuming", digest, written + buffered)
                finally:
                    if pending:
                        written += await to_thread(write_chunks, fd, pending)
                    await response.aclose()
            os.close(fd)
            fd = -1
            await hasher.finish()
            digester.verify(what="blob", method="GET", path=path)
            os.replace(partial, target)
        except BaseException:
            await hasher.aclose()
            if fd >= 0:
                os.close(fd)
            with contextlib.suppress(OSError):
                os.unlink(partial)
            raise
        return target

    async def upload_blob(
        self,
        repository: str,
        source: bytes | str | os.PathLike[str],
        *,
        digest: str | None = None,
        media_type: str = "application/octet-stream",
        mount_from: str | None = None,
    ) -> Descriptor:
        """Upload a blob, unless the repository has it already.

        Small blobs go in one ``PUT``; bigger ones (``chunk_size``) in ``PATCH``
        chunks. A failed upload is cancelled with ``DELETE``.

        Args:
            repository: The repository.
            source: The bytes, or a file's path.
            digest: The content's digest when known (else it is computed first).
            media_type: The media type of the returned descriptor.
            mount_from: Another repository of this registry that has the blob:
                ask the registry to mount it instead of uploading.

        Returns:
            The blob's descriptor.

        Raises:
            DigestInvalid: The registry computed another digest.
            BlobUploadInvalid, BlobUploadUnknown: The upload went wrong.
        """
        repo = self._ref(repository).repository
        if isinstance(source, bytes):
            size = len(source)
            actual = compute_digest(source)
            if digest is not None and digest != actual:
                raise errors.DigestMismatch(
                    f"the bytes have digest {actual}, not {digest}", expected=digest, actual=actual
                )
            blob_digest = actual
            path = None
        else:
            path = os.fspath(source)
            if digest is None:
                blob_digest, size = await to_thread(_hash_file, path)
            else:
                blob_digest, size = digest, os.stat(path).st_size
        digest = blob_digest
        descriptor = Descriptor(media_type, blob_digest, size)
        if await self.blob_exists(repo, blob_digest):
            return descriptor
        location = await self._start_upload(repo, blob_digest, mount_from)
        if location is None:
            return descriptor
        if size > self._chunk_size:
            await self._chunked_upload(repo, location, blob_digest, source, size)
            return descriptor

        def fresh_body() -> Any:
            return source if path is None else _FileBody(path, 0, size)

        try:
            await self._finish_upload(
                repo, location, blob_digest, fresh_body(), size, again=fresh_body
            )
        except BaseException:
            await self._cancel_upload(repo, location)
            raise
        return descriptor

    async def _start_upload(self, repo: str, digest: str, mount_from: str | None) -> str | None:
        """``POST`` an upload (or a mount); the upload's URL, or ``None`` when mounted."""
        scopes = [repository_scope(repo, "pull", "push")]
        path = f"/v2/{repo}/blobs/uploads/"
        if mount_from is not None and mount_from != repo:
            scopes.append(repository_scope(mount_from, "pull"))
            path += "?" + urllib.parse.urlencode({"mount": digest, "from": mount_from})
        response = await self._request(
            "POST",
            path,
            scopes=scopes,
            headers={"Content-Length": "0"},
            content=b"",
            idempotent=True,
        )
        if response.status_code == 201:
            return None
        location = response.headers.get("location")
        try:
            if location is None:
                raise errors.ProtocolError(
                    "the registry started an upload without a Location", field="Location"
                )
            return resolve_location(str(response.url), location)
        except errors.ProtocolError as exc:
            exc.method, exc.path = "POST", response.request.url.path
            raise

    async def _finish_upload(
        self,
        repo: str,
        location: str,
        digest: str,
        body: Any,
        size: int,
        *,
        again: Callable[[], Any] | None = None,
    ) -> None:
        """``PUT`` the upload's last bytes (or none) with its digest, closing it.

        When the answer is lost (the connection broke, or a resent ``PUT``
        finds the upload already closed), the blob is content-addressed: ask
        whether the registry has it before anything is sent again. Only a
        body that ``again`` can make anew is sent again, into the same upload.
        """
        tries = 0
        while True:
            try:
                await self._request(
                    "PUT",
                    upload_finish_url(location, digest),
                    scopes=(repository_scope(repo, "pull", "push"),),
                    headers={
                        "Content-Type": "application/octet-stream",
                        "Content-Length": str(size),
                    },
                    content=body,
                    idempotent=False,
                )
                return
            except (errors.TransportError, errors.BlobUploadUnknown):
                tries += 1
                if await self.blob_exists(repo, digest):
                    log.info("the PUT of blob %s lost its answer, but the blob is there", digest)
                    return
                if again is None or tries >= max(self._retry.attempts, 2):
                    raise
                body = again()

    async def _chunked_upload(
        self, repo: str, location: str, digest: str, source: Any, size: int
    ) -> None:
        """PATCH ``source`` in chunks, then PUT the digest; on failure, cancel at the latest URL."""
        latest = [location]  # _send_chunks keeps it at the upload's latest URL
        try:
            await self._send_chunks(repo, latest, digest, source, size)
        except BaseException:
            await self._cancel_upload(repo, latest[0])
            raise

    async def _send_chunks(
        self, repo: str, latest: list[str], digest: str, source: Any, size: int
    ) -> None:
        location = latest[0]
        scopes = (repository_scope(repo, "pull", "push"),)
        step = self._chunk_size
        offset = 0
        failures = 0
        while offset < size:
            length = min(step, size - offset)
            body: Any = (
                source[offset : offset + length]
                if isinstance(source, bytes)
                else _FileBody(os.fspath(source), offset, length)
            )
            try:
                response = await self._request(
                    "PATCH",
                    location,
                    scopes=scopes,
                    headers={
                        "Content-Type": "application/octet-stream",
                        "Content-Length": str(length),
                        "Content-Range": content_range(offset, length),
                    },
                    content=body,
                    idempotent=False,
                    allow=(416,),
                )
            except errors.TransportError:
                failures += 1
                if failures >= max(self._retry.attempts, 2):
                    raise
                location, offset = await self._resume_upload(repo, location, digest, size)
                latest[0] = location
                continue
            if response.status_code == 416:
                failures += 1
                if failures >= max(self._retry.attempts, 2):
                    raise errors.BlobUploadInvalid(
                        "the registry kept refusing the chunk's range",
                        status_code=416,
                        method="PATCH",
                        path=response.request.url.path,
                    )
                location, offset = await self._upload_status(repo, location, size)
                latest[0] = location
                continue
            new_location = response.headers.get("location")
            if new_location:
                location = latest[0] = resolve_location(str(response.url), new_location)
            step = chunk_size(step, response.headers.get("oci-chunk-min-length"))
            reported = parse_range_end(response.headers.get("range"), limit=offset + length)
            offset = reported if reported else offset + length
        await self._finish_upload(repo, location, digest, None, 0, again=lambda: None)

    async def _resume_upload(
        self, repo: str, location: str, digest: str, size: int
    ) -> tuple[str, int]:
        """Where an upload stands after a ``PATCH`` whose answer was lost.

        The registry may have taken the chunk, so it is never sent again
        blindly: the upload's status (``GET``) gives the real offset. A
        registry that can no longer say (the CNCF registry signs each upload
        URL with its offset, and the new URL was in the lost answer) gets a
        new upload, from byte 0; the old one is cancelled, never completed.
        """
        try:
            return await self._upload_status(repo, location, size)
        except (errors.BlobUploadInvalid, errors.BlobUploadUnknown):
            log.info("upload of blob %s lost: starting it again from byte 0", digest)
            await self._cancel_upload(repo, location)
            fresh = await self._start_upload(repo, digest, None)
            if fresh is None:  # not asked to mount: a registry that answers 201 here is broken
                raise errors.BlobUploadInvalid(
                    "the registry answered a new upload with 201", status_code=201, method="POST"
                ) from None
            return fresh, 0

    async def _upload_status(self, repo: str, location: str, size: int) -> tuple[str, int]:
        """Ask where an upload stands: its latest URL and the next offset (at most ``size``)."""
        response = await self._request(
            "GET", location, scopes=(repository_scope(repo, "pull", "push"),)
        )
        new_location = response.headers.get("location")
        if new_location:
            location = resolve_location(str(response.url), new_location)
        return location, parse_range_end(response.headers.get("range"), limit=size) or 0

    async def _cancel_upload(self, repo: str, location: str) -> None:
        with contextlib.suppress(errors.PydockError):
            await self._request(
                "DELETE",
                location,
                scopes=(repository_scope(repo, "pull", "push"),),
                allow=(404,),
            )

    # -- copy ----------------------------------------------------------------

    def _registry_for(self, ref: RegistryRef, target: AsyncRegistry | None) -> AsyncRegistry:
        if ref.host.lower() == self.host.lower():
            return self
        if target is not None and target.host.lower() == ref.host.lower():
            return target
        other = AsyncRegistry(
            ref.host,
            insecure=self.insecure,
            retry=self._retry,
            timeout=self._timeout,
            chunk_size=self._chunk_size,
            concurrency=self._concurrency,
            env=self._env,
        )
        self._owned.append(other)
        return other

    def begin_copy(
        self,
        src: str | ImageReference,
        dst: str | ImageReference,
        *,
        platforms: Sequence[str | Platform] | None = None,
        target: AsyncRegistry | None = None,
        progress: Callable[[CopyProgress], object] | None = None,
    ) -> AsyncOperation[CopyProgress, str]:
        """Start copying an image; iterate the operation for :class:`CopyProgress` events.

        Nothing is sent until the operation is iterated or ``result()`` is
        awaited. See :meth:`copy` for the arguments; the result is the digest
        of the manifest put at ``dst``.

        Raises:
            InvalidReference: ``src`` or ``dst`` is not a valid reference (raised here).
        """
        s_ref = parse_ref(src, self.host)
        d_ref = parse_ref(dst, self.host)
        return AsyncOperation(self._copy_steps(s_ref, d_ref, platforms, target), progress)

    async def copy(
        self,
        src: str | ImageReference,
        dst: str | ImageReference,
        *,
        platforms: Sequence[str | Platform] | None = None,
        target: AsyncRegistry | None = None,
        progress: Callable[[CopyProgress], object] | None = None,
    ) -> str:
        """Copy an image from one repository or registry to another, with no engine.

        Blobs stream from the source to the destination (no temporary files),
        hashed on the way, are skipped when the destination has them, and are
        mounted across repositories of the same registry. Manifests are put as
        their exact bytes, so digests are kept. The same as
        ``begin_copy(...).result()``.

        Args:
            src: ``repo:tag`` on this registry, or ``host/repo:tag`` on another.
            dst: The same forms.
            platforms: Copy only these platforms of an index (a new, filtered
                index is put, so its digest differs); ``None`` copies all.
            target: The client to use for ``dst``'s registry (else one is made
                with credentials from docker's config).
            progress: Called with every :class:`CopyProgress` event.

        Returns:
            The digest of the manifest put at ``dst``.

        Raises:
            InvalidReference: ``src`` or ``dst`` is not a valid reference.
            ManifestUnknown: ``src`` does not exist or has none of ``platforms``.
            DigestMismatch: A blob arrived corrupt (nothing is committed).
        """
        async with self.begin_copy(
            src, dst, platforms=platforms, target=target, progress=progress
        ) as operation:
            return await operation.result()

    async def _copy_steps(
        self,
        s_ref: RegistryRef,
        d_ref: RegistryRef,
        platforms: Sequence[str | Platform] | None,
        target: AsyncRegistry | None,
    ) -> AsyncGenerator[CopyProgress | Done[str], None]:
        result: list[str] = []

        async def work(emit: Callable[[CopyProgress], None]) -> None:
            result.append(await self._copy(s_ref, d_ref, platforms, target, emit))

        events = pump_events(work)
        try:
            async for event in events:
                yield event
        finally:
            await events.aclose()  # here, not later in another task
        yield Done(result[0])

    async def _copy(
        self,
        s_ref: RegistryRef,
        d_ref: RegistryRef,
        platforms: Sequence[str | Platform] | None,
        target: AsyncRegistry | None,
        emit: Callable[[CopyProgress], None],
    ) -> str:
        source = self._registry_for(s_ref, None)
        dest = self._registry_for(d_ref, target)
        top = await source._fetch_manifest(s_ref.repository, s_ref.target)
        if isinstance(top, ImageIndex) and platforms is not None:
            chosen = top.select_all(platforms)
            if not chosen:
                wanted = ", ".join(str(Platform.parse(p)) for p in platforms)
                raise errors.ManifestUnknown(
                    f"{s_ref} has no manifest for {wanted}", status_code=404
                )
            top = top.filtered(chosen)
        await self._copy_tree(source, s_ref.repository, dest, d_ref.repository, top, emit)
        tag = d_ref.tag or (s_ref.tag if d_ref.digest is None else None)
        put_ref = RegistryRef(d_ref.host, d_ref.repository, tag, None if tag else top.digest)
        digest = await dest.put_manifest(
            ImageReference(put_ref.host, put_ref.repository, put_ref.tag, put_ref.digest),
            top,
        )
        emit(CopyProgress(digest, "done", len(top.raw), len(top.raw), top.media_type))
        return digest

    async def _copy_tree(
        self,
        source: AsyncRegistry,
        s_repo: str,
        dest: AsyncRegistry,
        d_repo: str,
        manifest: Manifest,
        emit: Callable[[CopyProgress], None],
    ) -> None:
        if isinstance(manifest, ImageIndex):
            for child in manifest.manifests:
                found = await source._fetch_manifest(s_repo, child.digest)
                await self._copy_tree(source, s_repo, dest, d_repo, found, emit)
                await dest.put_manifest(
                    ImageReference(dest.host, d_repo, None, found.digest), found
                )
                size = len(found.raw)
                emit(CopyProgress(found.digest, "done", size, size, found.media_type))
            return
        jobs = [
            functools.partial(self._copy_blob, source, s_repo, dest, d_repo, blob, emit)
            for blob in manifest.blobs
        ]
        await run_parallel(jobs, self._concurrency)

    async def _copy_blob(
        self,
        source: AsyncRegistry,
        s_repo: str,
        dest: AsyncRegistry,
        d_repo: str,
        blob: Descriptor,
        emit: Callable[[CopyProgress], None],
    ) -> None:
        def event(phase: CopyPhase, done: int) -> CopyProgress:
            return CopyProgress(blob.digest, phase, done, blob.size, blob.media_type)

        if await dest.blob_exists(d_repo, blob.digest):
            emit(event("exists", blob.size))
            return
        mount = s_repo if source is dest else None
        location = await dest._start_upload(d_repo, blob.digest, mount)
        if location is None:
            emit(event("mounted", blob.size))
            return
        try:
            response = await source._request(
                "GET",
                f"/v2/{s_repo}/blobs/{blob.digest}",
                scopes=(repository_scope(s_repo, "pull"),),
                stream=True,
            )
            try:
                emit(event("copying", 0))
                body = _VerifiedBody(
                    response, blob.digest, blob.size, lambda sent: emit(event("copying", sent))
                )
                try:
                    await dest._finish_upload(d_repo, location, blob.digest, body, blob.size)
                finally:
                    await body.aclose()
            finally:
                await response.aclose()
        except BaseException:
            await dest._cancel_upload(d_repo, location)
            raise
        emit(event("done", blob.size))

    # -- OCI image layout ----------------------------------------------------

    async def pull_layout(
        self,
        ref: str | ImageReference,
        directory: str | os.PathLike[str],
        *,
        platforms: Sequence[str | Platform] | None = None,
    ) -> Descriptor:
        """Save an image (or index) as an OCI image layout in ``directory``.

        ``index.json`` gets an entry named after the tag (an existing entry
        of that name is replaced); blobs already in the layout are kept.

        Returns:
            The descriptor of the top manifest, as listed in ``index.json``.

        Raises:
            ManifestUnknown: No such image, or none of ``platforms``.
            DigestMismatch: Content arrived corrupt (nothing partial is left).
        """
        r = self._ref(ref)
        root = _make_dir(Path(directory))
        top = await self._fetch_manifest(r.repository, r.target)
        if isinstance(top, ImageIndex) and platforms is not None:
            chosen = top.select_all(platforms)
            if not chosen:
                raise errors.ManifestUnknown(f"{r} has none of {list(platforms)}", status_code=404)
            top = top.filtered(chosen)
        await self._pull_tree(r.repository, top, root)
        annotations = {REF_NAME_ANNOTATION: r.tag} if r.tag else {}
        entry = top.descriptor(annotations=annotations)
        (root / "oci-layout").write_bytes(OCI_LAYOUT_FILE)
        entries: list[Descriptor] = []
        index_file = root / "index.json"
        if index_file.exists():
            existing = parse_manifest(index_file.read_bytes())
            if isinstance(existing, ImageIndex):
                entries = [
                    d
                    for d in existing.manifests
                    if not r.tag or d.annotations.get(REF_NAME_ANNOTATION) != r.tag
                ]
        index_file.write_bytes(layout_index([*entries, entry]))
        return entry

    def _write_layout_blob(self, root: Path, digest: str, raw: bytes) -> None:
        target = root / blob_path(digest)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(raw)

    async def _pull_tree(self, repo: str, manifest: Manifest, root: Path) -> None:
        if isinstance(manifest, ImageIndex):
            for child in manifest.manifests:
                found = await self._fetch_manifest(repo, child.digest)
                await self._pull_tree(repo, found, root)
        else:
            jobs = []
            for blob in manifest.blobs:
                target = root / blob_path(blob.digest)
                if target.exists() and target.stat().st_size == blob.size:
                    continue
                target.parent.mkdir(parents=True, exist_ok=True)
                jobs.append(functools.partial(self.download_blob, repo, blob.digest, target))
            await run_parallel(jobs, self._concurrency)
        self._write_layout_blob(root, manifest.digest, manifest.raw)

    async def push_layout(
        self, directory: str | os.PathLike[str], ref: str | ImageReference
    ) -> str:
        """Push an image (or index) from an OCI image layout to ``ref``.

        The ``index.json`` entry named like ``ref``'s tag is pushed, or the
        only entry when there is one.

        Returns:
            The digest of the manifest put.

        Raises:
            ValueError: The layout has no such entry, or several and none named so.
            DigestMismatch: A file in the layout does not match its digest.
        """
        r = self._ref(ref)
        root = Path(directory)
        index = parse_manifest((root / "index.json").read_bytes())
        if not isinstance(index, ImageIndex) or not index.manifests:
            raise ValueError(f"{root / 'index.json'} lists no manifest")
        named = [d for d in index.manifests if d.annotations.get(REF_NAME_ANNOTATION) == r.tag]
        if named:
            entry = named[0]
        elif len(index.manifests) == 1:
            entry = index.manifests[0]
        else:
            names = sorted(
                d.annotations.get(REF_NAME_ANNOTATION, d.digest) for d in index.manifests
            )
            raise ValueError(f"{root} lists several manifests and none is named {r.tag!r}: {names}")
        top = await self._push_tree(root, r.repository, entry.digest)
        return await self.put_manifest(ref, top)

    async def _push_tree(self, root: Path, repo: str, digest: str) -> Manifest:
        raw = (root / blob_path(digest)).read_bytes()
        check = Digester(digest)
        check.update(raw)
        check.verify(what=f"layout file {blob_path(digest)}")
        manifest = parse_manifest(raw, digest=digest)
        if isinstance(manifest, ImageIndex):
            for child in manifest.manifests:
                found = await self._push_tree(root, repo, child.digest)
                await self.put_manifest(ImageReference(self.host, repo, None, child.digest), found)
        else:
            jobs = [
                functools.partial(
                    self.upload_blob, repo, root / blob_path(blob.digest), digest=blob.digest
                )
                for blob in manifest.blobs
            ]
            await run_parallel(jobs, self._concurrency)
        return manifest
