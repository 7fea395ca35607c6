"""The async client for OCI distribution registries (no engine involved).

Decisions (auth flow, media types, platforms, digests, upload URLs, paging)
live in :mod:`pydock._core.registry` and :mod:`pydock._core.credentials`; this
module sends what they decide. The sync twin is generated from it.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import urllib.parse
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Sequence
from pathlib import Path
from typing import Generic, TypeVar

from pydock import errors
from pydock._async._backend import (
    pump_events,
    run_parallel,
)
from pydock._async._credentials import load_credentials, save_credentials
from pydock._async._operation import AsyncOperation, Done
from pydock._async._registry_blobs import AsyncRegistryBlobs, VerifiedBody
from pydock._async._registry_session import RegistryRef, parse_ref
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
    compute_digest,
    layout_index,
    parse_digest_header,
    parse_manifest,
    referrers_tag,
    repository_scope,
)

__all__ = ["AsyncPaged", "AsyncRegistry", "load_credentials", "save_credentials"]

log = logging.getLogger("pydock")
http_log = logging.getLogger("pydock.http")

T = TypeVar("T")

_CATALOG_SCOPE = "registry:catalog:*"


def _make_dir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path


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


class AsyncRegistry(AsyncRegistryBlobs):
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
                body = VerifiedBody(
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
