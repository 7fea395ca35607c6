"""Daemonless image assembly: deterministic layers, image configs, manifests, Dockerfile plans.

The decisions behind :class:`pydock.ImageBuilder` live here, with no network
I/O:

* :class:`LayerEntry` lists and :func:`iter_layer_tar` - a layer's tar stream,
  reproducible: entries sorted by path, fixed timestamps, chosen owners and
  modes, no user or group names, PAX headers only where ustar cannot say it.
* :class:`GzipStream` - gzip with a fixed header (mtime 0, no file name,
  OS "unknown"), so the same tar always compresses to the same bytes.
* :class:`ImageState` - the image config as build steps change it (ENV, CMD,
  ENTRYPOINT, WORKDIR, USER, EXPOSE, LABEL, VOLUME, history, diff IDs), and the
  manifest that lists it (:func:`image_manifest`).
* :class:`ImagePlan` - the immutable, fluent description of an image to build:
  a base and ordered steps; :func:`dockerfile_plan` turns a
  :class:`~pydock.Dockerfile` without ``RUN`` into one.

Like :mod:`pydock._core.archive`, planning a layer reads the local files it
copies (their metadata, and their bytes while the tar streams) with plain
blocking calls; the I/O layer runs that in a worker thread.
"""

from __future__ import annotations

import collections
import concurrent.futures
import datetime
import fnmatch
import functools
import json
import os
import posixpath
import re
import stat
import struct
import tarfile
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any, Literal, TypeVar

import attrs

from pydock import errors
from pydock._core import dockerfile as dfm
from pydock._core.archive import BLOCK, CHUNK, check_member_name
from pydock._core.dockerignore import DockerIgnore
from pydock._core.registry import (
    DOCKER_MANIFEST,
    OCI_MANIFEST,
    Descriptor,
    ImageManifest,
    Platform,
)
from pydock.errors import UnsupportedInstruction

__all__ = [
    "DOCKER_CONFIG_TYPE",
    "DOCKER_LAYER_GZIP",
    "OCI_CONFIG_TYPE",
    "OCI_LAYER",
    "OCI_LAYER_GZIP",
    "BuildResult",
    "GZIP_BLOCK",
    "GzipStream",
    "ImagePlan",
    "ImageState",
    "LayerBlob",
    "LayerEntry",
    "LayerOptions",
    "UnsupportedInstruction",
    "deflate_block",
    "dockerfile_plan",
    "expand_word",
    "image_manifest",
    "iter_layer",
    "iter_layer_tar",
    "normalize_entries",
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

#: The shell Docker wraps shell-form CMD and ENTRYPOINT in.
DEFAULT_SHELL = ("/bin/sh", "-c")
#: The history comment of steps translated from a Dockerfile.
DOCKERFILE_COMMENT = "pydock.dockerfile"

ManifestFormat = Literal["auto", "oci", "docker"]


# --------------------------------------------------------------------------- tar entries


@attrs.frozen
class LayerEntry:
    """One member of a layer's tar archive.

    Attributes:
        path: The path in the image, relative (``app/run.sh``), no trailing ``/``.
        kind: ``"file"``, ``"dir"``, ``"symlink"`` or ``"hardlink"``.
        mode: Permission bits (``0o644``), setuid/setgid/sticky included.
        uid: The owner's user ID.
        gid: The owner's group ID.
        mtime: Modification time, Unix seconds.
        size: The file's size in bytes (files only).
        linkname: A link's target.
        source: Where a file's bytes come from: a local path or the bytes themselves.
    """

    path: str
    kind: Literal["file", "dir", "symlink", "hardlink"]
    mode: int = 0o644
    uid: int = 0
    gid: int = 0
    mtime: int = 0
    size: int = 0
    linkname: str = ""
    source: str | bytes | None = attrs.field(default=None, repr=False)


_TAR_TYPES = {
    "file": tarfile.REGTYPE,
    "dir": tarfile.DIRTYPE,
    "symlink": tarfile.SYMTYPE,
    "hardlink": tarfile.LNKTYPE,
}


def _pad(size: int) -> int:
    return -size % BLOCK


def tar_header(entry: LayerEntry) -> bytes:
    """The header block(s) of one entry: ustar, plus a PAX record for long or non-ASCII names."""
    name = entry.path + "/" if entry.kind == "dir" else entry.path
    info = tarfile.TarInfo(name)
    info.type = _TAR_TYPES[entry.kind]
    info.mode = entry.mode & 0o7777
    info.uid = entry.uid
    info.gid = entry.gid
    info.mtime = entry.mtime
    info.size = entry.size if entry.kind == "file" else 0
    info.linkname = entry.linkname
    info.uname = ""
    info.gname = ""
    return info.tobuf(tarfile.PAX_FORMAT, "utf-8", "surrogateescape")


def _entry_data(entry: LayerEntry, chunk: int) -> Iterator[bytes]:
    if isinstance(entry.source, bytes):
        if entry.source:
            yield entry.source
    elif entry.source is not None:
        sent = 0
        with open(entry.source, "rb") as f:
            while sent < entry.size:
                data = f.read(min(chunk, entry.size - sent))
                if not data:
                    break
                sent += len(data)
                yield data
            extra = f.read(1)
        if sent != entry.size or extra:
            raise errors.PydockError(
                f"{entry.source} changed size while it was added to a layer"
                f" (expected {entry.size} bytes)"
            )
    if _pad(entry.size):
        yield bytes(_pad(entry.size))


def iter_layer_tar(entries: Iterable[LayerEntry], *, chunk: int = CHUNK) -> Iterator[bytes]:
    """The tar stream of ``entries``, in the order given, then the end-of-archive blocks.

    File bytes are read in pieces of at most ``chunk`` bytes.

    Raises:
        PydockError: A local file changed size while it was read.
    """
    return iter_layer(entries, (), chunk=chunk)


def _clean_path(path: str) -> str:
    """``/a/./b/`` -> ``a/b``; ``""`` for the root."""
    cleaned = posixpath.normpath("/" + path.replace("\\", "/") if os.sep == "\\" else "/" + path)
    return cleaned.lstrip("/")


def normalize_entries(
    entries: Iterable[LayerEntry], *, parents: bool, parent_mode: int = 0o755, mtime: int = 0
) -> list[LayerEntry]:
    """Sort entries by path (bytewise), keep the last of duplicates, add missing parents.

    Parent directories are owned by root with ``parent_mode``.

    Raises:
        ValueError: A path is empty (the root) or climbs out with ``..``.
    """
    by_path: dict[str, LayerEntry] = {}
    for entry in entries:
        path = _clean_path(entry.path)
        if not path:
            continue  # the root itself is never an entry
        by_path[path] = attrs.evolve(entry, path=path) if path != entry.path else entry
    if parents:
        for path in list(by_path):
            parent = posixpath.dirname(path)
            while parent and parent not in by_path:
                by_path[parent] = LayerEntry(parent, "dir", mode=parent_mode, mtime=mtime)
                parent = posixpath.dirname(parent)
    return [by_path[p] for p in sorted(by_path, key=lambda p: p.encode("utf-8", "surrogateescape"))]


# --------------------------------------------------------------------------- gzip


#: Input bytes per independently compressed gzip block (fixed: it shapes the output).
GZIP_BLOCK = 1 << 20
_WINDOW = 32 * 1024


def deflate_block(data: bytes, level: int, zdict: bytes, final: bool) -> bytes:
    """Raw deflate of one block, primed with the previous block's last 32 KiB.

    A block that is not ``final`` ends with a sync flush (byte-aligned, not
    the last deflate block), so blocks concatenate into one valid stream, the
    way ``pigz`` does it. zlib releases the GIL while it works, so blocks can
    be compressed on several threads.
    """
    if zdict:
        deflate = zlib.compressobj(level, zlib.DEFLATED, -15, 9, zlib.Z_DEFAULT_STRATEGY, zdict)
    else:
        deflate = zlib.compressobj(level, zlib.DEFLATED, -15, 9)
    return deflate.compress(data) + deflate.flush(zlib.Z_FINISH if final else zlib.Z_SYNC_FLUSH)


class GzipStream:
    """A gzip compressor whose output depends only on its input and level.

    The header is written by hand: no file name, mtime 0, OS 255 ("unknown"),
    like Go's ``compress/gzip``, so a layer's digest is the same on every host.
    Input is compressed in blocks of :data:`GZIP_BLOCK` bytes, each primed with
    the 32 KiB before it; with an ``executor`` the blocks are compressed in
    parallel and the output is the same, byte for byte.

    Args:
        level: The zlib level, 0 (store) to 9.
        executor: Where to compress blocks (a thread pool); ``None`` compresses
            them in the calling thread.
        in_flight: How many blocks may be compressing at once with an executor.
    """

    def __init__(
        self,
        level: int = 6,
        *,
        executor: concurrent.futures.Executor | None = None,
        in_flight: int = 4,
    ) -> None:
        if not 0 <= level <= 9:
            raise ValueError(f"a gzip level is 0 to 9, not {level}")
        self._level = level
        xfl = 2 if level == 9 else 4 if level == 1 else 0
        self._header: bytes | None = b"\x1f\x8b\x08\x00\x00\x00\x00\x00" + bytes((xfl, 255))
        self._executor = executor
        self._in_flight = max(1, in_flight)
        self._pending: collections.deque[concurrent.futures.Future[bytes]] = collections.deque()
        self._buffer = bytearray()
        self._zdict = b""
        self._crc = 0
        self._size = 0

    def _submit(self, block: bytes, final: bool) -> list[bytes]:
        zdict, self._zdict = self._zdict, block[-_WINDOW:]
        if self._executor is None:
            return [deflate_block(block, self._level, zdict, final)]
        self._pending.append(self._executor.submit(deflate_block, block, self._level, zdict, final))
        out: list[bytes] = []
        while self._pending and (
            self._pending[0].done() or len(self._pending) > self._in_flight or final
        ):
            out.append(self._pending.popleft().result())
        return out

    def feed(self, data: bytes) -> bytes:
        """Compress the next piece; returns the compressed bytes ready so far."""
        self._crc = zlib.crc32(data, self._crc)
        self._size += len(data)
        self._buffer += data
        out: list[bytes] = []
        if self._header is not None:
            out.append(self._header)
            self._header = None
        while len(self._buffer) > GZIP_BLOCK:
            block = bytes(self._buffer[:GZIP_BLOCK])
            del self._buffer[:GZIP_BLOCK]
            out.extend(self._submit(block, False))
        return b"".join(out)

    def finish(self) -> bytes:
        """The rest of the stream: the last blocks and the CRC/size trailer."""
        out = [self._header or b""]
        self._header = None
        out.extend(self._submit(bytes(self._buffer), True))
        self._buffer.clear()
        out.append(struct.pack("<II", self._crc & 0xFFFFFFFF, self._size & 0xFFFFFFFF))
        return b"".join(out)

    def close(self) -> None:
        """Drop blocks still compressing (after an error)."""
        for future in self._pending:
            future.cancel()
        self._pending.clear()


# --------------------------------------------------------------------------- results


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


# --------------------------------------------------------------------------- variables


_NAME_RE = re.compile(r"[A-Za-z0-9_]+")


def expand_word(
    text: str, env: Mapping[str, str], *, escape: str = "\\", quotes: bool = True
) -> str:
    """Substitute ``$name`` / ``${name}`` / ``${name:-x}`` / ``${name:+x}`` like Docker does.

    Args:
        text: The word.
        env: The variables (unset ones expand to ``""``).
        escape: The Dockerfile's escape character.
        quotes: Also remove shell quoting (``'...'`` is literal, ``"..."``
            expands), as for paths and ``WORKDIR``. Without it (values of the
            :class:`~pydock.Dockerfile` model's ``ENV``, ``LABEL`` and ``ARG``,
            already unquoted) the escape character only protects a ``$``.

    Raises:
        ValueError: An unterminated quote or ``${``.
    """
    out: list[str] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch == escape:
            if i + 1 < n and (quotes or text[i + 1] == "$"):
                out.append(text[i + 1])
                i += 2
            else:
                out.append(ch)
                i += 1
        elif quotes and ch == "'":
            end = text.find("'", i + 1)
            if end < 0:
                raise ValueError(f"unterminated single quote in {text!r}")
            out.append(text[i + 1 : end])
            i = end + 1
        elif quotes and ch == '"':
            i += 1
            while True:
                if i >= n:
                    raise ValueError(f"unterminated double quote in {text!r}")
                c = text[i]
                if c == '"':
                    i += 1
                    break
                if c == escape and i + 1 < n and text[i + 1] in ('"', "$", escape):
                    out.append(text[i + 1])
                    i += 2
                elif c == "$":
                    value, i = _expand_dollar(text, i, env, escape)
                    out.append(value)
                else:
                    out.append(c)
                    i += 1
        elif ch == "$":
            value, i = _expand_dollar(text, i, env, escape)
            out.append(value)
        else:
            out.append(ch)
            i += 1
    return "".join(out)


def _expand_dollar(text: str, i: int, env: Mapping[str, str], escape: str) -> tuple[str, int]:
    """Expand the ``$...`` at ``text[i]``; the value and the index after it."""
    if i + 1 < len(text) and text[i + 1] == "{":
        end = _closing_brace(text, i + 2)
        body = text[i + 2 : end]
        m = _NAME_RE.match(body)
        if m is None:
            raise ValueError(f"bad substitution ${{{body}}} in {text!r}")
        name, rest = m.group(), body[m.end() :]
        value = env.get(name)
        if not rest:
            return value or "", end + 1
        for op in (":-", ":+", "-", "+"):
            if rest.startswith(op):
                word = expand_word(rest[len(op) :], env, escape=escape, quotes=False)
                if op == ":-":
                    result = value if value else word
                elif op == ":+":
                    result = word if value else ""
                elif op == "-":
                    result = value if value is not None else word
                else:
                    result = word if value is not None else ""
                return result, end + 1
        raise ValueError(f"unsupported substitution ${{{body}}} in {text!r}")
    m = _NAME_RE.match(text, i + 1)
    if m is None:
        return "$", i + 1
    return env.get(m.group()) or "", m.end()


def _closing_brace(text: str, start: int) -> int:
    depth = 1
    for j in range(start, len(text)):
        if text[j] == "{":
            depth += 1
        elif text[j] == "}":
            depth -= 1
            if depth == 0:
                return j
    raise ValueError(f"unterminated ${{ in {text!r}")


# --------------------------------------------------------------------------- image config


def _timestamp_text(seconds: int) -> str:
    moment = datetime.datetime.fromtimestamp(seconds, tz=datetime.timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _port_key(port: str | int) -> str:
    text = str(port).strip()
    if not text:
        raise ValueError("an exposed port cannot be empty")
    number, _, proto = text.partition("/")
    if not number.isdigit() and not re.fullmatch(r"[0-9]+-[0-9]+", number):
        raise ValueError(f"invalid port {text!r}: expected a number with an optional /protocol")
    proto = (proto or "tcp").lower()
    if proto not in ("tcp", "udp", "sctp"):
        raise ValueError(f"invalid protocol in port {text!r}: tcp, udp or sctp")
    return f"{number}/{proto}"


def _set_env(env_list: list[str], key: str, value: str) -> list[str]:
    out = list(env_list)
    for i, item in enumerate(out):
        if item.partition("=")[0] == key:
            out[i] = f"{key}={value}"
            return out
    out.append(f"{key}={value}")
    return out


class ImageState:
    """The image config as steps change it, plus what is needed to expand variables.

    Args:
        base_config: The base image's config JSON (``None`` for scratch).
        platform: The platform of a scratch image (ignored with a base).
        timestamp: The ``created`` time of the image and of its history
            entries, Unix seconds.
        build_args: Values for ``ARG`` declarations (Dockerfile plans).
    """

    def __init__(
        self,
        base_config: Mapping[str, Any] | None,
        *,
        platform: Platform,
        timestamp: int = 0,
        build_args: Mapping[str, str] | None = None,
    ) -> None:
        if base_config is None:
            config: dict[str, Any] = {
                "architecture": platform.architecture,
                "os": platform.os,
                "config": {},
                "rootfs": {"type": "layers", "diff_ids": []},
                "history": [],
            }
            if platform.variant:
                config["variant"] = platform.variant
        else:
            config = json.loads(json.dumps(base_config))
        config["created"] = _timestamp_text(timestamp)
        self.config = config
        self.scratch = base_config is None
        self.timestamp = timestamp
        self.build_args = dict(build_args or {})
        #: ARG values in scope (Dockerfile plans).
        self.args: dict[str, str] = {}
        self.shell: tuple[str, ...] = DEFAULT_SHELL
        #: Whether a CMD was set by these steps (ENTRYPOINT then keeps it).
        self.cmd_set = False
        self.escape = "\\"
        run = config.get("config")
        self.run: dict[str, Any] = run if isinstance(run, dict) else {}
        config["config"] = self.run
        rootfs = config.get("rootfs")
        if not isinstance(rootfs, dict):
            rootfs = config["rootfs"] = {"type": "layers", "diff_ids": []}
        rootfs.setdefault("type", "layers")
        if not isinstance(rootfs.get("diff_ids"), list):
            rootfs["diff_ids"] = []
        if not isinstance(config.get("history"), list):
            config["history"] = []

    # -- reading ---------------------------------------------------------

    @property
    def env(self) -> dict[str, str]:
        """The config's ``Env`` as a dict."""
        out: dict[str, str] = {}
        for item in self.run.get("Env") or []:
            key, _, value = str(item).partition("=")
            out[key] = value
        return out

    @property
    def workdir(self) -> str:
        """The working directory (``/`` when unset)."""
        return str(self.run.get("WorkingDir") or "/")

    def variables(self) -> dict[str, str]:
        """What ``$name`` expands to: ARGs in scope, overridden by ENV."""
        return {**self.args, **self.env}

    def expand(self, word: str, *, quotes: bool = True) -> str:
        """Expand variables in ``word`` (see :func:`expand_word`)."""
        return expand_word(word, self.variables(), escape=self.escape, quotes=quotes)

    def resolve(self, path: str) -> str:
        """An image path made absolute against the working directory; a trailing ``/`` is kept."""
        absolute = path if path.startswith("/") else posixpath.join(self.workdir, path)
        cleaned = posixpath.normpath(absolute)
        if cleaned.startswith("//"):
            cleaned = "/" + cleaned.lstrip("/")
        if path.endswith("/") and cleaned != "/":
            cleaned += "/"
        return cleaned

    # -- changes ---------------------------------------------------------

    def add_history(
        self, created_by: str | None, comment: str | None = None, *, empty_layer: bool
    ) -> None:
        """Append a history entry."""
        entry: dict[str, Any] = {"created": _timestamp_text(self.timestamp)}
        if created_by:
            entry["created_by"] = created_by
        if comment:
            entry["comment"] = comment
        if empty_layer:
            entry["empty_layer"] = True
        self.config["history"].append(entry)

    def add_layer(self, diff_id: str, created_by: str | None, comment: str | None = None) -> None:
        """Record a new layer: its diff ID and a history entry."""
        self.config["rootfs"]["diff_ids"].append(diff_id)
        self.add_history(created_by, comment, empty_layer=False)

    def set_env(self, pairs: Iterable[tuple[str, str]]) -> None:
        """Set variables (one existing entry per name is replaced in place)."""
        env = list(self.run.get("Env") or [])
        for key, value in pairs:
            if not key or "=" in key:
                raise ValueError(
                    f"an environment variable name must be non-empty without '=': {key!r}"
                )
            env = _set_env(env, key, value)
        self.run["Env"] = env

    def set_cmd(self, command: Sequence[str] | None) -> None:
        """Set the default command (``None`` clears it)."""
        self.run["Cmd"] = list(command) if command is not None else None
        self.cmd_set = True

    def set_entrypoint(self, command: Sequence[str] | None, *, reset_cmd: bool = False) -> None:
        """Set the entrypoint; with ``reset_cmd``, Docker's rule: an inherited CMD is dropped."""
        self.run["Entrypoint"] = list(command) if command is not None else None
        if reset_cmd and not self.cmd_set:
            self.run["Cmd"] = None

    def set_workdir(self, path: str) -> None:
        """Set the working directory (a relative path is joined to the current one)."""
        if not path:
            raise ValueError("a working directory cannot be empty")
        self.run["WorkingDir"] = self.resolve(path).rstrip("/") or "/"

    def set_user(self, user: str) -> None:
        """Set the user (``name``, ``uid``, ``user:group``...)."""
        if not user.strip():
            raise ValueError("a user cannot be empty")
        self.run["User"] = user.strip()

    def expose(self, ports: Iterable[str | int]) -> None:
        """Add exposed ports (``80``, ``"53/udp"``)."""
        exposed = dict(self.run.get("ExposedPorts") or {})
        for port in ports:
            exposed[_port_key(port)] = {}
        self.run["ExposedPorts"] = exposed

    def set_labels(self, pairs: Iterable[tuple[str, str]]) -> None:
        """Set labels."""
        labels = dict(self.run.get("Labels") or {})
        for key, value in pairs:
            if not key:
                raise ValueError("a label key cannot be empty")
            labels[key] = value
        self.run["Labels"] = labels

    def add_volumes(self, paths: Iterable[str]) -> None:
        """Declare volumes."""
        volumes = dict(self.run.get("Volumes") or {})
        for path in paths:
            if not path:
                raise ValueError("a volume path cannot be empty")
            volumes[self.resolve(path).rstrip("/") or "/"] = {}
        self.run["Volumes"] = volumes

    def set_stop_signal(self, signal: str) -> None:
        """Set the stop signal."""
        if not signal:
            raise ValueError("a stop signal cannot be empty")
        self.run["StopSignal"] = signal

    def finish(self) -> bytes:
        """The config's bytes: compact JSON, key order as built (deterministic)."""
        return json.dumps(self.config, separators=(",", ":"), ensure_ascii=False).encode()


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


# --------------------------------------------------------------------------- steps


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


def _command(
    value: str | Sequence[str] | None, shell: Sequence[str] = DEFAULT_SHELL
) -> tuple[str, ...] | None:
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
        value = _command(command)
        return self._config("cmd", lambda s: s.set_cmd(value))

    def entrypoint(self: _P, command: str | Sequence[str] | None, *, reset_cmd: bool = False) -> _P:
        """Set the entrypoint; a string is run with ``/bin/sh -c``.

        Args:
            command: The entrypoint, or ``None`` to clear it.
            reset_cmd: Drop a CMD inherited from the base (Docker's rule for
                ``ENTRYPOINT`` in a Dockerfile).
        """
        value = _command(command)
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
        keys = [_port_key(p) for p in ports]
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


# --------------------------------------------------------------------------- layer planning


def _mode(st: os.stat_result) -> int:
    return stat.S_IMODE(st.st_mode)


def _local_entries(
    local: str,
    dest: str,
    options: LayerOptions,
    mtime: int,
    accept: Callable[[str], bool] | None = None,
) -> Iterator[LayerEntry]:
    """Entries for a local file, symlink or folder put at image path ``dest``.

    ``accept`` sees paths relative to ``local`` (folders only) and may skip them.
    """
    st = os.stat(local)  # a named source is followed, like Docker's COPY
    uid, gid = options.uid, options.gid
    if stat.S_ISREG(st.st_mode):
        yield LayerEntry(
            dest,
            "file",
            mode=options.file_mode if options.file_mode is not None else _mode(st),
            uid=uid,
            gid=gid,
            mtime=mtime,
            size=st.st_size,
            source=local,
        )
        return
    if not stat.S_ISDIR(st.st_mode):
        raise ValueError(f"{local} is neither a file nor a folder")
    yield LayerEntry(
        dest,
        "dir",
        mode=options.dir_mode if options.dir_mode is not None else _mode(st),
        uid=uid,
        gid=gid,
        mtime=mtime,
    )
    for folder, dirs, files in os.walk(local):
        dirs.sort()
        rel_folder = os.path.relpath(folder, local)
        rel_folder = "" if rel_folder == "." else rel_folder.replace(os.sep, "/") + "/"
        kept_dirs = []
        for name in sorted([*dirs, *files]):
            rel = rel_folder + name
            if accept is not None and not accept(rel):
                continue
            path = os.path.join(folder, name)
            lst = os.lstat(path)
            image_path = f"{dest}/{rel}"
            if stat.S_ISLNK(lst.st_mode):
                yield LayerEntry(
                    image_path,
                    "symlink",
                    mode=0o777,
                    uid=uid,
                    gid=gid,
                    mtime=mtime,
                    linkname=os.readlink(path),
                )
            elif stat.S_ISDIR(lst.st_mode):
                kept_dirs.append(name)
                yield LayerEntry(
                    image_path,
                    "dir",
                    mode=options.dir_mode if options.dir_mode is not None else _mode(lst),
                    uid=uid,
                    gid=gid,
                    mtime=mtime,
                )
            elif stat.S_ISREG(lst.st_mode):
                yield LayerEntry(
                    image_path,
                    "file",
                    mode=options.file_mode if options.file_mode is not None else _mode(lst),
                    uid=uid,
                    gid=gid,
                    mtime=mtime,
                    size=lst.st_size,
                    source=path,
                )
            # sockets, fifos and devices are left out, as tar-based copies do
        dirs[:] = [d for d in dirs if d in kept_dirs]


def _link_hardlinks(entries: list[LayerEntry]) -> list[LayerEntry]:
    """Store the second and later names of one local inode as hard links (sorted order)."""
    first: dict[tuple[int, int], str] = {}
    out: list[LayerEntry] = []
    for entry in entries:
        if entry.kind == "file" and isinstance(entry.source, str):
            st = os.stat(entry.source)
            if st.st_nlink > 1:
                key = (st.st_dev, st.st_ino)
                if key in first:
                    out.append(
                        attrs.evolve(
                            entry, kind="hardlink", size=0, linkname=first[key], source=None
                        )
                    )
                    continue
                first[key] = entry.path
        out.append(entry)
    return out


def plan_files(step: FilesStep, state: ImageState) -> list[LayerEntry]:
    """The sorted entries of a files layer (reads local metadata).

    Raises:
        FileNotFoundError: A local source is missing.
    """
    options = step.options
    mtime = options.mtime if options.mtime is not None else state.timestamp
    entries: list[LayerEntry] = []
    for source in step.sources:
        dest = source.dest
        if source.data is not None:
            entries.append(
                LayerEntry(
                    dest,
                    "file",
                    mode=options.file_mode if options.file_mode is not None else 0o644,
                    uid=options.uid,
                    gid=options.gid,
                    mtime=mtime,
                    size=len(source.data),
                    source=source.data,
                )
            )
        elif source.symlink is not None:
            entries.append(
                LayerEntry(
                    dest,
                    "symlink",
                    mode=0o777,
                    uid=options.uid,
                    gid=options.gid,
                    mtime=mtime,
                    linkname=source.symlink,
                )
            )
        else:
            assert source.path is not None
            if dest.endswith("/") and not os.path.isdir(source.path):
                dest = dest + os.path.basename(os.path.normpath(source.path))
            entries.extend(_local_entries(source.path, dest.rstrip("/"), options, mtime))
    parents = options.parents if options.parents is not None else state.scratch
    normalized = normalize_entries(entries, parents=parents, mtime=mtime)
    return _link_hardlinks(normalized)


# --------------------------------------------------------------------------- archives


def iter_archive_members(
    path: str, dest: str, owner: tuple[int, int] | None = None, *, chunk: int = CHUNK
) -> Iterator[bytes]:
    """Tar blocks of a local archive's members moved below image folder ``dest`` (no end blocks).

    Members keep their order and metadata; ``owner`` replaces their uid/gid.

    Raises:
        UnsafeArchiveError: A member's name is absolute or climbs out with ``..``.
        tarfile.TarError: The file is not a readable tar archive.
    """
    prefix = _clean_path(dest)
    with tarfile.open(path, "r|*") as archive:
        for member in archive:
            parts = check_member_name(member.name)
            name = "/".join(p for p in (prefix, *parts) if p)
            if not name:
                continue
            kind: Literal["file", "dir", "symlink", "hardlink"]
            if member.isreg():
                kind = "file"
            elif member.isdir():
                kind = "dir"
            elif member.issym():
                kind = "symlink"
            elif member.islnk():
                kind = "hardlink"
            else:
                continue  # devices and fifos need privileges engines may lack
            linkname = member.linkname
            if kind == "hardlink":
                linkname = "/".join(p for p in (prefix, *check_member_name(linkname)) if p)
            entry = LayerEntry(
                name,
                kind,
                mode=member.mode,
                uid=owner[0] if owner else member.uid,
                gid=owner[1] if owner else member.gid,
                mtime=int(member.mtime),
                size=member.size if kind == "file" else 0,
                linkname=linkname,
            )
            yield tar_header(entry)
            if kind == "file":
                f = archive.extractfile(member)
                assert f is not None
                left = member.size
                while left > 0:
                    data = f.read(min(chunk, left))
                    if not data:
                        raise tarfile.ReadError(f"{path} ends inside {member.name}")
                    left -= len(data)
                    yield data
                if _pad(member.size):
                    yield bytes(_pad(member.size))


def iter_layer(
    entries: Iterable[LayerEntry],
    archives: Iterable[tuple[str, str, tuple[int, int] | None]] = (),
    *,
    chunk: int = CHUNK,
) -> Iterator[bytes]:
    """A whole layer's tar stream: ``entries``, then each archive's members, then the end.

    Args:
        entries: Entries, in the order to write them.
        archives: ``(local archive, image folder, owner or None)`` to extract.
        chunk: Largest piece of file data read at once.
    """
    for entry in entries:
        yield tar_header(entry)
        if entry.kind == "file":
            yield from _entry_data(entry, chunk)
    for path, dest, owner in archives:
        yield from iter_archive_members(path, dest, owner, chunk=chunk)
    yield bytes(2 * BLOCK)


def is_archive(path: str) -> bool:
    """Whether a local file is a tar archive (plain or compressed) that ``ADD`` extracts."""
    try:
        return tarfile.is_tarfile(path)
    except (OSError, tarfile.TarError, EOFError):
        return False


# --------------------------------------------------------------------------- Dockerfile


_URL_RE = re.compile(r"^[a-z][a-z0-9+.-]*://|^git@", re.IGNORECASE)
_GLOB_CHARS = frozenset("*?[")


def _instruction_lines(text: str | None, instructions: Sequence[dfm.Instruction]) -> list[int]:
    """Best-effort line numbers of instructions in ``text`` (their position without it)."""
    if text is None:
        return list(range(1, len(instructions) + 1))
    lines = text.splitlines()
    out: list[int] = []
    at = 0
    for index, instruction in enumerate(instructions):
        keyword = "#" if isinstance(instruction, dfm.Comment) else instruction.keyword
        found = None
        for j in range(at, len(lines)):
            stripped = lines[j].lstrip()
            if stripped[: len(keyword)].upper() == keyword and (
                keyword == "#" or stripped[len(keyword) : len(keyword) + 1] in ("", " ", "\t")
            ):
                found = j
                break
        if found is None:
            out.append(index + 1)
        else:
            out.append(found + 1)
            at = found + 1
    return out


def _octal(text: str, line: int, rendered: str) -> int:
    if not re.fullmatch(r"[0-7]{1,4}", text):
        raise UnsupportedInstruction(
            line, rendered, f"--chmod={text}: only octal modes are supported without an engine"
        )
    return int(text, 8)


def _owner_ids(text: str, line: int, rendered: str) -> tuple[int, int]:
    user, _, group = text.partition(":")
    ids = []
    for part in (user, group or user):
        if part == "root":
            ids.append(0)
        elif part.isdigit():
            ids.append(int(part))
        else:
            raise UnsupportedInstruction(
                line,
                rendered,
                f"--chown={text}: names other than root need the base's /etc/passwd;"
                " use numeric IDs",
            )
    return ids[0], ids[1]


def _df_user(user: str, s: ImageState) -> None:
    s.set_user(s.expand(user))


def _df_workdir(path: str, s: ImageState) -> None:
    s.set_workdir(s.expand(path))


def _df_expose(ports: tuple[str, ...], s: ImageState) -> None:
    s.expose(s.expand(p) for p in ports)


def _df_volume(paths: tuple[str, ...], s: ImageState) -> None:
    s.add_volumes(s.expand(p) for p in paths)


def _df_stopsignal(signal: str, s: ImageState) -> None:
    s.set_stop_signal(s.expand(signal))


def _df_cmd(cmd: str | tuple[str, ...], s: ImageState) -> None:
    s.set_cmd(_command(cmd, s.shell))


def _df_entrypoint(cmd: str | tuple[str, ...], s: ImageState) -> None:
    s.set_entrypoint(_command(cmd, s.shell), reset_cmd=True)


def dockerfile_plan(
    df: dfm.Dockerfile,
    context: str | os.PathLike[str],
    *,
    text: str | None = None,
    build_args: Mapping[str, str] | None = None,
) -> tuple[str | None, str | None, tuple[Step, ...]]:
    """Translate a Dockerfile without ``RUN`` into a base image and build steps.

    Args:
        df: The Dockerfile.
        context: The build context folder ``COPY``/``ADD`` read from.
        text: The Dockerfile's text, to name lines in errors.
        build_args: Values for ``ARG``s (``FROM`` included).

    Returns:
        The base (``None`` for ``FROM scratch``), ``FROM --platform`` (or
        ``None``), and the steps.

    Raises:
        UnsupportedInstruction: ``RUN``, a second ``FROM`` (multi-stage),
            ``COPY --from``, ``ADD`` of a URL, an unknown flag, a named
            ``--chown``; the message names the line.
        ValueError: No ``FROM``.
    """
    args = dict(build_args or {})
    context = os.fspath(context)
    escape = df.escape
    instructions = list(df.instructions)
    lines = _instruction_lines(text, instructions)
    global_args: dict[str, str] = {}
    base: str | None = None
    platform: str | None = None
    seen_from = False
    steps: list[Step] = []

    def history_step(rendered: str, action: Callable[[ImageState], None]) -> None:
        steps.append(ConfigStep(action, rendered, created_by=rendered, comment=DOCKERFILE_COMMENT))

    for instruction, line in zip(instructions, lines, strict=True):
        rendered = instruction.render(escape)
        if isinstance(instruction, dfm.Comment):
            continue
        if not seen_from and not isinstance(instruction, (dfm.Arg, dfm.From)):
            raise UnsupportedInstruction(line, rendered, "only ARG may come before FROM")
        if isinstance(instruction, dfm.Arg) and not seen_from:
            default = instruction.default
            value = args.get(instruction.name)
            if value is None and default is not None:
                value = expand_word(default, global_args, escape=escape, quotes=False)
            global_args[instruction.name] = value or ""
            continue
        if isinstance(instruction, dfm.From):
            if seen_from:
                raise UnsupportedInstruction(
                    line, rendered, "multi-stage builds need an engine: one FROM only"
                )
            seen_from = True
            image = expand_word(instruction.image, global_args, escape=escape)
            base = None if image.lower() == "scratch" else image
            if instruction.platform is not None:
                platform = expand_word(instruction.platform, global_args, escape=escape)
            continue
        if isinstance(instruction, (dfm.Run,)):
            raise UnsupportedInstruction(
                line, rendered, "RUN needs an engine to run the command: use client.build"
            )
        if isinstance(instruction, dfm.Arg):
            name, default = instruction.name, instruction.default

            def do_arg(s: ImageState, name: str = name, default: str | None = default) -> None:
                value = s.build_args.get(name)
                if value is None and name in global_args and default is None:
                    value = global_args[name]
                if value is None and default is not None:
                    value = s.expand(default, quotes=False)
                s.args[name] = value or ""

            steps.append(ConfigStep(do_arg, rendered))
            continue
        if isinstance(instruction, dfm.Env):
            pairs = instruction.pairs

            def do_env(s: ImageState, pairs: tuple[tuple[str, str], ...] = pairs) -> None:
                for key, value in pairs:
                    s.set_env([(key, s.expand(value, quotes=False))])

            history_step(rendered, do_env)
        elif isinstance(instruction, dfm.Label):
            pairs = instruction.pairs

            def do_label(s: ImageState, pairs: tuple[tuple[str, str], ...] = pairs) -> None:
                s.set_labels(
                    [(s.expand(k, quotes=False), s.expand(v, quotes=False)) for k, v in pairs]
                )

            history_step(rendered, do_label)
        elif isinstance(instruction, dfm.Maintainer):
            name = instruction.name

            def do_maintainer(s: ImageState, name: str = name) -> None:
                s.config["author"] = name

            history_step(rendered, do_maintainer)
        elif isinstance(instruction, dfm.User):
            user = instruction.user
            history_step(rendered, functools.partial(_df_user, user))
        elif isinstance(instruction, dfm.Workdir):
            path = instruction.path
            history_step(rendered, functools.partial(_df_workdir, path))
        elif isinstance(instruction, dfm.Expose):
            ports = instruction.ports
            history_step(rendered, functools.partial(_df_expose, ports))
        elif isinstance(instruction, dfm.Volume):
            vols = instruction.paths
            history_step(rendered, functools.partial(_df_volume, vols))
        elif isinstance(instruction, dfm.Stopsignal):
            sig = instruction.signal
            history_step(rendered, functools.partial(_df_stopsignal, sig))
        elif isinstance(instruction, dfm.Shell):
            shell = instruction.command

            def do_shell(s: ImageState, shell: tuple[str, ...] = shell) -> None:
                s.shell = shell
                s.run["Shell"] = list(shell)

            history_step(rendered, do_shell)
        elif isinstance(instruction, dfm.Cmd):
            cmd = instruction.command
            history_step(rendered, functools.partial(_df_cmd, cmd))
        elif isinstance(instruction, dfm.Entrypoint):
            ep = instruction.command
            history_step(rendered, functools.partial(_df_entrypoint, ep))
        elif isinstance(instruction, dfm.Onbuild):
            trigger = instruction.instruction.render(escape)

            def do_onbuild(s: ImageState, trigger: str = trigger) -> None:
                s.run["OnBuild"] = [*(s.run.get("OnBuild") or []), trigger]

            history_step(rendered, do_onbuild)
        elif isinstance(instruction, dfm.Healthcheck):
            check = _healthcheck(instruction)

            def do_health(s: ImageState, check: dict[str, Any] = check) -> None:
                s.run["Healthcheck"] = dict(check)

            history_step(rendered, do_health)
        elif isinstance(instruction, (dfm.Copy, dfm.Add)):
            steps.append(_copy_step(instruction, context, line, rendered))
        else:  # pragma: no cover - every instruction class is handled above
            raise UnsupportedInstruction(line, rendered, "not supported without an engine")
    if not seen_from:
        raise ValueError("the Dockerfile has no FROM instruction")
    return base, platform, tuple(steps)


_DURATION_UNITS = {
    "ns": 1,
    "us": 1_000,
    "µs": 1_000,
    "μs": 1_000,
    "ms": 1_000_000,
    "s": 1_000_000_000,
    "m": 60_000_000_000,
    "h": 3_600_000_000_000,
}


def _duration_ns(text: str) -> int:
    if text == "0":
        return 0
    total = 0.0
    for number, unit in re.findall(r"([0-9.]+)(ns|us|µs|μs|ms|s|m|h)", text):
        total += float(number) * _DURATION_UNITS[unit]
    return int(total)


def _healthcheck(instruction: dfm.Healthcheck) -> dict[str, Any]:
    if instruction.command is None:
        return {"Test": ["NONE"]}
    cmd = instruction.command
    test = ["CMD-SHELL", cmd] if isinstance(cmd, str) else ["CMD", *cmd]
    out: dict[str, Any] = {"Test": test}
    for key, value in (
        ("Interval", instruction.interval),
        ("Timeout", instruction.timeout),
        ("StartPeriod", instruction.start_period),
        ("StartInterval", instruction.start_interval),
    ):
        if value is not None:
            out[key] = _duration_ns(value)
    if instruction.retries is not None:
        out["Retries"] = instruction.retries
    return out


def _copy_step(
    instruction: dfm.Copy | dfm.Add, context: str, line: int, rendered: str
) -> ContextCopyStep:
    is_add = isinstance(instruction, dfm.Add)
    if isinstance(instruction, dfm.Copy) and instruction.from_ is not None:
        raise UnsupportedInstruction(
            line, rendered, "COPY --from needs another stage or image: use client.build"
        )
    if instruction.flags:
        raise UnsupportedInstruction(
            line, rendered, f"flags {list(instruction.flags)} are not supported without an engine"
        )
    if isinstance(instruction, dfm.Add) and instruction.checksum is not None:
        raise UnsupportedInstruction(line, rendered, "ADD --checksum is for remote sources")
    for source in instruction.sources:
        if _URL_RE.match(source):
            raise UnsupportedInstruction(
                line, rendered, "ADD of a URL or git repository is not supported without an engine"
            )
    if instruction.chown is not None and "$" not in instruction.chown:
        _owner_ids(instruction.chown, line, rendered)
    if instruction.chmod is not None:
        _octal(instruction.chmod, line, rendered)
    return ContextCopyStep(
        sources=instruction.sources,
        dest=instruction.dest,
        context=context,
        chown=instruction.chown,
        chmod=instruction.chmod,
        add=is_add,
        created_by=rendered,
        comment=DOCKERFILE_COMMENT,
    )


def _segments_match(pattern: str, path: str) -> bool:
    """Go's ``filepath.Match``: ``*`` and ``?`` never cross ``/``."""
    p_parts, parts = pattern.split("/"), path.split("/")
    return len(p_parts) == len(parts) and all(
        fnmatch.fnmatchcase(name, pat) for pat, name in zip(p_parts, parts, strict=True)
    )


class ContextFiles:
    """What a build context offers ``COPY``: its files minus ``.dockerignore``'s exclusions.

    Args:
        root: The context folder.
    """

    def __init__(self, root: str) -> None:
        self.root = root
        ignore_file = os.path.join(root, ".dockerignore")
        text = ""
        if os.path.exists(ignore_file):
            with open(ignore_file, "rb") as f:
                text = f.read().decode("utf-8", "surrogateescape")
        self.ignore = DockerIgnore.from_text(text)
        self._kept: list[str] | None = None

    @property
    def kept(self) -> list[str]:
        """Every kept path, relative, ``/``-separated."""
        if self._kept is None:
            self._kept = list(self.ignore.walk(self.root))
        return self._kept

    def match(self, pattern: str) -> list[str]:
        """The kept paths a source names (a path or a glob), relative to the root."""
        cleaned = _clean_path(pattern)
        if not cleaned:
            return [""]
        if _GLOB_CHARS & set(cleaned):
            return [p for p in self.kept if _segments_match(cleaned, p)]
        if self.ignore.is_excluded(cleaned) and cleaned not in ("Dockerfile", ".dockerignore"):
            return []
        return [cleaned] if os.path.lexists(os.path.join(self.root, cleaned)) else []

    def accept_below(self, rel_dir: str) -> Callable[[str], bool]:
        """A filter for paths under a kept folder ``rel_dir``."""
        prefix = rel_dir + "/" if rel_dir else ""
        return lambda rel: not self.ignore.is_excluded(prefix + rel)


def plan_context_copy(
    step: ContextCopyStep, state: ImageState, files: ContextFiles
) -> tuple[list[LayerEntry], list[tuple[str, str, tuple[int, int] | None]]]:
    """The entries of a Dockerfile ``COPY``/``ADD``, and the archives ``ADD`` extracts.

    Returns:
        Sorted layer entries, and ``(local archive, image folder)`` pairs to
        extract after them (``ADD`` of a local tar).

    Raises:
        FileNotFoundError: A source matches nothing in the context.
    """
    sources = [state.expand(s) for s in step.sources]
    dest_word = state.expand(step.dest)
    dest = state.resolve(dest_word)
    uid, gid = (0, 0)
    if step.chown is not None:
        uid, gid = _owner_ids(state.expand(step.chown), 0, step.created_by)
    mode = _octal(step.chmod, 0, step.created_by) if step.chmod is not None else None
    options = LayerOptions(uid, gid, mode, mode, state.timestamp, state.scratch)
    matched: list[str] = []
    for source in sources:
        found = files.match(source)
        if not found and not _GLOB_CHARS & set(source):
            raise FileNotFoundError(
                f"{step.created_by}: {source} is not in the build context {files.root}"
                " (or .dockerignore excludes it)"
            )
        matched.extend(found)
    if not matched:
        raise FileNotFoundError(
            f"{step.created_by}: no source files in the build context {files.root}"
            " (or .dockerignore excludes them)"
        )
    into_dir = dest.endswith("/") or len(matched) > 1 or any(_GLOB_CHARS & set(s) for s in sources)
    entries: list[LayerEntry] = []
    archives: list[tuple[str, str, tuple[int, int] | None]] = []
    owner = (uid, gid) if step.chown is not None else None
    for rel in matched:
        local = os.path.join(files.root, rel) if rel else files.root
        is_dir = os.path.isdir(local)
        if is_dir:
            target = dest.rstrip("/") or "/"
            accept = files.accept_below(rel)
            entries.extend(_local_entries(local, target, options, state.timestamp, accept))
            continue
        if step.add and is_archive(local):
            archives.append((local, dest.rstrip("/") or "/", owner))
            continue
        target = posixpath.join(dest, posixpath.basename(rel)) if into_dir else dest
        entries.extend(_local_entries(local, target, options, state.timestamp))
    normalized = normalize_entries(entries, parents=state.scratch, mtime=state.timestamp)
    return _link_hardlinks(normalized), archives
