"""Engine builds without I/O: the build context as a tar stream, and progress.

* :func:`folder_context` / :func:`memory_context` - the build context as tar
  chunks, produced piece by piece: a folder filtered by its ``.dockerignore``
  exactly as the docker CLI does, or a :class:`~pydock.Dockerfile` plus files.
  Nothing is held whole in memory; :func:`gzip_chunks` compresses on the fly.
* :class:`BuildDecoder` - the build's JSON-lines stream to typed
  :class:`BuildEvent` objects, with the build log kept for :class:`BuildError`.

The build's options and the request query they become are in
:mod:`pydock._core.build_options`.

The context functions read local files with plain blocking calls (no
network), so the sync and async clients share them.
"""

from __future__ import annotations

import itertools
import os
import posixpath
import re
import tarfile
import time
import zlib
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, Literal

import attrs

from pydock._core.archive import BLOCK, CHUNK, tar_entry, tar_members
from pydock._core.dialect import Backend
from pydock._core.dockerfile import Dockerfile
from pydock._core.dockerignore import DockerIgnore
from pydock._core.images import ProgressDecoder
from pydock.errors import BuildError

__all__ = [
    "BuildDecoder",
    "BuildEvent",
    "ContextFile",
    "folder_context",
    "gzip_chunks",
    "memory_context",
    "read_dockerignore",
]

#: What a file of an in-memory context can be: its bytes, its text (UTF-8),
#: or a local file or folder (copied with its modes).
ContextFile = bytes | str | os.PathLike[str]

#: The owner the docker CLI gives every file of a context.
_ROOT = (0, 0)
_FILE_MODE = 0o644

EventKind = Literal["step", "output", "status", "image", "tag"]


@attrs.frozen
class BuildEvent:
    """One event of a build, as the engine reports it.

    Attributes:
        kind: ``"step"`` (an instruction starts), ``"output"`` (a line printed
            by a ``RUN`` command), ``"status"`` (the builder's own messages:
            intermediate containers, layer commits), ``"image"`` (an image
            was made: a stage's or, last, the build's) or ``"tag"`` (the
            image was tagged).
        message: The line, without its newline or terminal colours.
        step: The current step, counted from 1 (within the stage on Podman),
            or None before the first.
        total_steps: How many steps there are (in the stage on Podman).
        instruction: The current step's instruction (``"RUN make"``).
        stream: For output lines, ``"stdout"`` or ``"stderr"`` when the engine
            tells them apart (Docker does, Podman does not), else None.
        image_id: For ``"image"`` events, the image ID (``sha256:...``).
        stage: On Podman, the current stage of a multi-stage build (from 1).
        total_stages: On Podman, how many stages the build has.
    """

    kind: EventKind
    message: str
    step: int | None = None
    total_steps: int | None = None
    instruction: str | None = None
    stream: Literal["stdout", "stderr"] | None = None
    image_id: str | None = None
    stage: int | None = None
    total_stages: int | None = None


# -- the context ---------------------------------------------------------------


def _context_path(name: str, what: str) -> str:
    """Check a path inside the context: relative, ``/``-separated, no ``..``.

    Raises:
        ValueError: It is empty, absolute or climbs out of the context.
    """
    cleaned = posixpath.normpath(name.replace(os.sep, "/")) if name else ""
    if not cleaned or cleaned == "." or cleaned.startswith("/") or cleaned.split("/")[0] == "..":
        raise ValueError(f"{what} {name!r} must be a relative path inside the build context")
    return cleaned


def folder_context(
    root: str | os.PathLike[str],
    *,
    dockerfile: str = "Dockerfile",
    ignore: DockerIgnore | None = None,
    extra: Mapping[str, ContextFile] | None = None,
    chunk: int = CHUNK,
) -> Iterator[bytes]:
    """The tar stream the docker CLI sends for the context folder ``root``.

    The ``.dockerignore`` at the root is honoured (``ignore`` replaces it when
    given); the Dockerfile and ``.dockerignore`` are always sent. Entries come
    in the order Docker walks them, owned by ``0:0``, with their modes and
    modification times; symlinks are stored, not followed. ``extra`` files
    are appended after the folder's (an in-memory Dockerfile, say).

    The arguments are checked at once; the stream is produced as it is read.

    Raises:
        FileNotFoundError: ``root`` is not a folder, or the Dockerfile is missing.
        ValueError: ``dockerfile`` or an ``extra`` name leaves the context, or
            the ``.dockerignore`` has an invalid pattern.
        OSError: A file cannot be read.
    """
    base = os.fspath(root)
    if not os.path.isdir(base):
        raise FileNotFoundError(f"the build context {base!r} is not a folder")
    dockerfile = _context_path(dockerfile, "the Dockerfile")
    extras = _check_files(extra or {})
    if not os.path.isfile(os.path.join(base, dockerfile)) and dockerfile not in dict(extras):
        raise FileNotFoundError(f"the build context {base!r} has no Dockerfile {dockerfile!r}")
    if ignore is None:
        ignore = read_dockerignore(base)
    return _folder_chunks(base, dockerfile, ignore, extras, chunk)


def _folder_chunks(
    base: str,
    dockerfile: str,
    ignore: DockerIgnore,
    extras: list[tuple[str, ContextFile]],
    chunk: int,
) -> Iterator[bytes]:
    for relative in ignore.walk(base, always_include=(dockerfile, ".dockerignore")):
        path = os.path.join(base, *relative.split("/"))
        yield from tar_entry(path, relative, os.lstat(path), chunk=chunk, owner=_ROOT)
    yield from _extra_members(extras, chunk)
    yield bytes(2 * BLOCK)


def read_dockerignore(root: str) -> DockerIgnore:
    """The ``.dockerignore`` of a context folder (an empty one when there is none)."""
    try:
        with open(os.path.join(root, ".dockerignore"), "rb") as f:
            return DockerIgnore.from_text(f.read())
    except FileNotFoundError:
        return DockerIgnore([])


def memory_context(
    dockerfile: Dockerfile | str | bytes,
    files: Mapping[str, ContextFile] | None = None,
    *,
    name: str = "Dockerfile",
    chunk: int = CHUNK,
) -> Iterator[bytes]:
    """A context made of a Dockerfile and the given files, as a tar stream.

    Args:
        dockerfile: The Dockerfile (a model, or its text).
        files: Context paths to their content: bytes or text (stored with mode
            0644), or a local file or folder (stored with its modes).
        name: The Dockerfile's name in the context.
        chunk: Size of the pieces local files are read in.

    Raises:
        ValueError: A name is absolute or leaves the context.
        FileNotFoundError: A local file given does not exist.
    """
    text = dockerfile if isinstance(dockerfile, bytes) else str(dockerfile).encode()
    name = _context_path(name, "the Dockerfile")
    extras = _check_files(files or {})
    return itertools.chain(
        _bytes_member(name, text), _extra_members(extras, chunk), [bytes(2 * BLOCK)]
    )


def _check_files(files: Mapping[str, ContextFile]) -> list[tuple[str, ContextFile]]:
    """Check every name and local path before the first byte goes out.

    Raises:
        ValueError: A name leaves the context.
        FileNotFoundError: A local path does not exist.
        TypeError: A content is neither bytes, text nor a path.
    """
    checked: list[tuple[str, ContextFile]] = []
    for name, content in files.items():
        if isinstance(content, os.PathLike):
            if not os.path.lexists(content):
                raise FileNotFoundError(
                    f"the context file {name!r}: {os.fspath(content)!r} does not exist"
                )
        elif not isinstance(content, (bytes, str)):
            raise TypeError(
                f"the context file {name!r} must be bytes, text or a path,"
                f" not {type(content).__name__}"
            )
        checked.append((_context_path(name, "the context file"), content))
    return checked


def _extra_members(files: list[tuple[str, ContextFile]], chunk: int) -> Iterator[bytes]:
    for name, content in files:
        if isinstance(content, bytes):
            yield from _bytes_member(name, content)
        elif isinstance(content, str):
            yield from _bytes_member(name, content.encode())
        else:
            yield from tar_members(content, name, chunk=chunk, owner=_ROOT)


def _bytes_member(name: str, data: bytes) -> Iterator[bytes]:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = _FILE_MODE
    info.mtime = int(time.time())
    yield info.tobuf(tarfile.PAX_FORMAT, "utf-8", "surrogateescape")
    yield data
    if len(data) % BLOCK:
        yield bytes(BLOCK - len(data) % BLOCK)


def gzip_chunks(chunks: Iterable[bytes], level: int = 6) -> Iterator[bytes]:
    """Compress a stream of chunks with gzip, piece by piece."""
    compressor = zlib.compressobj(level, zlib.DEFLATED, 31)
    for chunk in chunks:
        out = compressor.compress(chunk)
        if out:
            yield out
    yield compressor.flush()


# -- the progress stream ---------------------------------------------------------

_DOCKER_STEP = re.compile(r"Step (\d+)/(\d+) : (.*)", re.S)
_PODMAN_STEP = re.compile(r"(?:\[(\d+)/(\d+)\] )?STEP (\d+)/(\d+): (.*)", re.S)
_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_STDERR_ON = "\x1b[91m"
_COLOUR_OFF = "\x1b[0m"
_IMAGE_ID = re.compile(r"[0-9a-f]{64}")
_DOCKER_STATUS = (
    " ---> ",
    "Removing intermediate container ",
    "Successfully built ",
)
_PODMAN_STATUS = (
    "COMMIT",
    "--> ",
    "Getting image source signatures",
    "Copying blob ",
    "Copying config ",
    "Writing manifest to image destination",
    "Storing signatures",
)
_TAGGED = "Successfully tagged "
#: Most log lines kept for a BuildError (the oldest are dropped past it).
_MAX_LOG = 10_000


class BuildDecoder(ProgressDecoder[BuildEvent]):
    """Decode a build's progress stream (bytes in, :class:`BuildEvent` out).

    Both engines send ``{"stream": text}`` objects holding pieces of the build's
    output. Docker's classic builder prints ``Step 2/5 : RUN ...`` and colours
    what commands write to stderr; Podman prints ``[1/2] STEP 2/5: RUN ...``
    and ends with the image ID on a line of its own. Docker also sends
    ``{"aux": {"ID": ...}}`` for each image it makes. Errors come as
    ``{"error": ..., "errorDetail": ...}`` and raise :class:`BuildError`
    carrying the failing step and the log.

    Attributes:
        image_id: The last image made (the build's result once the stream ends).
        tags: The names the engine reports tagging.
        log: Every line of the build so far (the last 10,000).
    """

    def __init__(self, backend: Backend) -> None:
        super().__init__()
        self.backend = backend
        self.image_id: str | None = None
        self.tags: list[str] = []
        self.log: list[str] = []
        self._buffers = {"stdout": "", "stderr": ""}
        self._stderr = False
        self._step: int | None = None
        self._total: int | None = None
        self._instruction: str | None = None
        self._stage: int | None = None
        self._stages: int | None = None

    def events(self, objects: Iterable[Mapping[str, Any]]) -> list[BuildEvent]:
        """Turn decoded objects into events.

        Raises:
            BuildError: The engine reported that the build failed.
        """
        out: list[BuildEvent] = []
        for obj in objects:
            error = (obj.get("errorDetail") or {}).get("message") or obj.get("error")
            if error:
                self._drain(out)
                message = str(error).strip()
                self._remember(message)
                raise BuildError(message, step=self._instruction, log=self.log)
            aux = obj.get("aux")
            if isinstance(aux, Mapping) and aux.get("ID"):
                self._drain(out)
                self.image_id = str(aux["ID"])
                out.append(self._event("image", self.image_id, image_id=self.image_id))
            text = obj.get("stream")
            if isinstance(text, str) and text:
                self._feed_text(text, out)
        return out

    def flush(self) -> list[BuildEvent]:
        """End the stream: the last partial lines become events.

        Raises:
            StreamError: The stream was cut short inside a JSON object.
        """
        out = super().flush()
        self._drain(out)
        return out

    def _drain(self, out: list[BuildEvent]) -> None:
        for stream in ("stdout", "stderr"):
            rest = self._buffers[stream]
            if rest:
                self._buffers[stream] = ""
                self._line(rest, stream, out)

    def _feed_text(self, text: str, out: list[BuildEvent]) -> None:
        # Docker wraps what commands write to stderr in ESC[91m ... ESC[0m.
        for piece in re.split(r"(\x1b\[91m|\x1b\[0m)", text):
            if piece == _STDERR_ON:
                self._stderr = True
            elif piece == _COLOUR_OFF:
                self._stderr = False
            elif piece:
                stream = "stderr" if self._stderr else "stdout"
                lines = (self._buffers[stream] + piece).split("\n")
                self._buffers[stream] = lines.pop()
                for line in lines:
                    self._line(line, stream, out)

    def _line(self, raw: str, stream: str, out: list[BuildEvent]) -> None:
        line = _ANSI.sub("", raw).rstrip("\r")
        self._remember(line)
        if stream == "stderr":
            out.append(self._event("output", line, stream="stderr"))
            return
        if self.backend == "podman":
            self._podman_line(line, out)
        else:
            self._docker_line(line, out)

    def _docker_line(self, line: str, out: list[BuildEvent]) -> None:
        step = _DOCKER_STEP.fullmatch(line)
        if step:
            self._step, self._total = int(step[1]), int(step[2])
            self._instruction = step[3].strip()
            out.append(self._event("step", line))
        elif line.startswith(_TAGGED):
            self.tags.append(line[len(_TAGGED) :].strip())
            out.append(self._event("tag", line))
        elif line.startswith(_DOCKER_STATUS):
            out.append(self._event("status", line))
        else:
            out.append(self._event("output", line, stream="stdout"))

    def _podman_line(self, line: str, out: list[BuildEvent]) -> None:
        step = _PODMAN_STEP.fullmatch(line)
        if step:
            if step[1]:
                self._stage, self._stages = int(step[1]), int(step[2])
            self._step, self._total = int(step[3]), int(step[4])
            self._instruction = step[5].strip()
            out.append(self._event("step", line))
        elif _IMAGE_ID.fullmatch(line.strip()):
            self.image_id = "sha256:" + line.strip()
            out.append(self._event("image", line, image_id=self.image_id))
        elif line.startswith(_TAGGED):
            self.tags.append(line[len(_TAGGED) :].strip())
            out.append(self._event("tag", line))
        elif line.startswith(_PODMAN_STATUS):
            out.append(self._event("status", line))
        else:
            out.append(self._event("output", line))

    def _event(self, kind: EventKind, message: str, **extra: Any) -> BuildEvent:
        return BuildEvent(
            kind,
            message,
            step=self._step,
            total_steps=self._total,
            instruction=self._instruction,
            stage=self._stage,
            total_stages=self._stages,
            **extra,
        )

    def _remember(self, line: str) -> None:
        self.log.append(line)
        if len(self.log) > _MAX_LOG:
            del self.log[: len(self.log) - _MAX_LOG]
