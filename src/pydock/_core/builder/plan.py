"""The immutable, fluent description of an image to build (:class:`ImagePlan`) and its steps."""

from __future__ import annotations

import datetime
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, TypeVar

import attrs

from pydock._core.builder.image import DEFAULT_SHELL, ImageState, port_key
from pydock._core.builder.manifest import ManifestFormat
from pydock._core.registry import Platform

__all__ = [
    "ArchiveStep",
    "ConfigStep",
    "ContextCopyStep",
    "FilesStep",
    "ImagePlan",
    "LayerOptions",
    "Step",
    "to_command",
]


@attrs.frozen
class LayerOptions:
    """How local files and bytes become tar entries.

    Attributes:
        uid: Owner of every entry.
        gid: Group of every entry.
        file_mode: Permission bits of files; ``None`` keeps a local file's
            bits (bytes get ``0o644``).
        dir_mode: Permission bits of directories; ``None`` keeps a local
            folder's bits (others get ``0o755``).
        mtime: Modification time of every entry; ``None`` uses the builder's
            timestamp.
        parents: Add entries for the parent directories (root-owned,
            ``0o755``). ``None``: only when building from scratch, so a base
            image's own directories (``/tmp`` and its sticky bit, a user's
            home) keep their owners and modes; engines create missing ones.
    """

    uid: int = 0
    gid: int = 0
    file_mode: int | None = None
    dir_mode: int | None = None
    mtime: int | None = None
    parents: bool | None = None

    def __attrs_post_init__(self) -> None:
        for name in ("uid", "gid"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 0:
                raise ValueError(f"{name} must be a non-negative int, not {value!r}")
        for name in ("file_mode", "dir_mode"):
            value = getattr(self, name)
            if value is not None and not 0 <= value <= 0o7777:
                raise ValueError(f"{name} must be permission bits (0 to 0o7777), not {value!r}")


@attrs.frozen
class _Source:
    """Something to put at ``dest``: bytes, a local file or folder, or a symlink."""

    dest: str
    data: bytes | None = attrs.field(default=None, repr=False)
    path: str | None = None
    symlink: str | None = None


@attrs.frozen
class FilesStep:
    """A layer made of local files and folders and in-memory bytes."""

    sources: tuple[_Source, ...]
    options: LayerOptions
    created_by: str | None = None
    comment: str | None = None


@attrs.frozen
class ArchiveStep:
    """A layer made of a local tar archive's members, extracted below ``dest``."""

    path: str
    dest: str
    owner: tuple[int, int] | None = None
    created_by: str | None = None
    comment: str | None = None


@attrs.frozen
class ContextCopyStep:
    """A Dockerfile ``COPY``/``ADD`` from a build context (words expanded when run)."""

    sources: tuple[str, ...]
    dest: str
    context: str
    chown: str | None
    chmod: str | None
    add: bool
    created_by: str
    comment: str | None = None


@attrs.frozen
class ConfigStep:
    """A config change: ``action`` applied to the state, with an optional history entry."""

    action: Callable[[ImageState], None] = attrs.field(eq=False)
    description: str
    created_by: str | None = None
    comment: str | None = None


Step = FilesStep | ArchiveStep | ContextCopyStep | ConfigStep


def _to_pairs(
    mapping: Mapping[str, Any] | Iterable[tuple[str, Any]] | None, extra: Mapping[str, Any]
) -> tuple[tuple[str, str], ...]:
    items: list[tuple[str, Any]] = []
    if mapping is not None:
        items.extend(mapping.items() if isinstance(mapping, Mapping) else mapping)
    items.extend(extra.items())
    return tuple((str(k), str(v)) for k, v in items)


def to_command(
    value: str | Sequence[str] | None, shell: Sequence[str] = DEFAULT_SHELL
) -> tuple[str, ...] | None:
    """A command as argv: a string is wrapped in ``shell``, a sequence kept (``None`` kept).

    Raises:
        TypeError: A sequence item is not a string.
    """
    if value is None:
        return None
    if isinstance(value, str):
        return (*shell, value)
    items = tuple(value)
    if not all(isinstance(v, str) for v in items):
        raise TypeError(f"a command must be a string or a sequence of strings, not {value!r}")
    return items


_P = TypeVar("_P", bound="ImagePlan")


def _host_platform() -> Platform:
    machine = os.uname().machine if hasattr(os, "uname") else "amd64"
    return Platform.parse(f"linux/{machine}")


def _to_platform(value: str | Platform | None) -> Platform | None:
    return None if value is None else Platform.parse(value)


def _to_timestamp(value: int | datetime.datetime) -> int:
    if isinstance(value, datetime.datetime):
        if value.tzinfo is None:
            raise ValueError("a timestamp datetime must be timezone-aware")
        return int(value.timestamp())
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"a timestamp is non-negative Unix seconds, not {value!r}")
    return value


@attrs.frozen
class ImagePlan:
    """An image to assemble: a base (or scratch) and ordered steps. Immutable.

    Every method returns a new plan with one more step; nothing is read or
    sent until the builder's ``push``. Layers are made in the order their
    steps were added; config changes apply in order too.

    Attributes:
        base: The base image reference (``host/repo:tag`` or ``@digest``), or
            ``None`` for an image from scratch.
        platform: Which platform to pick from a base index, and the platform
            of a scratch image (default: this machine's, ``linux/<arch>``).
        steps: The layer and config steps, in order.
        timestamp: Unix seconds used for the image's ``created`` time, every
            history entry and (unless a layer says otherwise) every file's
            mtime, like ``SOURCE_DATE_EPOCH``. Default 0 (1970-01-01).
        manifest_format: ``"oci"``, ``"docker"`` (schema 2) or ``"auto"``
            (the base's format; OCI from scratch).
        compression_level: The gzip level of new layers, 0-9; ``None`` stores
            them uncompressed (OCI format only).
        annotations: Annotations of the OCI manifest.
        build_args: Values for a Dockerfile's ``ARG`` instructions.
    """

    base: str | None = None
    platform: Platform | None = attrs.field(default=None, converter=_to_platform)
    steps: tuple[Step, ...] = ()
    timestamp: int = attrs.field(default=0, converter=_to_timestamp)
    manifest_format: ManifestFormat = "auto"
    compression_level: int | None = 6
    annotations: Mapping[str, str] = attrs.field(factory=dict)
    build_args: Mapping[str, str] = attrs.field(factory=dict)

    def __attrs_post_init__(self) -> None:
        if self.compression_level is not None and not 0 <= self.compression_level <= 9:
            raise ValueError(f"compression_level is 0 to 9 or None, not {self.compression_level!r}")
        if self.manifest_format not in ("auto", "oci", "docker"):
            raise ValueError(
                f"manifest_format is 'auto', 'oci' or 'docker', not {self.manifest_format!r}"
            )

    def _with(self: _P, step: Step) -> _P:
        return attrs.evolve(self, steps=(*self.steps, step))

    def _config(self: _P, description: str, action: Callable[[ImageState], None]) -> _P:
        return self._with(ConfigStep(action, description))

    @property
    def target_platform(self) -> Platform:
        """The platform asked for, or this machine's."""
        return self.platform or _host_platform()

    # -- layers ----------------------------------------------------------

    def add_files(
        self: _P,
        files: Mapping[str, bytes | str | os.PathLike[str]],
        *,
        uid: int = 0,
        gid: int = 0,
        file_mode: int | None = None,
        dir_mode: int | None = None,
        mtime: int | None = None,
        parents: bool | None = None,
        created_by: str | None = None,
        comment: str | None = None,
    ) -> _P:
        """Add one layer holding several files and folders.

        Args:
            files: Image path -> content: ``bytes`` for an in-memory file, or a
                local path. A local folder's contents go below the image path
                (like ``COPY dir /dest``); symlinks are kept as symlinks. An
                image path ending in ``/`` takes the local file's name.
            uid: Owner of every entry.
            gid: Group of every entry.
            file_mode: Permission bits of files (``None``: a local file's own; 0o644 for bytes).
            dir_mode: Permission bits of folders (``None``: a local folder's own).
            mtime: Every entry's mtime (``None``: the plan's ``timestamp``).
            parents: Add the parent directories (see :class:`LayerOptions`).
            created_by: The layer's history entry (default: a description).
            comment: The history entry's comment.

        Raises:
            ValueError: No files, a relative or empty image path, bad options.
            TypeError: A content is neither bytes nor a path.
        """
        if not files:
            raise ValueError("add_files needs at least one file")
        sources: list[_Source] = []
        for dest, content in files.items():
            if not isinstance(dest, str) or not dest.startswith("/"):
                raise ValueError(f"an image path must be absolute: {dest!r}")
            if isinstance(content, bytes):
                if dest.endswith("/"):
                    raise ValueError(f"in-memory content needs a file name, not a folder: {dest!r}")
                sources.append(_Source(dest, data=content))
            elif isinstance(content, (str, os.PathLike)):
                sources.append(_Source(dest, path=os.fspath(content)))
            else:
                raise TypeError(
                    f"content for {dest} must be bytes or a path, not {type(content).__name__}"
                )
        options = LayerOptions(uid, gid, file_mode, dir_mode, mtime, parents)
        names = ", ".join(s.dest for s in sources)
        return self._with(
            FilesStep(tuple(sources), options, created_by or f"pydock: add {names}", comment)
        )

    def add_path(
        self: _P,
        source: str | os.PathLike[str],
        dest: str,
        **options: Any,
    ) -> _P:
        """Add one layer holding a local file or folder at ``dest`` (see :meth:`add_files`).

        Raises:
            ValueError: ``dest`` is relative, or an option is invalid.
        """
        return self.add_files({dest: source}, **options)

    def add_symlink(self: _P, path: str, target: str, *, created_by: str | None = None) -> _P:
        """Add one layer holding a symbolic link ``path`` -> ``target``.

        Raises:
            ValueError: ``path`` is relative or ``target`` empty.
        """
        if not path.startswith("/") or not target:
            raise ValueError(
                f"a symlink needs an absolute path and a target: {path!r} -> {target!r}"
            )
        step = FilesStep(
            (_Source(path, symlink=target),),
            LayerOptions(),
            created_by or f"pydock: symlink {path} -> {target}",
        )
        return self._with(step)

    def add_archive(
        self: _P,
        archive: str | os.PathLike[str],
        dest: str = "/",
        *,
        uid: int | None = None,
        gid: int | None = None,
        created_by: str | None = None,
    ) -> _P:
        """Add one layer holding a local tar archive's members (plain, gzip, bzip2 or xz).

        Members keep their modes, owners and mtimes (like ``ADD x.tar /``)
        unless ``uid``/``gid`` are given, and their order.

        Raises:
            ValueError: ``dest`` is relative.
        """
        if not dest.startswith("/"):
            raise ValueError(f"an image path must be absolute: {dest!r}")
        owner = None
        if uid is not None or gid is not None:
            owner = (uid or 0, gid if gid is not None else uid or 0)
            LayerOptions(*owner)  # validates
        path = os.fspath(archive)
        step = ArchiveStep(
            path, dest, owner, created_by or f"pydock: extract {os.path.basename(path)} to {dest}"
        )
        return self._with(step)

    # -- config ----------------------------------------------------------

    def env(self: _P, mapping: Mapping[str, Any] | None = None, /, **variables: Any) -> _P:
        """Set environment variables (``ENV``); a name already set is replaced in place."""
        pairs = _to_pairs(mapping, variables)
        return self._config("env", lambda s: s.set_env(pairs))

    def cmd(self: _P, command: str | Sequence[str] | None) -> _P:
        """Set the default command; a string is run with ``/bin/sh -c`` (``None`` clears it)."""
        value = to_command(command)
        return self._config("cmd", lambda s: s.set_cmd(value))

    def entrypoint(self: _P, command: str | Sequence[str] | None, *, reset_cmd: bool = False) -> _P:
        """Set the entrypoint; a string is run with ``/bin/sh -c``.

        Args:
            command: The entrypoint, or ``None`` to clear it.
            reset_cmd: Drop a CMD inherited from the base (Docker's rule for
                ``ENTRYPOINT`` in a Dockerfile).
        """
        value = to_command(command)
        return self._config("entrypoint", lambda s: s.set_entrypoint(value, reset_cmd=reset_cmd))

    def workdir(self: _P, path: str) -> _P:
        """Set the working directory (relative to the current one when relative).

        Raises:
            ValueError: The path is empty.
        """
        if not path:
            raise ValueError("a working directory cannot be empty")
        return self._config("workdir", lambda s: s.set_workdir(path))

    def user(self: _P, user: str | int) -> _P:
        """Set the user containers run as (``"app"``, ``1000``, ``"1000:1000"``).

        Raises:
            ValueError: The user is empty.
        """
        text = str(user).strip()
        if not text:
            raise ValueError("a user cannot be empty")
        return self._config("user", lambda s: s.set_user(text))

    def expose(self: _P, *ports: int | str) -> _P:
        """Declare exposed ports (``80``, ``"53/udp"``).

        Raises:
            ValueError: A port is malformed.
        """
        keys = [port_key(p) for p in ports]
        return self._config("expose", lambda s: s.expose(keys))

    def label(self: _P, mapping: Mapping[str, Any] | None = None, /, **labels: Any) -> _P:
        """Set labels."""
        pairs = _to_pairs(mapping, labels)
        return self._config("label", lambda s: s.set_labels(pairs))

    def volume(self: _P, *paths: str) -> _P:
        """Declare volumes.

        Raises:
            ValueError: A path is empty.
        """
        if not all(paths):
            raise ValueError("a volume path cannot be empty")
        return self._config("volume", lambda s: s.add_volumes(paths))

    def stop_signal(self: _P, signal: str | int) -> _P:
        """Set the signal that stops containers (``"SIGTERM"``, ``9``)."""
        text = str(signal)
        return self._config("stopsignal", lambda s: s.set_stop_signal(text))

    def history(self: _P, created_by: str, *, comment: str | None = None) -> _P:
        """Add a history entry that records no layer (``empty_layer``)."""
        return self._with(
            ConfigStep(lambda s: s.add_history(created_by, comment, empty_layer=True), "history")
        )
