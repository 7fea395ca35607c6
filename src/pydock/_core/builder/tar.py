"""Layer tar streams: entries, reproducible headers, extracted archives.

A layer is a list of :class:`LayerEntry` written by :func:`iter_layer`:
entries sorted by path, fixed timestamps, chosen owners and modes, no user or
group names, PAX headers only where ustar cannot say it. A local tar archive's
members can follow them (``ADD x.tar /``). File bytes are read with plain
blocking calls; the I/O layer runs this in a worker thread.
"""

from __future__ import annotations

import os
import posixpath
import tarfile
from collections.abc import Iterable, Iterator
from typing import Literal

import attrs

from pydock import errors
from pydock._core.archive import BLOCK, CHUNK, check_member_name

__all__ = [
    "LayerEntry",
    "clean_path",
    "is_archive",
    "iter_archive_members",
    "iter_layer",
    "iter_layer_tar",
    "normalize_entries",
    "tar_header",
]


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


def clean_path(path: str) -> str:
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
        path = clean_path(entry.path)
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


def iter_archive_members(
    path: str, dest: str, owner: tuple[int, int] | None = None, *, chunk: int = CHUNK
) -> Iterator[bytes]:
    """Tar blocks of a local archive's members moved below image folder ``dest`` (no end blocks).

    Members keep their order and metadata; ``owner`` replaces their uid/gid.

    Raises:
        UnsafeArchiveError: A member's name is absolute or climbs out with ``..``.
        tarfile.TarError: The file is not a readable tar archive.
    """
    prefix = clean_path(dest)
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
