"""Decisions of the OCI distribution client, free of I/O.

* Media types and the ``Accept`` header for manifests; manifest, index and
  descriptor models parsed from their exact bytes.
* Platforms: parsing ``os/arch[/variant]``, normalization (``aarch64`` is
  ``arm64``, ``armhf`` is ``arm/v7``...) and matching against an index.
* Digests: computing and verifying, incrementally while streaming.
* The registry's auth flow as a small state machine (:class:`AuthState`):
  Basic and Bearer challenges, token requests (GET with basic credentials, or
  the OAuth2 POST form with a refresh token, falling back to GET on 404),
  tokens cached per scope until they expire, and scope escalation on
  ``insufficient_scope``.
* Uploads: resolving ``Location``, adding ``?digest=`` without losing the
  upload's own query, ``Content-Range``, chunk sizes.
* Paging with ``Link``, the referrers fallback tag, the OCI image layout.

The I/O layers (``pydock._async._registry`` and its generated sync twin) only
send what this module decides and feed the answers back.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import urllib.parse
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Literal

import attrs

from pydock import errors
from pydock._core.auth import RegistryAuth
from pydock._core.errmap import registry_error
from pydock._core.headers import Challenge, parse_link_next, parse_www_authenticate
from pydock._core.hosts import is_loopback
from pydock._core.shapes import json_kind

__all__ = [
    "DOCKER_MANIFEST",
    "DOCKER_MANIFEST_LIST",
    "ERROR_BODY_LIMIT",
    "INDEX_MEDIA_TYPES",
    "JSON_LIMIT",
    "MANIFEST_ACCEPT",
    "MANIFEST_LIMIT",
    "MANIFEST_MEDIA_TYPES",
    "OCI_INDEX",
    "OCI_LAYOUT_FILE",
    "OCI_MANIFEST",
    "AuthAction",
    "AuthState",
    "CopyPhase",
    "CopyProgress",
    "Descriptor",
    "Digester",
    "ImageIndex",
    "ImageManifest",
    "Manifest",
    "Platform",
    "Token",
    "TokenRequest",
    "base_urls",
    "blob_path",
    "chunk_size",
    "compute_digest",
    "content_range",
    "is_loopback",
    "layout_index",
    "merge_scopes",
    "next_page_url",
    "parse_digest_header",
    "parse_listing",
    "parse_manifest",
    "parse_range_end",
    "realm_refusal",
    "referrers_tag",
    "repository_scope",
    "upload_finish_url",
]

# --------------------------------------------------------------------------- media types

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_MANIFEST_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
OCI_EMPTY_JSON = "application/vnd.oci.empty.v1+json"

#: Manifest media types of a single image.
IMAGE_MEDIA_TYPES = frozenset({OCI_MANIFEST, DOCKER_MANIFEST})
#: Manifest media types of a multi-platform index.
INDEX_MEDIA_TYPES = frozenset({OCI_INDEX, DOCKER_MANIFEST_LIST})
#: Every manifest media type pydock reads.
MANIFEST_MEDIA_TYPES = IMAGE_MEDIA_TYPES | INDEX_MEDIA_TYPES
#: The ``Accept`` header sent for manifests (schema 1 is not asked for).
MANIFEST_ACCEPT = ", ".join((OCI_INDEX, OCI_MANIFEST, DOCKER_MANIFEST_LIST, DOCKER_MANIFEST))

#: The most a manifest or index may weigh (what the distribution spec and containerd allow).
MANIFEST_LIMIT = 4 << 20
#: The most any other answer read into memory may weigh: listings, tokens, upload answers.
JSON_LIMIT = 4 << 20
#: How much of an error answer's body is read (the rest is left unread).
ERROR_BODY_LIMIT = 8 << 10

#: The content of an OCI image layout's ``oci-layout`` file.
OCI_LAYOUT_FILE = b'{"imageLayoutVersion":"1.0.0"}'
#: The annotation naming a manifest in an OCI layout's ``index.json``.
REF_NAME_ANNOTATION = "org.opencontainers.image.ref.name"

# --------------------------------------------------------------------------- digests

_DIGEST_RE = re.compile(r"(sha256):([0-9a-f]{64})|(sha512):([0-9a-f]{128})")


def split_digest(digest: str) -> tuple[str, str]:
    """Split ``sha256:<hex>`` into its algorithm and hex.

    Raises:
        InvalidReference: Not a valid sha256 or sha512 digest.
    """
    m = _DIGEST_RE.fullmatch(digest)
    if m is None:
        raise errors.InvalidReference(f"invalid digest {digest!r}")
    return (m[1], m[2]) if m[1] else (m[3], m[4])


def compute_digest(data: bytes, algorithm: str = "sha256") -> str:
    """The digest of ``data``: ``sha256:<hex>``."""
    return f"{algorithm}:{hashlib.new(algorithm, data).hexdigest()}"


class Digester:
    """Hash content as it streams and check it against the digest expected.

    Args:
        expected: The digest the content must have; ``None`` just computes
            a sha256 digest.
    """

    def __init__(self, expected: str | None = None) -> None:
        algorithm = split_digest(expected)[0] if expected else "sha256"
        self.expected = expected
        self.algorithm = algorithm
        self._hash = hashlib.new(algorithm)
        self.size = 0

    def update(self, data: bytes | memoryview) -> None:
        """Feed the next piece of content."""
        self._hash.update(data)
        self.size += len(data)

    def reset(self) -> None:
        """Forget everything fed so far (a download restarted from zero)."""
        self._hash = hashlib.new(self.algorithm)
        self.size = 0

    @property
    def digest(self) -> str:
        """The digest of what was fed so far."""
        return f"{self.algorithm}:{self._hash.hexdigest()}"

    def verify(
        self, *, what: str = "content", method: str | None = None, path: str | None = None
    ) -> str:
        """Check the content against the expected digest.

        Returns:
            The digest.

        Raises:
            DigestMismatch: The content hashes to another digest.
        """
        actual = self.digest
        if self.expected is not None and actual != self.expected:
            raise errors.DigestMismatch(
                f"{what} should have digest {self.expected} but has {actual}",
                expected=self.expected,
                actual=actual,
                method=method,
                path=path,
            )
        return actual


def blob_path(digest: str) -> str:
    """Where a blob lives inside an OCI image layout: ``blobs/sha256/<hex>``."""
    algorithm, hexpart = split_digest(digest)
    return f"blobs/{algorithm}/{hexpart}"


def referrers_tag(digest: str) -> str:
    """The referrers fallback tag for ``digest``: ``sha256-<hex>`` (OCI distribution 1.1)."""
    algorithm, hexpart = split_digest(digest)
    return f"{algorithm}-{hexpart}"[:128]


# --------------------------------------------------------------------------- platforms

_ARCH_ALIASES = {
    "x86_64": ("amd64", None),
    "x86-64": ("amd64", None),
    "amd64": ("amd64", None),
    "aarch64": ("arm64", None),
    "arm64": ("arm64", None),
    "armhf": ("arm", "v7"),
    "armel": ("arm", "v6"),
    "i386": ("386", None),
    "i686": ("386", None),
    "386": ("386", None),
}


def _normalize_arch(arch: str, variant: str | None) -> tuple[str, str | None]:
    arch = arch.lower()
    variant = variant.lower() if variant else None
    arch, implied = _ARCH_ALIASES.get(arch, (arch, None))
    variant = variant or implied
    if variant and variant.isdigit():
        variant = "v" + variant
    if arch == "arm64" and variant in ("v8", "v8.0"):
        variant = None
    if arch == "arm" and variant is None:
        variant = "v7"
    if arch == "amd64" and variant == "v1":
        variant = None
    return arch, variant


@attrs.frozen
class Platform:
    """An image platform: ``linux/amd64``, ``linux/arm/v7``...

    Build one with :meth:`parse`; it is normalized like containerd does:
    ``aarch64`` is ``arm64`` (variant ``v8`` dropped), ``armhf`` is
    ``arm/v7``, ``armel`` is ``arm/v6``, ``x86_64`` is ``amd64``, and a bare
    ``arm`` means ``arm/v7``.
    """

    os: str
    architecture: str
    variant: str | None = None
    os_version: str | None = None
    os_features: tuple[str, ...] = ()

    @classmethod
    def parse(cls, value: str | Platform) -> Platform:
        """Parse ``os/arch[/variant]`` (or just ``arch``: the OS is linux) and normalize it.

        Raises:
            ValueError: Not a platform specification.
        """
        if isinstance(value, Platform):
            return value.normalized()
        parts = value.strip().split("/")
        if not all(parts) or len(parts) > 3:
            raise ValueError(f"invalid platform {value!r}: expected os/arch[/variant]")
        if len(parts) == 1:
            parts = ["linux", parts[0]]
        return cls(parts[0], parts[1], parts[2] if len(parts) == 3 else None).normalized()

    @classmethod
    def from_json(cls, payload: Mapping[str, Any], field: str = "platform") -> Platform:
        """A platform from an index entry's ``platform`` object (as given, not normalized).

        Args:
            payload: The ``platform`` object.
            field: Where it is in the manifest, for error messages.

        Raises:
            MalformedManifest: A member is not a string (or ``os.features``
                not a list of strings).
        """
        return cls(
            os=_optional_str(payload, "os", f"{field}.os") or "",
            architecture=_optional_str(payload, "architecture", f"{field}.architecture") or "",
            variant=_optional_str(payload, "variant", f"{field}.variant"),
            os_version=_optional_str(payload, "os.version", f"{field}.os.version"),
            os_features=_str_list(payload, "os.features", f"{field}.os.features"),
        )

    def to_json(self) -> dict[str, Any]:
        """The ``platform`` object of an index entry."""
        out: dict[str, Any] = {"architecture": self.architecture, "os": self.os}
        if self.variant:
            out["variant"] = self.variant
        if self.os_version:
            out["os.version"] = self.os_version
        if self.os_features:
            out["os.features"] = list(self.os_features)
        return out

    def normalized(self) -> Platform:
        """The same platform, spelled the canonical way."""
        arch, variant = _normalize_arch(self.architecture, self.variant)
        return attrs.evolve(self, os=self.os.lower(), architecture=arch, variant=variant)

    def matches(self, other: Platform) -> bool:
        """Whether ``other`` (an index entry's platform) satisfies this wanted platform.

        OS and architecture must be equal after normalization; the variant too
        when this platform names one.
        """
        want, have = self.normalized(), other.normalized()
        if want.os != have.os or want.architecture != have.architecture:
            return False
        return want.variant is None or want.variant == have.variant

    def __str__(self) -> str:
        base = f"{self.os}/{self.architecture}"
        return f"{base}/{self.variant}" if self.variant else base


# ------------------------------------------------------------------ descriptors and manifests


def _descriptor_error(message: str, field: str | None = None) -> errors.MalformedManifest:
    return errors.MalformedManifest(message, field=field)


def _shape_error(field: str, expected: str, value: object) -> errors.MalformedManifest:
    """A manifest member of the wrong JSON type (``field`` is its path in the manifest)."""
    return _descriptor_error(
        f"the manifest's {field} should be {expected}, not {json_kind(value)}", field
    )


def _optional_str(payload: Mapping[str, Any], key: str, field: str) -> str | None:
    value = payload.get(key)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise _shape_error(field, "a string", value)
    return value


def _str_map(payload: Mapping[str, Any], key: str, field: str) -> dict[str, str]:
    value = payload.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise _shape_error(field, "an object of strings", value)
    for name, item in value.items():
        if not isinstance(item, str):
            raise _shape_error(f"{field}.{name}", "a string", item)
    return dict(value)


def _str_list(payload: Mapping[str, Any], key: str, field: str) -> tuple[str, ...]:
    value = payload.get(key)
    if value is None:
        return ()
    if not isinstance(value, list):
        raise _shape_error(field, "a list of strings", value)
    for i, item in enumerate(value):
        if not isinstance(item, str):
            raise _shape_error(f"{field}[{i}]", "a string", item)
    return tuple(value)


@attrs.frozen
class Descriptor:
    """A reference to content by digest: a layer, a config, a manifest in an index.

    Attributes:
        media_type: The content's media type.
        digest: The content's digest.
        size: The content's size in bytes.
        platform: For index entries, the platform of the manifest.
        annotations: The descriptor's annotations.
        artifact_type: The artifact type (referrers), if any.
        urls: Where else the content can be fetched from (foreign layers).
        raw: The descriptor's JSON object as received.
    """

    media_type: str
    digest: str
    size: int
    platform: Platform | None = None
    annotations: dict[str, str] = attrs.field(factory=dict)
    artifact_type: str | None = None
    urls: tuple[str, ...] = ()
    raw: dict[str, Any] = attrs.field(factory=dict, eq=False, repr=False)

    @classmethod
    def from_json(cls, payload: Any, field: str = "descriptor") -> Descriptor:
        """Read a descriptor object.

        Args:
            payload: The descriptor's JSON.
            field: Where it is in the manifest (``"layers[2]"``), for error messages.

        Raises:
            MalformedManifest: It is not an object, lacks a valid digest or
                size, or a member has the wrong type; ``field`` of the error
                names the member (``"layers[2].size"``).
        """
        if not isinstance(payload, dict):
            raise _shape_error(field, "an object", payload)
        digest = payload.get("digest")
        size = payload.get("size")
        if not isinstance(digest, str) or _DIGEST_RE.fullmatch(digest) is None:
            raise _descriptor_error(
                f"the manifest's {field}.digest is not a valid digest: {digest!r:.80}",
                f"{field}.digest",
            )
        if not isinstance(size, int) or isinstance(size, bool) or size < 0:
            raise _descriptor_error(
                f"the manifest's {field}.size is not a size: {size!r:.80}", f"{field}.size"
            )
        platform = payload.get("platform")
        if platform is not None and not isinstance(platform, dict):
            raise _shape_error(f"{field}.platform", "an object", platform)
        return cls(
            media_type=_optional_str(payload, "mediaType", f"{field}.mediaType") or "",
            digest=digest,
            size=size,
            platform=Platform.from_json(platform, f"{field}.platform") if platform else None,
            annotations=_str_map(payload, "annotations", f"{field}.annotations"),
            artifact_type=_optional_str(payload, "artifactType", f"{field}.artifactType"),
            urls=_str_list(payload, "urls", f"{field}.urls"),
            raw=dict(payload),
        )

    @classmethod
    def for_content(cls, media_type: str, data: bytes, **kwargs: Any) -> Descriptor:
        """A descriptor for ``data`` (its sha256 digest and size)."""
        return cls(media_type=media_type, digest=compute_digest(data), size=len(data), **kwargs)

    def to_json(self) -> dict[str, Any]:
        """The descriptor's JSON object (unknown members received are kept)."""
        out = dict(self.raw)
        out.update({"mediaType": self.media_type, "digest": self.digest, "size": self.size})
        if self.platform is not None:
            out["platform"] = self.platform.to_json()
        if self.annotations:
            out["annotations"] = dict(self.annotations)
        if self.artifact_type:
            out["artifactType"] = self.artifact_type
        if self.urls:
            out["urls"] = list(self.urls)
        return out


@attrs.frozen
class ImageManifest:
    """The manifest of one image (OCI image manifest or Docker schema 2).

    Attributes:
        media_type: The manifest's media type.
        config: The image configuration's descriptor.
        layers: The layers' descriptors, base first.
        digest: The digest of :attr:`raw`.
        raw: The manifest's exact bytes: put these, never a re-encoding.
        subject: The manifest this one refers to (OCI 1.1 referrers), if any.
        annotations: The manifest's annotations.
        artifact_type: The artifact type, if any.
    """

    media_type: str
    config: Descriptor
    layers: tuple[Descriptor, ...]
    digest: str
    raw: bytes = attrs.field(repr=False)
    subject: Descriptor | None = None
    annotations: dict[str, str] = attrs.field(factory=dict)
    artifact_type: str | None = None

    @property
    def blobs(self) -> tuple[Descriptor, ...]:
        """Every blob the manifest needs: the config, then the layers."""
        return (self.config, *self.layers)

    @property
    def size(self) -> int:
        """The manifest's size in bytes."""
        return len(self.raw)

    def descriptor(self, **kwargs: Any) -> Descriptor:
        """A descriptor of this manifest."""
        return Descriptor(self.media_type, self.digest, len(self.raw), **kwargs)

    def json(self) -> Any:
        """The manifest's JSON."""
        return json.loads(self.raw)


@attrs.frozen
class ImageIndex:
    """A multi-platform index (OCI image index or Docker manifest list).

    Attributes:
        media_type: The index's media type.
        manifests: The descriptors of the manifests it lists.
        digest: The digest of :attr:`raw`.
        raw: The index's exact bytes.
        subject: The manifest this one refers to, if any.
        annotations: The index's annotations.
        artifact_type: The artifact type, if any.
    """

    media_type: str
    manifests: tuple[Descriptor, ...]
    digest: str
    raw: bytes = attrs.field(repr=False)
    subject: Descriptor | None = None
    annotations: dict[str, str] = attrs.field(factory=dict)
    artifact_type: str | None = None

    @property
    def size(self) -> int:
        """The index's size in bytes."""
        return len(self.raw)

    @property
    def platforms(self) -> list[Platform]:
        """The platforms of the listed manifests that name one."""
        return [d.platform for d in self.manifests if d.platform is not None]

    def descriptor(self, **kwargs: Any) -> Descriptor:
        """A descriptor of this index."""
        return Descriptor(self.media_type, self.digest, len(self.raw), **kwargs)

    def json(self) -> Any:
        """The index's JSON."""
        return json.loads(self.raw)

    def select(self, platform: str | Platform) -> Descriptor:
        """The first manifest for ``platform`` (attestation entries are skipped).

        Raises:
            ManifestUnknown: No entry matches.
        """
        found = self.select_all([platform])
        if not found:
            available = ", ".join(str(p) for p in self.platforms) or "none"
            raise errors.ManifestUnknown(
                f"no manifest for platform {Platform.parse(platform)} in index {self.digest}"
                f" (available: {available})",
                status_code=404,
            )
        return found[0]

    def select_all(self, platforms: Iterable[str | Platform]) -> list[Descriptor]:
        """The entries matching any of ``platforms``, in index order (one per platform)."""
        wanted = [Platform.parse(p) for p in platforms]
        out: list[Descriptor] = []
        taken: set[int] = set()
        for want in wanted:
            for i, desc in enumerate(self.manifests):
                if i in taken or desc.platform is None:
                    continue
                if desc.platform.os == "unknown":  # buildkit attestations
                    continue
                if want.matches(desc.platform):
                    out.append(desc)
                    taken.add(i)
                    break
        return [self.manifests[i] for i in sorted(taken)]

    def filtered(self, keep: Sequence[Descriptor]) -> ImageIndex:
        """A new index listing only ``keep`` (new bytes, so a new digest)."""
        payload = self.json()
        payload["manifests"] = [d.to_json() for d in keep]
        raw = json.dumps(payload, indent=3).encode()
        return attrs.evolve(self, manifests=tuple(keep), raw=raw, digest=compute_digest(raw))


#: A manifest of either kind.
Manifest = ImageManifest | ImageIndex


def parse_manifest(
    raw: bytes, content_type: str | None = None, digest: str | None = None
) -> Manifest:
    """Read a manifest or index from its exact bytes.

    The media type is the JSON's ``mediaType`` when given, else the
    ``Content-Type`` the registry sent, else guessed from the members.

    Args:
        raw: The bytes.
        content_type: The ``Content-Type`` of the answer, if any.
        digest: The digest to record (computed from ``raw`` when ``None``).

    Raises:
        MalformedManifest: Not JSON, schema 1, missing members, or members of
            the wrong type (the error's ``field`` names the member). A
            :class:`~pydock.errors.ManifestInvalid` and a
            :class:`~pydock.errors.ProtocolError`.
    """
    try:
        payload = json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise _descriptor_error(f"the manifest is not valid JSON: {exc}") from exc
    if not isinstance(payload, dict):
        raise _shape_error("top level", "an object", payload)
    media_type = payload.get("mediaType")
    if media_type is not None and not isinstance(media_type, str):
        raise _shape_error("mediaType", "a string", media_type)
    if not media_type:
        ct = (content_type or "").split(";")[0].strip()
        if ct in MANIFEST_MEDIA_TYPES:
            media_type = ct
        elif "manifests" in payload:
            media_type = OCI_INDEX
        elif "config" in payload:
            media_type = OCI_MANIFEST
        else:
            media_type = ct
    if payload.get("schemaVersion") == 1:
        raise _descriptor_error("docker schema 1 manifests are not supported")
    digest = digest or compute_digest(raw)
    subject = payload.get("subject")
    common: dict[str, Any] = {
        "digest": digest,
        "raw": raw,
        "subject": Descriptor.from_json(subject, "subject") if subject is not None else None,
        "annotations": _str_map(payload, "annotations", "annotations"),
        "artifact_type": _optional_str(payload, "artifactType", "artifactType"),
    }
    if media_type in INDEX_MEDIA_TYPES or ("manifests" in payload and "config" not in payload):
        manifests = payload.get("manifests")
        if not isinstance(manifests, list):
            raise _descriptor_error("the index has no manifests list", "manifests")
        return ImageIndex(
            media_type=media_type,
            manifests=tuple(
                Descriptor.from_json(m, f"manifests[{i}]") for i, m in enumerate(manifests)
            ),
            **common,
        )
    if "config" not in payload:
        raise _descriptor_error(
            f"the manifest ({media_type or 'no media type'}) has no config", "config"
        )
    layers = payload.get("layers")
    if layers is None:
        layers = []
    if not isinstance(layers, list):
        raise _shape_error("layers", "a list", layers)
    return ImageManifest(
        media_type=media_type,
        config=Descriptor.from_json(payload["config"], "config"),
        layers=tuple(Descriptor.from_json(layer, f"layers[{i}]") for i, layer in enumerate(layers)),
        **common,
    )


def layout_index(entries: Sequence[Descriptor]) -> bytes:
    """The ``index.json`` of an OCI image layout listing ``entries``."""
    payload = {
        "schemaVersion": 2,
        "mediaType": OCI_INDEX,
        "manifests": [d.to_json() for d in entries],
    }
    return json.dumps(payload, indent=2).encode() + b"\n"


# --------------------------------------------------------------------------- hosts and URLs


def base_urls(host: str, *, insecure: bool = False, tls: bool | None = None) -> list[str]:
    """The base URLs to try for a registry, in order.

    ``https://`` always; plain ``http://`` as a fallback only for loopback
    hosts or with ``insecure``. A host given with a scheme is used as is.

    Args:
        host: ``host[:port]``, or a URL.
        insecure: Allow plain HTTP for any host.
        tls: ``True`` forces HTTPS only (a CA was given), ``False`` HTTP only.
    """
    if host.startswith(("http://", "https://")):
        return [host.rstrip("/")]
    if tls is True:
        return [f"https://{host}"]
    if tls is False:
        return [f"http://{host}"]
    urls = [f"https://{host}"]
    if insecure or is_loopback(host):
        urls.append(f"http://{host}")
    return urls


def next_page_url(current: str, link: str | None) -> str | None:
    """The absolute URL of the next page named by a ``Link`` header, or ``None``."""
    target = parse_link_next(link)
    return urllib.parse.urljoin(current, target) if target else None


def resolve_location(current: str, location: str) -> str:
    """An upload ``Location`` made absolute (registries may send a path).

    Raises:
        ProtocolError: It is empty, or not an ``http(s)`` URL once resolved
            (``field`` is ``"Location"``).
    """
    resolved = urllib.parse.urljoin(current, location.strip())
    parts = urllib.parse.urlsplit(resolved)
    if not location.strip() or parts.scheme not in ("http", "https") or not parts.hostname:
        raise errors.ProtocolError(
            f"the registry sent an unusable upload Location: {location!r:.80}", field="Location"
        )
    return resolved


def parse_listing(body: bytes, key: str) -> list[str]:
    """The names in a ``tags/list`` or ``_catalog`` answer: ``{"<key>": [...]}``.

    A missing or ``null`` member is an empty list (registries send
    ``"tags": null`` for a repository without tags).

    Raises:
        ProtocolError: Not a JSON object, or ``key`` is not a list of strings
            (``field`` names it: ``"tags"``, ``"tags[3]"``).
    """
    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise errors.ProtocolError(
            f"the registry's {key} listing is not JSON: {exc}", field=key
        ) from exc
    if not isinstance(payload, dict):
        raise errors.ProtocolError(
            f"the registry's {key} listing should be an object, not {json_kind(payload)}",
            field=key,
        )
    items = payload.get(key)
    if items is None:
        return []
    if not isinstance(items, list):
        raise errors.ProtocolError(
            f"the registry's {key} should be a list, not {json_kind(items)}", field=key
        )
    for i, item in enumerate(items):
        if not isinstance(item, str):
            raise errors.ProtocolError(
                f"the registry's {key}[{i}] should be a string, not {json_kind(item)}",
                field=f"{key}[{i}]",
            )
    return list(items)


def parse_digest_header(value: str | None) -> str | None:
    """The ``Docker-Content-Digest`` header's digest, ``None`` when there is none.

    Raises:
        ProtocolError: It is not a sha256 or sha512 digest (``field`` is
            ``"Docker-Content-Digest"``).
    """
    if value is None or not value.strip():
        return None
    if _DIGEST_RE.fullmatch(value.strip()) is None:
        raise errors.ProtocolError(
            f"the registry sent a Docker-Content-Digest that is not a digest: {value!r:.80}",
            field="Docker-Content-Digest",
        )
    return value.strip()


def upload_finish_url(location: str, digest: str) -> str:
    """The ``PUT`` URL closing an upload: ``Location`` with ``digest=`` added to its query.

    The upload URL's own query (``_state`` on the CNCF registry) must be kept.
    """
    parts = urllib.parse.urlsplit(location)
    query = urllib.parse.parse_qsl(parts.query, keep_blank_values=True)
    query = [(k, v) for k, v in query if k != "digest"] + [("digest", digest)]
    return urllib.parse.urlunsplit(parts._replace(query=urllib.parse.urlencode(query)))


def same_origin(a: str, b: str) -> bool:
    """Whether two URLs share scheme, host and port (a redirect may keep credentials)."""
    pa, pb = urllib.parse.urlsplit(a), urllib.parse.urlsplit(b)

    def port(p: urllib.parse.SplitResult) -> int | None:
        return p.port or {"http": 80, "https": 443}.get(p.scheme)

    return (pa.scheme, pa.hostname, port(pa)) == (pb.scheme, pb.hostname, port(pb))


def content_range(start: int, length: int) -> str:
    """The ``Content-Range`` of a ``PATCH`` chunk: ``<start>-<end>``, end inclusive."""
    return f"{start}-{start + length - 1}"


def parse_range_end(value: str | None, *, limit: int | None = None) -> int | None:
    """The next offset an upload expects, from its ``Range: 0-<last>`` header.

    Args:
        value: The header's value, or ``None`` when there is none.
        limit: The most the upload can hold (the bytes sent so far, or the
            blob's size): a ``Range`` beyond it is refused.

    Returns:
        ``last + 1``, except for ``0-0`` (and ``0--1``), which the CNCF
        registry sends both for an empty upload and after one byte: it is
        read as ``0``. ``None`` when there is no header.

    Raises:
        ProtocolError: The header is not ``0-<last>`` or goes beyond ``limit``
            (``field`` is ``"Range"``).
    """
    if value is None or not value.strip():
        return None
    m = re.fullmatch(r"\s*(?:bytes[= ])?\s*(\d{1,19})-(-1|\d{1,19})\s*", value)
    if m is None or int(m[1]) != 0:
        raise errors.ProtocolError(
            f"the registry sent an upload Range that is not 0-<last>: {value!r:.80}",
            field="Range",
        )
    end = int(m[2])
    offset = end + 1 if end > 0 else 0
    if limit is not None and offset > limit:
        raise errors.ProtocolError(
            f"the registry's upload Range {value!r:.80} claims more than the {limit} bytes sent",
            field="Range",
        )
    return offset


def chunk_size(requested: int, min_length: str | None) -> int:
    """The chunk size for a chunked upload, at least ``OCI-Chunk-Min-Length``."""
    try:
        minimum = int(min_length) if min_length else 0
    except ValueError:
        minimum = 0
    return max(requested, minimum, 1)


CopyPhase = Literal["exists", "mounted", "copying", "done"]


@attrs.frozen
class CopyProgress:
    """One step of a registry-to-registry copy (``Registry.begin_copy``).

    Every blob gets either ``"exists"`` (the destination has it: skipped),
    ``"mounted"`` (mounted from another repository of the same registry), or
    ``"copying"`` events as its bytes move, then ``"done"`` once the
    destination has committed it. Each manifest put gets one ``"done"``.

    Attributes:
        digest: The digest of the blob or manifest.
        phase: ``"exists"``, ``"mounted"``, ``"copying"`` or ``"done"``.
        done: Bytes sent so far (the full size once skipped, mounted or done).
        total: The size of the blob or manifest.
        media_type: Its media type.
    """

    digest: str
    phase: CopyPhase
    done: int
    total: int
    media_type: str = ""


# --------------------------------------------------------------------------- scopes

ScopeItem = tuple[str, str, str]


def repository_scope(repository: str, *actions: str) -> str:
    """``repository:<name>:<actions>``: e.g. ``repository:demo/app:pull,push``."""
    return f"repository:{repository}:{','.join(actions)}"


def _scope_items(scopes: Iterable[str]) -> frozenset[ScopeItem]:
    items: set[ScopeItem] = set()
    for scope in scopes:
        for part in scope.split():
            kind, sep, rest = part.partition(":")
            name, sep2, actions = rest.rpartition(":")
            if not sep or not sep2:
                continue
            for action in actions.split(","):
                if action:
                    items.add((kind, name, action))
    return frozenset(items)


def _format_scopes(items: Iterable[ScopeItem]) -> list[str]:
    grouped: dict[tuple[str, str], set[str]] = {}
    for kind, name, action in items:
        grouped.setdefault((kind, name), set()).add(action)
    order = {"pull": 0, "push": 1, "delete": 2}
    return [
        f"{kind}:{name}:{','.join(sorted(actions, key=lambda a: (order.get(a, 9), a)))}"
        for (kind, name), actions in sorted(grouped.items())
    ]


def merge_scopes(*groups: Iterable[str]) -> list[str]:
    """Merge scopes, actions of the same resource joined: one scope per resource, sorted."""
    return _format_scopes(_scope_items(s for group in groups for s in group))


# --------------------------------------------------------------------------- auth flow


def realm_refusal(
    realm: str, registry: str, *, plain_http_ok: bool, sends_credentials: bool
) -> str | None:
    """Why a token request must not go to ``realm``, or ``None`` when it may.

    The rules (those of regclient and the hardened docker CLI):

    * the realm must be an ``http(s)`` URL;
    * an HTTPS registry's token service must use HTTPS too (no downgrade),
      with or without credentials;
    * credentials (a password, a refresh token) go over plain HTTP only when
      the registry itself is an allowed plain-HTTP host (loopback, or
      ``insecure=True``) and the realm is on that same host;
    * credentials go to a token service on another host only over HTTPS.

    Args:
        realm: The ``realm`` of the registry's Bearer challenge.
        registry: The registry's base URL (``https://host:port``).
        plain_http_ok: The registry is allowed plain HTTP (loopback or insecure).
        sends_credentials: The token request would carry credentials.
    """
    r = urllib.parse.urlsplit(realm)
    g = urllib.parse.urlsplit(registry)
    if r.scheme not in ("http", "https") or not r.hostname:
        return "the token service is not an http(s) URL"
    if r.scheme == "https":
        return None
    if g.scheme != "http":
        return "an HTTPS registry's token service must use HTTPS too"
    if not sends_credentials:
        return None
    if not plain_http_ok:
        return "credentials go over plain HTTP only to a loopback or insecure registry's host"
    if (r.hostname or "").lower() != (g.hostname or "").lower():
        return "credentials go to a token service on another host only over HTTPS"
    return None


@attrs.frozen(repr=False)
class TokenRequest:
    """A request to the token service that :class:`AuthState` wants sent.

    Send it as is (no other credentials), then give the answer to
    :meth:`AuthState.on_token_response`.
    """

    method: Literal["GET", "POST"]
    url: str
    params: tuple[tuple[str, str], ...] = ()
    form: tuple[tuple[str, str], ...] = ()
    headers: tuple[tuple[str, str], ...] = ()
    scopes: frozenset[ScopeItem] = frozenset()

    def __repr__(self) -> str:
        return f"TokenRequest({self.method} {self.url}, scopes={sorted(self.scopes)})"


@attrs.frozen(repr=False)
class Token:
    """A bearer token, the scopes it was asked for, and when it stops being usable."""

    value: str
    scopes: frozenset[ScopeItem]
    expires_at: float

    def __repr__(self) -> str:
        return f"Token(scopes={sorted(self.scopes)}, expires_at={self.expires_at})"


@attrs.frozen
class AuthAction:
    """What to do after a 401.

    Attributes:
        kind: ``"retry"`` (send again: the credentials to use changed),
            ``"token"`` (send :attr:`token_request` first, then retry), or
            ``"fail"`` (nothing more to try: raise the 401).
        token_request: The token request for ``"token"``.
    """

    kind: Literal["retry", "token", "fail"]
    token_request: TokenRequest | None = None


#: What a token may be made of: visible ASCII (it goes into a header as is).
_TOKEN_CHARS = re.compile(r"[\x21-\x7e]{1,65536}")
#: Seconds before its expiry that a token is no longer used.
TOKEN_EXPIRY_MARGIN = 5.0
#: The lifetime of a token that does not say (the spec's default).
DEFAULT_TOKEN_LIFETIME = 60.0


def _basic(username: str, password: str) -> str:
    raw = f"{username}:{password}".encode()
    return "Basic " + base64.b64encode(raw).decode("ascii")


class AuthState:
    """The auth decisions for one registry: which header to send, when to get a token.

    Use: before each request, :meth:`authorization` gives the header for the
    scopes the request needs (or :meth:`token_request_for` says a token must
    be fetched first, when the registry is known to want one). On a 401, give
    the ``WWW-Authenticate`` header to :meth:`on_unauthorized`; on a token
    service answer, call :meth:`on_token_response`.

    Args:
        credentials: What to authenticate with; ``None`` for anonymous access.
        client_id: The OAuth2 ``client_id`` sent to token services.
    """

    def __init__(
        self, credentials: RegistryAuth | None = None, *, client_id: str = "pydock"
    ) -> None:
        self.client_id = client_id
        self._credentials = credentials
        self._scheme: Literal["basic", "bearer"] | None = None
        self._bearer: Challenge | None = None
        self._tokens: dict[frozenset[ScopeItem], Token] = {}
        self._refresh_token: str | None = credentials.identitytoken if credentials else None
        self._oauth_unsupported = False
        self._registry: str | None = None
        self._plain_http_ok = False

    def bind(self, registry: str, *, plain_http_ok: bool) -> None:
        """Say which registry this state serves, so token services are checked against it.

        Args:
            registry: The registry's base URL (``https://host:port``).
            plain_http_ok: The registry is allowed plain HTTP (loopback or
                ``insecure=True``); credentials may then go to a plain-HTTP
                token service on the same host.
        """
        self._registry = registry
        self._plain_http_ok = plain_http_ok

    @property
    def credentials(self) -> RegistryAuth | None:
        """The credentials in use."""
        return self._credentials

    @credentials.setter
    def credentials(self, value: RegistryAuth | None) -> None:
        self._credentials = value
        self._refresh_token = value.identitytoken if value else None
        self._tokens.clear()

    @property
    def scheme(self) -> str | None:
        """``"basic"`` or ``"bearer"`` once the registry said which, else ``None``."""
        return self._scheme

    def _has_password(self) -> bool:
        c = self._credentials
        return c is not None and bool(c.username) and c.password is not None

    def _cached(self, needed: frozenset[ScopeItem], now: float) -> Token | None:
        for key, token in list(self._tokens.items()):
            if token.expires_at <= now:
                del self._tokens[key]
            elif needed <= key:
                return token
        return None

    def authorization(self, scopes: Iterable[str], *, now: float) -> str | None:
        """The ``Authorization`` header for a request needing ``scopes``, if there is one.

        Raises:
            RegistryError: There are credentials to send, but the registry is
                plain HTTP on a host that is neither loopback nor insecure
                (``code`` ``"INSECURE_REGISTRY"``).
        """
        header = self._authorization(scopes, now)
        registry = self._registry or ""
        if header is not None and registry.startswith("http:") and not self._plain_http_ok:
            raise errors.RegistryError(
                f"refusing to send credentials over plain HTTP to {registry}:"
                " it is neither a loopback host nor insecure=True",
                status_code=401,
                code="INSECURE_REGISTRY",
            )
        return header

    def _authorization(self, scopes: Iterable[str], now: float) -> str | None:
        c = self._credentials
        if c is not None and c.registrytoken:
            return f"Bearer {c.registrytoken}"
        if self._scheme == "basic" and self._has_password():
            assert c is not None
            assert c.username is not None
            assert c.password is not None
            return _basic(c.username, c.password)
        if self._scheme == "bearer":
            token = self._cached(_scope_items(scopes), now)
            if token is not None:
                return f"Bearer {token.value}"
        return None

    def token_request_for(self, scopes: Iterable[str], *, now: float) -> TokenRequest | None:
        """A token request to send before a request needing ``scopes``, or ``None``.

        Only once the registry is known to use Bearer tokens and no cached
        token covers the scopes.
        """
        if self._scheme != "bearer" or self._bearer is None:
            return None
        c = self._credentials
        if c is not None and c.registrytoken:
            return None
        needed = _scope_items(scopes)
        if self._cached(needed, now) is not None:
            return None
        return self._token_request(needed)

    def on_unauthorized(
        self,
        www_authenticate: str | None,
        scopes: Iterable[str],
        *,
        sent_authorization: str | None,
        now: float,
    ) -> AuthAction:
        """Decide what to do about a 401 answer.

        Args:
            www_authenticate: The answer's ``WWW-Authenticate`` header(s), joined.
            scopes: The scopes the request was believed to need.
            sent_authorization: The ``Authorization`` header that was sent, if any.
            now: The current (monotonic) time.
        """
        challenges = parse_www_authenticate(www_authenticate or "")
        bearer = next((c for c in challenges if c.scheme == "bearer"), None)
        basic = next((c for c in challenges if c.scheme == "basic"), None)
        if bearer is not None and bearer.realm:
            self._scheme = "bearer"
            self._bearer = bearer
            needed = _scope_items(scopes) | _scope_items(bearer.scopes)
            error = bearer.params.get("error", "")
            used: Token | None = None
            if sent_authorization and sent_authorization.startswith("Bearer "):
                value = sent_authorization[len("Bearer ") :]
                for key, token in list(self._tokens.items()):
                    if token.value == value:
                        used = token
                        del self._tokens[key]  # rejected: never send it again
            if used is not None:
                if error == "insufficient_scope":
                    needed |= used.scopes  # escalate: keep what the token had
                elif needed <= used.scopes and error != "invalid_token":
                    return AuthAction("fail")  # a fresh token for these scopes was refused
            c = self._credentials
            if c is not None and c.registrytoken:
                return AuthAction("fail")
            return AuthAction("token", self._token_request(needed))
        if basic is not None:
            if self._has_password() and not (sent_authorization or "").startswith("Basic "):
                self._scheme = "basic"
                return AuthAction("retry")
            self._scheme = "basic"
        return AuthAction("fail")

    def _token_request(self, needed: frozenset[ScopeItem]) -> TokenRequest:
        assert self._bearer is not None
        assert self._bearer.realm is not None
        realm = self._bearer.realm
        service = self._bearer.service
        scope_list = _format_scopes(needed)
        c = self._credentials
        if self._refresh_token and not self._oauth_unsupported:
            form: list[tuple[str, str]] = [
                ("grant_type", "refresh_token"),
                ("refresh_token", self._refresh_token),
                ("client_id", self.client_id),
            ]
            if service:
                form.append(("service", service))
            if scope_list:
                form.append(("scope", " ".join(scope_list)))
            self._check_realm(realm, sends_credentials=True)
            return TokenRequest("POST", realm, form=tuple(form), scopes=needed)
        params: list[tuple[str, str]] = []
        if service:
            params.append(("service", service))
        params.extend(("scope", s) for s in scope_list)
        headers: tuple[tuple[str, str], ...] = ()
        if c is not None and c.username and c.password is not None:
            params.append(("account", c.username))
            headers = (("Authorization", _basic(c.username, c.password)),)
        elif self._refresh_token:
            headers = (("Authorization", _basic("<token>", self._refresh_token)),)
        params.append(("client_id", self.client_id))
        self._check_realm(realm, sends_credentials=bool(headers))
        return TokenRequest("GET", realm, params=tuple(params), headers=headers, scopes=needed)

    def _check_realm(self, realm: str, *, sends_credentials: bool) -> None:
        """Refuse a token service the rules of :func:`realm_refusal` forbid."""
        if self._registry is None:
            return
        why = realm_refusal(
            realm,
            self._registry,
            plain_http_ok=self._plain_http_ok,
            sends_credentials=sends_credentials,
        )
        if why is not None:
            raise errors.RegistryError(
                f"refusing the token service {realm!r:.200} of {self._registry}: {why}",
                status_code=401,
                code="INSECURE_REALM",
            )

    def on_token_response(
        self, request: TokenRequest, status: int, body: bytes, *, now: float
    ) -> Token | TokenRequest:
        """Take the token service's answer.

        Returns:
            The token (now cached), or another request to send (a GET after a
            POST answered 404: the service does not do OAuth2).

        Raises:
            RegistryError: The service refused (401 is
                :class:`~pydock.errors.RegistryUnauthorized`), or answered
                without a token.
        """
        path = urllib.parse.urlsplit(request.url).path or "/"
        if request.method == "POST" and status in (404, 405):
            self._oauth_unsupported = True
            return self._token_request(request.scopes)
        if status >= 400:
            raise registry_error(status, body, method=request.method, path=path)
        try:
            payload = json.loads(body)
        except (ValueError, UnicodeDecodeError, RecursionError):
            payload = None
        if not isinstance(payload, dict):
            what = "JSON" if payload is None else "a JSON object"
            raise errors.ProtocolError(
                f"the token service answered without {what}",
                field="token",
                method=request.method,
                path=path,
            )

        def shape(field: str, message: str) -> errors.ProtocolError:
            return errors.ProtocolError(
                f"the token service's {field} {message}",
                field=field,
                method=request.method,
                path=path,
            )

        value: Any = None
        for field in ("token", "access_token"):
            candidate = payload.get(field)
            if candidate is None or candidate == "":
                continue
            if not isinstance(candidate, str):
                raise shape(field, f"should be a string, not {json_kind(candidate)}")
            if not _TOKEN_CHARS.fullmatch(candidate):
                raise shape(field, "has characters a token cannot have")
            value = candidate
            break
        if value is None:
            raise errors.RegistryUnauthorized(
                "the token service answered without a token",
                status_code=status,
                method=request.method,
                path=path,
            )
        lifetime = payload.get("expires_in")
        if lifetime is not None and (
            not isinstance(lifetime, (int, float)) or isinstance(lifetime, bool)
        ):
            raise shape("expires_in", f"should be a number, not {json_kind(lifetime)}")
        if lifetime is None or not 0 < lifetime < 1e9:
            lifetime = DEFAULT_TOKEN_LIFETIME
        refresh = payload.get("refresh_token")
        if refresh is not None and not isinstance(refresh, str):
            raise shape("refresh_token", f"should be a string, not {json_kind(refresh)}")
        if refresh:
            self._refresh_token = refresh
        margin = min(TOKEN_EXPIRY_MARGIN, float(lifetime) / 4)
        token = Token(value, request.scopes, now + float(lifetime) - margin)
        self._tokens[request.scopes] = token
        return token

    @property
    def refresh_token(self) -> str | None:
        """The OAuth2 refresh token, given or received (store it as ``identitytoken``)."""
        return self._refresh_token
