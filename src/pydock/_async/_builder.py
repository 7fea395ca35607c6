"""Daemonless image assembly: build layers locally, push them straight to a registry.

What goes into an image (deterministic tars, the config, the manifest, what a
Dockerfile means) is decided in :mod:`pydock._core.builder`; this module reads
the base image, writes each layer to a temporary file while hashing it, and
uploads blobs and the manifest with :class:`~pydock.AsyncRegistry`. The sync
twin is generated from it.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import hashlib
import json
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs

from pydock import errors
from pydock._async._backend import to_thread
from pydock._async._registry import AsyncRegistry
from pydock._core.builder import (
    ArchiveStep,
    BuildResult,
    ConfigStep,
    ContextCopyStep,
    ContextFiles,
    FilesStep,
    GzipStream,
    ImagePlan,
    ImageState,
    LayerBlob,
    LayerEntry,
    ManifestFormat,
    Step,
    choose_manifest_type,
    config_media_type,
    convert_descriptor,
    dockerfile_plan,
    image_manifest,
    iter_layer,
    layer_media_type,
    plan_context_copy,
    plan_files,
)
from pydock._core.dockerfile import Dockerfile
from pydock._core.reference import ImageReference
from pydock._core.registry import Descriptor, ImageManifest, Platform, parse_manifest

__all__ = ["AsyncImageBuilder"]

#: Tar bytes gathered before each compression call.
_BATCH = 1 << 20


def _layer_sources(
    step: Step, state: ImageState, contexts: dict[str, ContextFiles]
) -> tuple[list[LayerEntry], list[tuple[str, str, tuple[int, int] | None]]]:
    if isinstance(step, FilesStep):
        return plan_files(step, state), []
    if isinstance(step, ArchiveStep):
        return [], [(step.path, state.resolve(step.dest), step.owner)]
    assert isinstance(step, ContextCopyStep)
    files = contexts.get(step.context)
    if files is None:
        files = contexts[step.context] = ContextFiles(step.context)
    return plan_context_copy(step, state, files)


def _write_layer(
    step: Step,
    state: ImageState,
    directory: str,
    level: int | None,
    media_type: str,
    contexts: dict[str, ContextFiles],
) -> tuple[LayerBlob, str]:
    """Write one layer's blob to a new file in ``directory``, hashing as it goes.

    Runs in a worker thread. The file is removed if anything fails.
    """
    entries, archives = _layer_sources(step, state, contexts)
    fd, path = tempfile.mkstemp(dir=directory, suffix=".layer")
    workers = max(1, min(4, os.cpu_count() or 1))
    try:
        diff = hashlib.sha256()
        blob = hashlib.sha256()
        size = 0
        with (
            concurrent.futures.ThreadPoolExecutor(workers, "pydock-gzip") as pool,
            os.fdopen(fd, "wb") as out,
        ):
            gzip = (
                GzipStream(level, executor=pool, in_flight=2 * workers)
                if level is not None
                else None
            )
            pending: list[bytes] = []
            buffered = 0

            def flush(final: bool) -> None:
                nonlocal size, buffered
                data = b"".join(pending)
                pending.clear()
                buffered = 0
                diff.update(data)
                if gzip is not None:
                    data = gzip.feed(data)
                    if final:
                        data += gzip.finish()
                if data:
                    blob.update(data)
                    out.write(data)
                    size += len(data)

            for piece in iter_layer(entries, archives):
                pending.append(piece)
                buffered += len(piece)
                if buffered >= _BATCH:
                    flush(False)
            flush(True)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(path)
        raise
    layer = LayerBlob(
        digest=f"sha256:{blob.hexdigest()}",
        diff_id=f"sha256:{diff.hexdigest()}",
        size=size,
        media_type=media_type,
    )
    return layer, path


def _read_dockerfile(root: str) -> str:
    with open(os.path.join(root, "Dockerfile"), encoding="utf-8") as f:
        return f.read()


@attrs.frozen
class _Base:
    """The base image as found in its registry."""

    registry: AsyncRegistry
    repository: str
    manifest: ImageManifest
    config: dict[str, Any]


@attrs.frozen
class AsyncImageBuilder(ImagePlan):
    """Assemble an image with no engine and push it to a registry (like ``crane append``).

    A builder is an immutable plan: :meth:`from_image`, :meth:`scratch` or
    :meth:`from_dockerfile` start one; ``add_files``, ``add_path``,
    ``add_archive``, ``env``, ``cmd``, ``entrypoint``, ``workdir``, ``user``,
    ``expose``, ``label``, ``volume`` (see :class:`ImagePlan`) each return a
    new one; :meth:`push` does the work. Layers are deterministic tars (sorted,
    fixed timestamps and owners, gzip with a fixed header): the same inputs
    give the same digests.

    Example:
        >>> builder = (
        ...     AsyncImageBuilder.from_image("127.0.0.1:5000/base/busybox:1")
        ...     .add_files({"/app/hello.txt": b"hello\\n"}, uid=1000, gid=1000)
        ...     .env(GREETING="hi").workdir("/app").user("1000").cmd(["cat", "hello.txt"])
        ... )
        >>> result = await builder.push("127.0.0.1:5000/demo/hello:1")  # doctest: +SKIP

    Attributes:
        registry: The client used to read the base image (when it is on the
            same registry) and, unless :meth:`push` is given another, to push.
    """

    registry: AsyncRegistry | None = attrs.field(default=None, kw_only=True, eq=False, repr=False)

    # -- starting points -----------------------------------------------------

    @classmethod
    def scratch(
        cls,
        *,
        platform: str | Platform | None = None,
        timestamp: int = 0,
        manifest_format: ManifestFormat = "auto",
        compression_level: int | None = 6,
        registry: AsyncRegistry | None = None,
    ) -> AsyncImageBuilder:
        """Start an empty image (``FROM scratch``).

        Args:
            platform: ``os/arch[/variant]`` recorded in the config (default: this machine's).
            timestamp: Unix seconds for ``created``, history and file mtimes.
            manifest_format: ``"oci"`` (the default from scratch) or ``"docker"``.
            compression_level: gzip level of layers, or ``None`` for plain tars.
            registry: The client to push with.
        """
        return cls(
            None,
            platform,
            timestamp=timestamp,
            manifest_format=manifest_format,
            compression_level=compression_level,
            registry=registry,
        )

    @classmethod
    def from_image(
        cls,
        base: str | ImageReference,
        *,
        registry: AsyncRegistry | None = None,
        platform: str | Platform | None = None,
        timestamp: int = 0,
        manifest_format: ManifestFormat = "auto",
        compression_level: int | None = 6,
    ) -> AsyncImageBuilder:
        """Start from an image in a registry (read when :meth:`push` runs).

        Args:
            base: ``host/repo:tag`` or ``host/repo@digest``.
            registry: A client for the base's registry (else one is made with
                credentials from docker's config); also used to push to that registry.
            platform: The platform to pick when the base is an index (default:
                this machine's).
            timestamp: Unix seconds for ``created``, history and file mtimes.
            manifest_format: ``"auto"`` keeps the base's format.
            compression_level: gzip level of new layers, or ``None``.

        Raises:
            InvalidReference: ``base`` is not a valid reference.
        """
        ref = base if isinstance(base, ImageReference) else ImageReference.parse(base)
        return cls(
            str(ref),
            platform,
            timestamp=timestamp,
            manifest_format=manifest_format,
            compression_level=compression_level,
            registry=registry,
        )

    @classmethod
    def from_dockerfile(
        cls,
        context: str | os.PathLike[str],
        dockerfile: Dockerfile | str | None = None,
        *,
        build_args: Mapping[str, str] | None = None,
        registry: AsyncRegistry | None = None,
        platform: str | Platform | None = None,
        timestamp: int = 0,
        manifest_format: ManifestFormat = "auto",
        compression_level: int | None = 6,
    ) -> AsyncImageBuilder:
        """Plan a Dockerfile that has no ``RUN``: ``FROM`` a registry image or scratch,
        ``COPY``/``ADD`` from ``context`` (honouring its ``.dockerignore``; a local
        tar given to ``ADD`` is extracted), ``ENV``, ``ARG``, ``LABEL``, ``USER``,
        ``WORKDIR``, ``EXPOSE``, ``VOLUME``, ``CMD``, ``ENTRYPOINT`` (shell form wrapped
        in ``/bin/sh -c`` or the ``SHELL``), ``STOPSIGNAL``, ``HEALTHCHECK``, ``ONBUILD``.

        Args:
            context: The build context folder.
            dockerfile: A :class:`~pydock.Dockerfile`, its text, or ``None`` to
                read ``context/Dockerfile``.
            build_args: Values for ``ARG`` (``FROM`` included).
            registry: A client for the base's registry (see :meth:`from_image`).
            platform: Overrides ``FROM --platform``.
            timestamp: Unix seconds for ``created``, history and file mtimes.
            manifest_format: ``"auto"`` keeps the base's format.
            compression_level: gzip level of new layers, or ``None``.

        Raises:
            UnsupportedInstruction: ``RUN``, multi-stage builds, ``COPY --from``,
                ``ADD`` of a URL... (a ``ValueError`` naming the line).
            DockerfileParseError: The text is not a valid Dockerfile.
            OSError: ``context/Dockerfile`` cannot be read.
        """
        root = os.fspath(context)
        text: str | None = None
        if dockerfile is None:
            text = _read_dockerfile(root)
            df = Dockerfile.parse(text)
        elif isinstance(dockerfile, str):
            text = dockerfile
            df = Dockerfile.parse(text)
        else:
            df = dockerfile
        base, from_platform, steps = dockerfile_plan(df, root, text=text, build_args=build_args)
        if base is not None:
            base = str(ImageReference.parse(base))
        return cls(
            base,
            platform if platform is not None else from_platform,
            steps,
            timestamp=timestamp,
            manifest_format=manifest_format,
            compression_level=compression_level,
            build_args=dict(build_args or {}),
            registry=registry,
        )

    # -- building ------------------------------------------------------------

    async def push(
        self, ref: str | ImageReference, *, registry: AsyncRegistry | None = None
    ) -> BuildResult:
        """Build every layer, then push the blobs, the config and the manifest to ``ref``.

        Layers are written to temporary files (removed afterwards, on errors
        too) while being hashed and compressed, then uploaded unless the
        repository has them. Base layers are mounted from the base's
        repository when it is on the same registry, else streamed across; the
        base's manifest is also put in ``ref``'s repository, by digest.

        Args:
            ref: ``host/repo:tag`` (or ``repo:tag`` on ``registry``'s host).
            registry: The client for ``ref``'s registry (default: the builder's
                when its host matches, else a new one with credentials from
                docker's config).

        Returns:
            What was pushed: digest, manifest, config and layers.

        Raises:
            ManifestUnknown: The base does not exist or lacks the platform.
            FileNotFoundError: A local file or ``COPY`` source is missing.
            UnsafeArchiveError: An archive member would land outside its folder.
            RegistryError: The registry refused an upload or the manifest.
        """
        owned: list[AsyncRegistry] = []
        try:
            target, dest = self._target(ref, registry, owned)
            base = await self._load_base(dest, owned)
            return await self._build(target, dest, base)
        finally:
            for client in owned:
                await client.aclose()

    def _target(
        self,
        ref: str | ImageReference,
        registry: AsyncRegistry | None,
        owned: list[AsyncRegistry],
    ) -> tuple[ImageReference, AsyncRegistry]:
        client = registry or self.registry
        if isinstance(ref, ImageReference):
            parsed = ref
        else:
            first, slash, _ = ref.partition("/")
            names_host = bool(slash) and ("." in first or ":" in first or first == "localhost")
            if not names_host and client is not None:
                ref = f"{client.host}/{ref}"
            parsed = ImageReference.parse(ref)
        if parsed.tag is None and parsed.digest is None:
            parsed = parsed.with_default_tag()
        if client is None or client.host.lower() != (parsed.domain or "").lower():
            client = AsyncRegistry(parsed.domain or "docker.io")
            owned.append(client)
        return parsed, client

    async def _load_base(self, dest: AsyncRegistry, owned: list[AsyncRegistry]) -> _Base | None:
        if self.base is None:
            return None
        ref = ImageReference.parse(self.base)
        host = (ref.domain or "").lower()
        client: AsyncRegistry
        if self.registry is not None and self.registry.host.lower() == host:
            client = self.registry
        elif dest.host.lower() == host:
            client = dest
        else:
            client = AsyncRegistry(ref.domain or "docker.io")
            owned.append(client)
        manifest = await client.manifest(ref, platform=self.target_platform)
        if not isinstance(manifest, ImageManifest):  # pragma: no cover - manifest() picks one
            raise errors.ManifestInvalid(f"{ref} is not an image", status_code=0)
        with tempfile.TemporaryDirectory(prefix="pydock-base-") as tmp:
            path = await client.download_blob(
                ref.path, manifest.config.digest, Path(tmp) / "config.json"
            )
            raw = await to_thread(path.read_bytes)
        config = json.loads(raw)
        if not isinstance(config, dict):
            raise errors.ManifestInvalid(f"the config of {ref} is not a JSON object", status_code=0)
        return _Base(client, ref.path, manifest, config)

    async def _build(
        self, target: ImageReference, dest: AsyncRegistry, base: _Base | None
    ) -> BuildResult:
        repo = target.path
        manifest_type = choose_manifest_type(
            self.manifest_format, base.manifest if base is not None else None
        )
        compressed = self.compression_level is not None
        new_type = layer_media_type(manifest_type, compressed=compressed)
        state = ImageState(
            base.config if base is not None else None,
            platform=self.target_platform,
            timestamp=self.timestamp,
            build_args=self.build_args,
        )
        base_layers: list[LayerBlob] = []
        if base is not None:
            # Copy the base's platform manifest into the target repository by
            # digest: its blobs are mounted (same registry) or streamed across,
            # and skipped when already there.
            source = f"{base.registry.host}/{base.repository}@{base.manifest.digest}"
            await base.registry.copy(
                source, f"{dest.host}/{repo}@{base.manifest.digest}", target=dest
            )
            diff_ids = list(state.config["rootfs"]["diff_ids"])
            for index, desc in enumerate(base.manifest.layers):
                converted = convert_descriptor(desc, manifest_type)
                diff_id = diff_ids[index] if index < len(diff_ids) else ""
                base_layers.append(
                    LayerBlob(converted.digest, diff_id, converted.size, converted.media_type)
                )
        new_layers: list[LayerBlob] = []
        contexts: dict[str, ContextFiles] = {}
        with tempfile.TemporaryDirectory(prefix="pydock-build-") as tmp:
            for step in self.steps:
                if isinstance(step, ConfigStep):
                    step.action(state)
                    if step.created_by:
                        state.add_history(step.created_by, step.comment, empty_layer=True)
                    continue
                layer, path = await to_thread(
                    _write_layer, step, state, tmp, self.compression_level, new_type, contexts
                )
                try:
                    await dest.upload_blob(repo, path, digest=layer.digest, media_type=new_type)
                finally:
                    os.unlink(path)
                state.add_layer(layer.diff_id, step.created_by, step.comment)
                new_layers.append(layer)
        config_raw = state.finish()
        config_desc = await dest.upload_blob(
            repo, config_raw, media_type=config_media_type(manifest_type)
        )
        layers = (*base_layers, *new_layers)
        raw = image_manifest(
            manifest_type,
            config_desc,
            [Descriptor(x.media_type, x.digest, x.size) for x in layers]
            if base is None
            else [*base.manifest.layers, *(x.descriptor() for x in new_layers)],
            annotations=self.annotations,
        )
        digest = await dest.put_manifest(target, raw, media_type=manifest_type)
        manifest = parse_manifest(raw, manifest_type, digest)
        assert isinstance(manifest, ImageManifest)
        return BuildResult(
            reference=str(target),
            digest=digest,
            manifest=manifest,
            config=state.config,
            config_digest=config_desc.digest,
            layers=layers,
        )
