"""The registry client's blobs: existence, download with verification, resumable uploads.

:class:`AsyncRegistryBlobs` adds blob transfers to the request pipeline of
:class:`~pydock._async._registry_session.AsyncRegistrySession`; copies and
image layouts (in :mod:`pydock._async._registry`) are written on top of it.
The sync twin is generated from this module.
"""

from __future__ import annotations

import contextlib
import logging
import os
import urllib.parse
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx

from pydock import errors
from pydock._async._backend import (
    BackgroundDigest,
    open_file,
    to_thread,
    write_chunks,
)
from pydock._async._registry_session import AsyncRegistrySession
from pydock._core.registry import (
    Descriptor,
    Digester,
    chunk_size,
    compute_digest,
    content_range,
    parse_range_end,
    repository_scope,
    resolve_location,
    split_digest,
    upload_finish_url,
)

__all__ = [
    "READ_SIZE",
    "AsyncRegistryBlobs",
    "FileBody",
    "VerifiedBody",
    "blob_target",
    "hash_file",
]

log = logging.getLogger("pydock")

#: Bytes read at a time from a blob answer or a file.
READ_SIZE = 1 << 20
_O_BINARY: int = getattr(os, "O_BINARY", 0)
#: A copy reports a blob's progress each time this many more bytes have gone.
_PROGRESS_STEP = 8 << 20


def blob_target(dest: Path, digest: str) -> Path:
    """The file to download into: ``dest``, or ``dest/<hex>`` when it is a folder."""
    return dest / split_digest(digest)[1] if dest.is_dir() else dest


def hash_file(path: str) -> tuple[str, int]:
    digester = Digester()
    with open(path, "rb") as f:
        while chunk := f.read(READ_SIZE):
            digester.update(chunk)
    return digester.digest, digester.size


class FileBody:
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


class VerifiedBody:
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

    def __aiter__(self) -> VerifiedBody:
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


class AsyncRegistryBlobs(AsyncRegistrySession):
    """Blob transfers on one registry's session (see :class:`AsyncRegistry`)."""

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
        target = blob_target(Path(dest), digest)
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
                blob_digest, size = await to_thread(hash_file, path)
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
            return source if path is None else FileBody(path, 0, size)

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
                else FileBody(os.fspath(source), offset, length)
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
