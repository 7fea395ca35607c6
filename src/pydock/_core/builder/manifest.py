"""Media types, image manifests, and what a finished build reports."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any, Literal

import attrs

from pydock._core.registry import DOCKER_MANIFEST, OCI_MANIFEST, Descriptor, ImageManifest

__all__ = [
    "DOCKER_CONFIG_TYPE",
    "DOCKER_LAYER_GZIP",
    "OCI_CONFIG_TYPE",
    "OCI_LAYER",
    "OCI_LAYER_GZIP",
    "BuildResult",
    "LayerBlob",
    "ManifestFormat",
    "choose_manifest_type",
    "config_media_type",
    "convert_descriptor",
    "image_manifest",
    "layer_media_type",
]

OCI_CONFIG_TYPE = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar"
OCI_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"
DOCKER_CONFIG_TYPE = "application/vnd.docker.container.image.v1+json"
DOCKER_LAYER_GZIP = "application/vnd.docker.image.rootfs.diff.tar.gzip"
_DOCKER_LAYER = "application/vnd.docker.image.rootfs.diff.tar"
_DOCKER_FOREIGN = "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip"
_OCI_FOREIGN = "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip"
#: Media types with the same meaning in the two manifest formats.
_TO_OCI = {
    DOCKER_CONFIG_TYPE: OCI_CONFIG_TYPE,
    DOCKER_LAYER_GZIP: OCI_LAYER_GZIP,
    _DOCKER_LAYER: OCI_LAYER,
    _DOCKER_FOREIGN: _OCI_FOREIGN,
}
_TO_DOCKER = {v: k for k, v in _TO_OCI.items()}


ManifestFormat = Literal["auto", "oci", "docker"]


@attrs.frozen
class LayerBlob:
    """A layer as built: its blob and what the image config records of it.

    Attributes:
        digest: The digest of the blob (compressed) as uploaded.
        diff_id: The digest of the uncompressed tar (``rootfs.diff_ids``).
        size: The blob's size in bytes.
        media_type: The blob's media type.
    """

    digest: str
    diff_id: str
    size: int
    media_type: str

    def descriptor(self) -> Descriptor:
        """The layer's descriptor in a manifest."""
        return Descriptor(self.media_type, self.digest, self.size)


@attrs.frozen
class BuildResult:
    """An image assembled (and pushed) by :class:`~pydock.ImageBuilder`.

    Attributes:
        reference: Where it was pushed (``host/repo:tag``), or ``None``.
        digest: The manifest's digest: pull ``repo@digest`` to get exactly it.
        manifest: The image manifest put.
        config: The image config, as JSON.
        config_digest: The config blob's digest (the image ID engines show).
        layers: Every layer, base layers first.
    """

    reference: str | None
    digest: str
    manifest: ImageManifest
    config: dict[str, Any] = attrs.field(repr=False)
    config_digest: str
    layers: tuple[LayerBlob, ...]


def config_media_type(manifest_type: str) -> str:
    """The config media type that goes with a manifest media type."""
    return DOCKER_CONFIG_TYPE if manifest_type == DOCKER_MANIFEST else OCI_CONFIG_TYPE


def layer_media_type(manifest_type: str, *, compressed: bool) -> str:
    """The media type of a new layer in a manifest of ``manifest_type``.

    Raises:
        ValueError: An uncompressed layer in a Docker manifest.
    """
    if manifest_type == DOCKER_MANIFEST:
        if not compressed:
            raise ValueError("Docker schema 2 manifests need gzip layers: use the OCI format")
        return DOCKER_LAYER_GZIP
    return OCI_LAYER_GZIP if compressed else OCI_LAYER


def convert_descriptor(desc: Descriptor, manifest_type: str) -> Descriptor:
    """A base layer's descriptor with its media type spelled for ``manifest_type``."""
    table = _TO_DOCKER if manifest_type == DOCKER_MANIFEST else _TO_OCI
    media = table.get(desc.media_type, desc.media_type)
    return desc if media == desc.media_type else attrs.evolve(desc, media_type=media)


def choose_manifest_type(fmt: ManifestFormat, base: ImageManifest | None) -> str:
    """The manifest media type to produce: OCI, Docker schema 2, or the base's (``auto``)."""
    if fmt == "oci":
        return OCI_MANIFEST
    if fmt == "docker":
        return DOCKER_MANIFEST
    if fmt != "auto":
        raise ValueError(f"manifest_format is 'auto', 'oci' or 'docker', not {fmt!r}")
    return (
        DOCKER_MANIFEST if base is not None and base.media_type == DOCKER_MANIFEST else OCI_MANIFEST
    )


def image_manifest(
    manifest_type: str,
    config: Descriptor,
    layers: Sequence[Descriptor],
    *,
    annotations: Mapping[str, str] | None = None,
) -> bytes:
    """The bytes of an image manifest (compact JSON, fixed key order).

    Raises:
        ValueError: Annotations in a Docker schema 2 manifest.
    """
    payload: dict[str, Any] = {"schemaVersion": 2, "mediaType": manifest_type}
    payload["config"] = {
        "mediaType": config.media_type,
        "digest": config.digest,
        "size": config.size,
    }
    payload["layers"] = [convert_descriptor(d, manifest_type).to_json() for d in layers]
    if annotations:
        if manifest_type == DOCKER_MANIFEST:
            raise ValueError("Docker schema 2 manifests have no annotations: use the OCI format")
        payload["annotations"] = dict(sorted(annotations.items()))
    return json.dumps(payload, separators=(",", ":")).encode()
