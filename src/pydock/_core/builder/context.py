"""A Dockerfile ``COPY``/``ADD`` from a build context, as layer entries."""

from __future__ import annotations

import fnmatch
import os
import posixpath
import re
from collections.abc import Callable

from pydock._core.builder.files import link_hardlinks, local_entries
from pydock._core.builder.image import ImageState
from pydock._core.builder.plan import ContextCopyStep, LayerOptions
from pydock._core.builder.tar import LayerEntry, clean_path, is_archive, normalize_entries
from pydock._core.dockerignore import DockerIgnore
from pydock.errors import UnsupportedInstruction

__all__ = ["ContextFiles", "octal_mode", "owner_ids", "plan_context_copy"]

_GLOB_CHARS = frozenset("*?[")


def octal_mode(text: str, line: int, rendered: str) -> int:
    """The bits of a ``--chmod`` value (octal only).

    Raises:
        UnsupportedInstruction: Not an octal mode; names ``line`` and ``rendered``.
    """
    if not re.fullmatch(r"[0-7]{1,4}", text):
        raise UnsupportedInstruction(
            line, rendered, f"--chmod={text}: only octal modes are supported without an engine"
        )
    return int(text, 8)


def owner_ids(text: str, line: int, rendered: str) -> tuple[int, int]:
    """The ``(uid, gid)`` of a ``--chown`` value (numeric IDs or ``root``).

    Raises:
        UnsupportedInstruction: A user or group name other than ``root``.
    """
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
        cleaned = clean_path(pattern)
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
        uid, gid = owner_ids(state.expand(step.chown), 0, step.created_by)
    mode = octal_mode(step.chmod, 0, step.created_by) if step.chmod is not None else None
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
            entries.extend(local_entries(local, target, options, state.timestamp, accept))
            continue
        if step.add and is_archive(local):
            archives.append((local, dest.rstrip("/") or "/", owner))
            continue
        target = posixpath.join(dest, posixpath.basename(rel)) if into_dir else dest
        entries.extend(local_entries(local, target, options, state.timestamp))
    normalized = normalize_entries(entries, parents=state.scratch, mtime=state.timestamp)
    return link_hardlinks(normalized), archives
