"""The exceptions pydock raises, in one hierarchy.

::

    PydockError
    ├── TransportError                 the engine or registry could not be reached or talked to
    │   ├── ConnectError
    │   └── Timeout                    a timeout or a whole-call deadline passed
    ├── ProtocolError(field)           the server's answer broke the protocol or had the wrong shape
    │   └── ResponseTooLarge(limit)    an answer exceeded the size pydock reads into memory
    ├── APIError(status_code, message) the server answered with an error status
    │   ├── BadRequest                 400
    │   ├── Unauthorized               401 / 403
    │   ├── NotFound                   404
    │   │   ├── ImageNotFound
    │   │   └── ContainerNotFound
    │   ├── Conflict                   409
    │   ├── ServerError                5xx
    │   └── RegistryError(code, message, detail)   an OCI distribution error
    │       ├── BlobUnknown, BlobUploadInvalid, BlobUploadUnknown, DigestInvalid,
    │       ├── ManifestBlobUnknown, ManifestInvalid, ManifestUnknown, NameInvalid,
    │       │   └── MalformedManifest  (also a ProtocolError) a manifest of the wrong shape
    │       ├── NameUnknown, SizeInvalid, RegistryUnauthorized, Denied,
    │       └── Unsupported, TooManyRequests
    ├── StreamError                    an error reported inside a 200 progress stream
    │   ├── PullError
    │   │   └── PullUnauthorized       (also Unauthorized) the registry refused the credentials
    │   ├── PushError
    │   │   └── PushUnauthorized       (also Unauthorized) the registry refused the credentials
    │   └── BuildError(step, log)
    ├── ContainerError(exit_code, stderr)
    ├── DigestMismatch(expected, actual)
    ├── UnsupportedFeature(backend, feature)
    │   └── UnsupportedInstruction(line, instruction)  (also a ValueError) needs an engine
    ├── InvalidConfiguration           a bad URL, setting or argument (also a ValueError)
    ├── InvalidReference               (also a ValueError)
    ├── DockerfileParseError(line, reason)  (also a ValueError) a Dockerfile that does not parse
    ├── ArchiveFormatError             a stream that is not a valid tar archive
    ├── UnsafeArchiveError(member)     a tar member that would land outside the destination
    ├── CopyError(path)                a copy's source and destination do not fit together
    ├── WaitError(container_id, container_name, status, logs)   pydock.testing: not ready
    │   ├── ContainerExited(exit_code)
    │   ├── ContainerUnhealthy
    │   └── WaitTimeout(pending)       (also a TimeoutError)
    └── PortNotPublished               (also a LookupError) pydock.testing: a port not published

Every error raised for a request carries ``method`` and ``path``; no message ever
contains credentials.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

__all__ = [
    "APIError",
    "ArchiveFormatError",
    "BadRequest",
    "BlobUnknown",
    "BlobUploadInvalid",
    "BlobUploadUnknown",
    "BuildError",
    "Conflict",
    "ConnectError",
    "ContainerError",
    "ContainerExited",
    "ContainerNotFound",
    "ContainerUnhealthy",
    "CopyError",
    "Denied",
    "DigestInvalid",
    "DigestMismatch",
    "DockerfileParseError",
    "ImageNotFound",
    "InvalidConfiguration",
    "InvalidReference",
    "MalformedManifest",
    "ManifestBlobUnknown",
    "ManifestInvalid",
    "ManifestUnknown",
    "NameInvalid",
    "NameUnknown",
    "NotFound",
    "PortNotPublished",
    "ProtocolError",
    "PullError",
    "PullUnauthorized",
    "PushError",
    "PushUnauthorized",
    "PydockError",
    "RegistryError",
    "RegistryUnauthorized",
    "ResponseTooLarge",
    "ServerError",
    "SizeInvalid",
    "StreamError",
    "Timeout",
    "TooManyRequests",
    "TransportError",
    "Unauthorized",
    "UnsafeArchiveError",
    "Unsupported",
    "UnsupportedFeature",
    "UnsupportedInstruction",
    "WaitError",
    "WaitTimeout",
]


class PydockError(Exception):
    """The root of every error pydock raises.

    Attributes:
        method: The HTTP method of the request that failed, when there was one.
        path: The URL path of that request (no query string, no credentials).
    """

    def __init__(self, message: str, *, method: str | None = None, path: str | None = None):
        super().__init__(message)
        self.message = message
        self.method = method
        self.path = path

    def __str__(self) -> str:
        if self.method and self.path:
            return f"{self.message} ({self.method} {self.path})"
        return self.message


class TransportError(PydockError):
    """The engine or registry could not be reached, or the connection broke."""


class ConnectError(TransportError):
    """No connection could be made (socket missing, refused, DNS, TLS handshake)."""


class Timeout(TransportError):
    """A connect, read, write or wait timed out."""


class ProtocolError(PydockError):
    """The server's answer broke HTTP or the API's protocol, or had an unexpected shape.

    Raised instead of ``AttributeError``/``KeyError``/``TypeError`` when an engine,
    registry or container sends something pydock cannot read: a JSON list where an
    object was expected, a field of the wrong type, an impossible chunk size.

    Attributes:
        field: The field (``"Names"``, ``"manifests[0].digest"``) or part of the
            answer that was wrong, when known.
    """

    def __init__(
        self,
        message: str,
        *,
        field: str | None = None,
        method: str | None = None,
        path: str | None = None,
    ):
        super().__init__(message, method=method, path=path)
        self.field = field


class ResponseTooLarge(ProtocolError):
    """An answer was larger than pydock reads into memory; nothing more was read.

    Attributes:
        limit: The limit in bytes that was exceeded.
    """

    def __init__(
        self,
        message: str,
        *,
        limit: int,
        field: str | None = None,
        method: str | None = None,
        path: str | None = None,
    ):
        super().__init__(message, field=field, method=method, path=path)
        self.limit = limit


class InvalidConfiguration(PydockError, ValueError):
    """A URL, environment variable, docker context or argument is not usable.

    Also a ``ValueError``; the message names the parameter or setting at fault.
    """


class APIError(PydockError):
    """The server answered with an error status.

    Attributes:
        status_code: The HTTP status code.
        explanation: The server's own message, as it sent it.
    """

    def __init__(
        self,
        message: str,
        *,
        status_code: int,
        method: str | None = None,
        path: str | None = None,
    ):
        super().__init__(message, method=method, path=path)
        self.status_code = status_code
        self.explanation = message

    def __str__(self) -> str:
        base = f"{self.status_code}: {self.message}"
        if self.method and self.path:
            return f"{base} ({self.method} {self.path})"
        return base


class BadRequest(APIError):
    """The server rejected the request's parameters (400)."""


class Unauthorized(APIError):
    """Authentication failed or is missing (401), or access was refused (403)."""


class NotFound(APIError):
    """The object does not exist (404)."""


class ImageNotFound(NotFound):
    """No such image."""


class ContainerNotFound(NotFound):
    """No such container."""


class Conflict(APIError):
    """The request conflicts with the object's state (409): name in use, container running..."""


class ServerError(APIError):
    """The server failed (5xx)."""


class RegistryError(APIError):
    """An error answered by an OCI distribution registry.

    Attributes:
        code: The OCI error code (``MANIFEST_UNKNOWN``...).
        detail: The ``detail`` member of the error, if any.
    """

    code_name: str = ""

    def __init__(
        self,
        message: str,
        *,
        status_code: int,
        code: str | None = None,
        detail: object = None,
        method: str | None = None,
        path: str | None = None,
    ):
        super().__init__(message, status_code=status_code, method=method, path=path)
        self.code = code or self.code_name
        self.detail = detail

    def __str__(self) -> str:
        base = f"{self.status_code} {self.code}: {self.message}"
        if self.method and self.path:
            return f"{base} ({self.method} {self.path})"
        return base


class BlobUnknown(RegistryError):
    """BLOB_UNKNOWN: the blob is not known to the registry."""

    code_name = "BLOB_UNKNOWN"


class BlobUploadInvalid(RegistryError):
    """BLOB_UPLOAD_INVALID: the upload is invalid."""

    code_name = "BLOB_UPLOAD_INVALID"


class BlobUploadUnknown(RegistryError):
    """BLOB_UPLOAD_UNKNOWN: the upload session is not known."""

    code_name = "BLOB_UPLOAD_UNKNOWN"


class DigestInvalid(RegistryError):
    """DIGEST_INVALID: the content does not match its digest."""

    code_name = "DIGEST_INVALID"


class ManifestBlobUnknown(RegistryError):
    """MANIFEST_BLOB_UNKNOWN: a blob the manifest references is missing."""

    code_name = "MANIFEST_BLOB_UNKNOWN"


class ManifestInvalid(RegistryError):
    """MANIFEST_INVALID: the manifest failed validation."""

    code_name = "MANIFEST_INVALID"


class MalformedManifest(ManifestInvalid, ProtocolError):
    """A manifest or index that is not JSON of the right shape (checked by pydock).

    Both a :class:`ManifestInvalid` (``status_code`` 0: no server said so) and a
    :class:`ProtocolError` whose ``field`` names the member at fault
    (``"layers[0].size"``).
    """

    def __init__(
        self,
        message: str,
        *,
        field: str | None = None,
        method: str | None = None,
        path: str | None = None,
    ):
        super().__init__(message, status_code=0, method=method, path=path)
        self.field = field


class ManifestUnknown(RegistryError):
    """MANIFEST_UNKNOWN: no manifest for that tag or digest."""

    code_name = "MANIFEST_UNKNOWN"


class NameInvalid(RegistryError):
    """NAME_INVALID: the repository name is invalid."""

    code_name = "NAME_INVALID"


class NameUnknown(RegistryError):
    """NAME_UNKNOWN: the repository is not known."""

    code_name = "NAME_UNKNOWN"


class SizeInvalid(RegistryError):
    """SIZE_INVALID: the content length does not match."""

    code_name = "SIZE_INVALID"


class RegistryUnauthorized(RegistryError, Unauthorized):
    """UNAUTHORIZED: authentication is required."""

    code_name = "UNAUTHORIZED"


class Denied(RegistryError, Unauthorized):
    """DENIED: access to the resource was denied."""

    code_name = "DENIED"


class Unsupported(RegistryError):
    """UNSUPPORTED: the operation is not supported by this registry."""

    code_name = "UNSUPPORTED"


class TooManyRequests(RegistryError):
    """TOOMANYREQUESTS: rate limited."""

    code_name = "TOOMANYREQUESTS"


REGISTRY_ERRORS: dict[str, type[RegistryError]] = {
    cls.code_name: cls
    for cls in (
        BlobUnknown,
        BlobUploadInvalid,
        BlobUploadUnknown,
        DigestInvalid,
        ManifestBlobUnknown,
        ManifestInvalid,
        ManifestUnknown,
        NameInvalid,
        NameUnknown,
        SizeInvalid,
        RegistryUnauthorized,
        Denied,
        Unsupported,
        TooManyRequests,
    )
}


class StreamError(PydockError):
    """An error the server reported inside an otherwise successful (200) stream."""


class PullError(StreamError):
    """Pulling an image failed; the engine said why in its progress stream."""


class PushError(StreamError):
    """Pushing an image failed; the engine said why in its progress stream."""


class _StreamUnauthorized(Unauthorized):
    """A registry's refusal relayed by the engine: an :class:`Unauthorized` without an answer.

    The engine answered the request itself (200 with an error in the stream, or
    a 500 naming the registry's 401), so ``status_code`` is the registry's 401.
    """

    def __init__(
        self,
        message: str,
        *,
        status_code: int = 401,
        method: str | None = None,
        path: str | None = None,
    ):
        super().__init__(message, status_code=status_code, method=method, path=path)


class PullUnauthorized(PullError, _StreamUnauthorized):
    """A pull failed because the registry refused the credentials (or asked for some).

    Both a :class:`PullError` and an :class:`Unauthorized`, on both engines.

    Attributes:
        status_code: 401, the registry's answer the engine relayed.
    """


class PushUnauthorized(PushError, _StreamUnauthorized):
    """A push failed because the registry refused the credentials (or asked for some).

    Both a :class:`PushError` and an :class:`Unauthorized`, on both engines.

    Attributes:
        status_code: 401, the registry's answer the engine relayed.
    """


class BuildError(StreamError):
    """A build failed.

    Attributes:
        step: The step that failed (``"RUN false"``), when known.
        log: The whole build log up to the failure.
    """

    def __init__(
        self,
        message: str,
        *,
        step: str | None = None,
        log: Sequence[str] = (),
        method: str | None = None,
        path: str | None = None,
    ):
        super().__init__(message, method=method, path=path)
        self.step = step
        self.log = list(log)


class ContainerError(PydockError):
    """A container exited with a non-zero code.

    Attributes:
        exit_code: The container's exit code.
        stderr: What the container wrote to standard error.
        command: The command that ran, when known.
        image: The image it ran, when known.
    """

    def __init__(
        self,
        message: str,
        *,
        exit_code: int,
        stderr: bytes = b"",
        command: object = None,
        image: str | None = None,
    ):
        super().__init__(message)
        self.exit_code = exit_code
        self.stderr = stderr
        self.command = command
        self.image = image


class DigestMismatch(PydockError):
    """Content did not hash to the digest it was fetched or pushed by.

    Attributes:
        expected: The digest that was asked for.
        actual: The digest of what arrived.
    """

    def __init__(self, message: str, *, expected: str, actual: str, **kw: str | None):
        super().__init__(message, method=kw.get("method"), path=kw.get("path"))
        self.expected = expected
        self.actual = actual


class UnsupportedFeature(PydockError):
    """The engine (or its negotiated API version) lacks a feature.

    Raised before any request is sent.

    Attributes:
        backend: ``"docker"`` or ``"podman"``.
        feature: What was asked for.
    """

    def __init__(self, backend: str, feature: str, reason: str | None = None):
        msg = f"{feature} is not supported on {backend}"
        if reason:
            msg += f": {reason}"
        super().__init__(msg)
        self.backend = backend
        self.feature = feature


class InvalidReference(PydockError, ValueError):
    """An image reference is not valid; the message names the offending part."""


class UnsupportedInstruction(UnsupportedFeature, ValueError):
    """A Dockerfile instruction that cannot be built without an engine (``RUN``, ...).

    Raised by the daemonless image builder; also a ``ValueError``.

    Attributes:
        line: The 1-based line of the instruction when the Dockerfile's text
            is known, else its 1-based position among the instructions.
        instruction: The instruction as Dockerfile text.
    """

    def __init__(self, line: int, instruction: str, reason: str) -> None:
        super().__init__("ImageBuilder", instruction.split(" ", 1)[0], reason)
        self.args = (f"line {line}: {instruction!r}: {reason}",)
        self.line = line
        self.instruction = instruction

    def __str__(self) -> str:
        return str(self.args[0])


class DockerfileParseError(PydockError, ValueError):
    """A Dockerfile's text could not be parsed (also a ``ValueError``).

    Attributes:
        line: The 1-based line on which the offending instruction starts.
        reason: What is wrong, without the line number.
    """

    def __init__(self, line: int, reason: str) -> None:
        super().__init__(f"line {line}: {reason}")
        self.line = line
        self.reason = reason

    def __reduce__(self) -> tuple[type[DockerfileParseError], tuple[int, str]]:
        return (type(self), (self.line, self.reason))


class ArchiveFormatError(PydockError):
    """The stream is not a valid tar archive (or ends in the middle of one)."""


class UnsafeArchiveError(PydockError):
    """A tar archive holds a member that would land outside the destination folder.

    Attributes:
        member: The offending member's name.
    """

    def __init__(self, message: str, *, member: str) -> None:
        super().__init__(message)
        self.member = member


class CopyError(PydockError):
    """A copy's source and destination do not fit together (``docker cp``'s rules).

    For example a folder copied onto an existing file, or a file copied to a
    path that ends in ``/`` but does not exist.

    Attributes:
        path: The destination path at fault.
    """

    def __init__(self, message: str, *, path: str) -> None:
        super().__init__(message)
        self.path = path


class WaitError(PydockError):
    """A container did not become ready (raised by :mod:`pydock.testing`).

    Attributes:
        container_id: The container's id.
        container_name: Its name.
        status: Its status when the wait stopped (``running``, ``exited``...).
        logs: Its last log lines (stdout and stderr, as text).
    """

    def __init__(
        self,
        message: str,
        *,
        container_id: str = "",
        container_name: str = "",
        status: str = "",
        logs: str = "",
    ) -> None:
        super().__init__(message)
        self.container_id = container_id
        self.container_name = container_name
        self.status = status
        self.logs = logs


class ContainerExited(WaitError):
    """The container stopped (or vanished) while it was being waited for.

    Attributes:
        exit_code: Its exit code (None when it was removed and the code is unknown).
    """

    def __init__(self, message: str, *, exit_code: int | None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.exit_code = exit_code


class WaitTimeout(WaitError, TimeoutError):
    """A wait strategy was not satisfied in time (also a :class:`TimeoutError`).

    Attributes:
        pending: What was still awaited, each with the last reason it was not ready.
    """

    def __init__(self, message: str, *, pending: Sequence[str] = (), **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.pending = list(pending)


class ContainerUnhealthy(WaitError):
    """The engine reported the container ``unhealthy`` while it was being waited for."""


class PortNotPublished(PydockError, LookupError):
    """A container port is not published on the host (also a :class:`LookupError`)."""
