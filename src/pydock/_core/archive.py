"""Tar archives for ``docker cp``: streamed both ways, extracted safely.

* :class:`TarReader` - a push parser: feed it the chunks of a tar stream as
  they arrive, get back member headers and data pieces. It never holds more
  than one 512-byte block plus one chunk (and a bounded PAX/GNU name record).
* :func:`check_member_name` / :func:`link_escapes` - the pure path-safety
  decisions: no absolute names, no ``..``, no links pointing outside.
* :class:`SafeExtractor` - writes the members below one folder, checking
  every path on disk (symlinks already there included) before writing it.
* :func:`iter_tar` - a tar stream of local files and folders, produced piece
  by piece (files read in bounded chunks).

The last two touch the local filesystem with plain blocking calls (no
network), so the sync and async clients share them.
"""

from __future__ import annotations

import os
import stat
import tarfile
from collections.abc import Iterable, Iterator
from pathlib import PurePosixPath
from typing import Any

import attrs

from pydock.errors import PydockError

__all__ = [
    "BLOCK",
    "ArchiveFormatError",
    "CHUNK",
    "SafeExtractor",
    "TarEnd",
    "TarMember",
    "TarReader",
    "UnsafeArchiveError",
    "check_member_name",
    "extract_tar",
    "iter_tar",
    "local_source",
    "tar_entry",
    "tar_members",
    "link_escapes",
]

BLOCK = 512
#: Size of the pieces files are read and written in.
CHUNK = 256 * 1024
#: Longest PAX or GNU long-name record accepted.
MAX_META = 1024 * 1024
_ZERO = bytes(BLOCK)


class UnsafeArchiveError(PydockError):
    """A tar archive holds a member that would land outside the destination folder.

    Attributes:
        member: The offending member's name.
    """

    def __init__(self, message: str, *, member: str) -> None:
        super().__init__(message)
        self.member = member


class ArchiveFormatError(PydockError):
    """The stream is not a valid tar archive (or ends in the middle of one)."""


@attrs.frozen
class TarMember:
    """The header of one archive member; its data follows as ``bytes`` events.

    Attributes:
        name: The member's path in the archive (``/``-separated).
        kind: ``"file"``, ``"dir"``, ``"symlink"``, ``"hardlink"`` or ``"other"``.
        size: Bytes of data that follow (files only).
        mode: Permission bits.
        mtime: Modification time (Unix seconds).
        linkname: The target of a link.
    """

    name: str
    kind: str
    size: int
    mode: int
    mtime: float
    linkname: str = ""


@attrs.frozen
class TarEnd:
    """The data of the current member is complete."""


_KINDS = {
    tarfile.REGTYPE: "file",
    tarfile.AREGTYPE: "file",
    tarfile.CONTTYPE: "file",
    tarfile.DIRTYPE: "dir",
    tarfile.SYMTYPE: "symlink",
    tarfile.LNKTYPE: "hardlink",
}


def _pad(size: int) -> int:
    return (-size) % BLOCK


def _parse_pax(data: bytes) -> dict[str, str]:
    """PAX records: ``"<len> <key>=<value>\\n"`` repeated."""
    out: dict[str, str] = {}
    pos = 0
    while pos < len(data):
        space = data.find(b" ", pos)
        if space < 0:
            break
        try:
            length = int(data[pos:space])
        except ValueError:
            raise ArchiveFormatError("invalid PAX header record") from None
        if length <= 0:
            raise ArchiveFormatError("invalid PAX header record")
        record = data[space + 1 : pos + length - 1]
        key, _, value = record.partition(b"=")
        out[key.decode("utf-8", "surrogateescape")] = value.decode("utf-8", "surrogateescape")
        pos += length
    return out


class TarReader:
    """Parse a tar stream pushed in chunks of any size.

    ``feed()`` returns events in order: a :class:`TarMember`, its data as
    ``bytes`` pieces, then :class:`TarEnd`; and so on for each member. PAX
    extended headers and GNU long names are applied to the member they
    describe. ``finished`` turns true at the end-of-archive blocks.
    """

    def __init__(self) -> None:
        self._buf = bytearray()
        self._remaining = 0  # data bytes of the current member still to come
        self._padding = 0
        self._meta: bytearray | None = None  # collecting a PAX / GNU record
        self._meta_kind = b""
        self._pax: dict[str, str] = {}
        self._long_name: str | None = None
        self._long_link: str | None = None
        self._in_member = False
        self.finished = False

    def feed(self, data: bytes) -> list[TarMember | TarEnd | bytes]:
        """Parse the next chunk.

        Raises:
            ArchiveFormatError: The stream is not a tar archive.
        """
        out: list[TarMember | TarEnd | bytes] = []
        view = memoryview(data)
        pos = 0
        size = len(data)
        while pos < size and not self.finished:
            if self._remaining:
                take = min(self._remaining, size - pos)
                piece = bytes(view[pos : pos + take])
                pos += take
                self._remaining -= take
                if self._meta is not None:
                    self._meta += piece
                else:
                    out.append(piece)
                if not self._remaining and self._padding == 0:
                    self._end_data(out)
                continue
            if self._padding:
                take = min(self._padding, size - pos)
                pos += take
                self._padding -= take
                if not self._padding:
                    self._end_data(out)
                continue
            need = BLOCK - len(self._buf)
            take = min(need, size - pos)
            self._buf += view[pos : pos + take]
            pos += take
            if len(self._buf) == BLOCK:
                block = bytes(self._buf)
                self._buf.clear()
                self._header(block, out)
        return out

    def close(self) -> None:
        """End of the stream.

        Raises:
            ArchiveFormatError: The stream ended inside a member.
        """
        if self._remaining or self._padding or self._buf or self._meta is not None:
            raise ArchiveFormatError("the tar stream ended in the middle of a member")

    def _end_data(self, out: list[TarMember | TarEnd | bytes]) -> None:
        if self._meta is not None:
            data = bytes(self._meta)
            self._meta = None
            if self._meta_kind == tarfile.XHDTYPE:
                self._pax.update(_parse_pax(data))
            elif self._meta_kind == tarfile.GNUTYPE_LONGNAME:
                self._long_name = data.rstrip(b"\0").decode("utf-8", "surrogateescape")
            elif self._meta_kind == tarfile.GNUTYPE_LONGLINK:
                self._long_link = data.rstrip(b"\0").decode("utf-8", "surrogateescape")
            return
        if self._in_member:
            self._in_member = False
            out.append(TarEnd())

    def _header(self, block: bytes, out: list[TarMember | TarEnd | bytes]) -> None:
        if block == _ZERO:
            self.finished = True
            return
        try:
            info = tarfile.TarInfo.frombuf(block, "utf-8", "surrogateescape")
        except tarfile.HeaderError as exc:
            raise ArchiveFormatError(f"invalid tar header: {exc}") from None
        kind = info.type
        if kind in (tarfile.XHDTYPE, tarfile.XGLTYPE, tarfile.GNUTYPE_LONGNAME,
                    tarfile.GNUTYPE_LONGLINK):  # fmt: skip
            if info.size > MAX_META:
                raise ArchiveFormatError("tar metadata record too large")
            self._remaining = info.size
            self._padding = _pad(info.size)
            self._meta = bytearray()
            self._meta_kind = kind
            if not self._remaining and not self._padding:
                self._end_data(out)
            return
        name = self._pax.pop("path", None) or self._long_name or info.name
        linkname = self._pax.pop("linkpath", None) or self._long_link or info.linkname
        size = int(self._pax.pop("size", info.size))
        self._pax.clear()
        self._long_name = self._long_link = None
        member_kind = _KINDS.get(kind, "other")
        if member_kind not in ("file", "other"):
            size = 0
        if member_kind == "dir":
            name = name.rstrip("/")
        out.append(TarMember(name, member_kind, size, info.mode & 0o7777, info.mtime, linkname))
        self._in_member = True
        self._remaining = size
        self._padding = _pad(size)
        if not size:
            self._end_data(out)


# --------------------------------------------------------------------------- decisions


def check_member_name(name: str) -> tuple[str, ...]:
    """The path parts of a member name, if it stays inside the destination.

    ``./`` prefixes and empty parts are dropped; the archive root itself
    (``.``) gives ``()``.

    Raises:
        UnsafeArchiveError: The name is absolute or has a ``..`` part.
    """
    if name.startswith(("/", "\\")):
        raise UnsafeArchiveError(f"refusing absolute path in archive: {name!r}", member=name)
    parts = [p for p in name.replace("\\", "/").split("/") if p not in ("", ".")]
    if ".." in parts:
        raise UnsafeArchiveError(f"refusing '..' in archive path: {name!r}", member=name)
    if "\0" in name:
        raise UnsafeArchiveError(f"refusing NUL in archive path: {name!r}", member=name)
    return tuple(parts)


def link_escapes(member_parts: tuple[str, ...], linkname: str, *, hardlink: bool) -> bool:
    """Whether a link, judged by its names alone, points outside the destination.

    A symlink's target is relative to the folder holding it; a hard link's to
    the archive root. Absolute targets always escape.
    """
    if linkname.startswith("/"):
        return True
    base = () if hardlink else member_parts[:-1]
    depth = len(base)
    for part in PurePosixPath(linkname).parts:
        if part in (".", ""):
            continue
        depth = depth - 1 if part == ".." else depth + 1
        if depth < 0:
            return True
    return False


def _inside(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


# --------------------------------------------------------------------------- extraction


class SafeExtractor:
    """Write tar members below ``dest`` and nowhere else.

    Members with absolute names, ``..`` parts, links whose targets leave
    ``dest``, or paths whose parent folders resolve (through symlinks already
    on disk) outside ``dest`` raise :class:`UnsafeArchiveError` before anything
    is written for them. Devices, FIFOs and the like are skipped. Modes and
    modification times are kept; ownership is not.

    Args:
        dest: The destination folder (must exist).
        rename: ``(old, new)``: a first path part to rename (``docker cp`` to a
            new name).
    """

    def __init__(self, dest: str | os.PathLike[str], *, rename: tuple[str, str] | None = None):
        self.root = os.path.realpath(os.fspath(dest))
        self._rename = rename
        self._file: Any = None
        self._current: tuple[str, TarMember] | None = None
        self._dirs: list[tuple[str, TarMember]] = []
        self.written: list[str] = []

    @classmethod
    def for_copy(cls, host_path: str | os.PathLike[str], root: str) -> SafeExtractor:
        """The extractor for ``docker cp CONTAINER:SRC host_path`` of an archive rooted at ``root``.

        An existing folder receives the archive as is; any other path names
        the copy (its parent must exist), so ``root`` is renamed to it.

        Raises:
            FileNotFoundError: The parent of ``host_path`` does not exist.
        """
        dest = os.fspath(host_path)
        if os.path.isdir(dest):
            return cls(dest)
        parent = os.path.dirname(os.path.abspath(dest))
        if not os.path.isdir(parent):
            raise FileNotFoundError(parent)
        return cls(parent, rename=(root, os.path.basename(dest)))

    def feed(self, events: list[TarMember | TarEnd | bytes]) -> None:
        """Apply parsed events.

        Raises:
            UnsafeArchiveError: A member would land outside the destination.
            OSError: Writing failed.
        """
        for event in events:
            if isinstance(event, bytes):
                if self._file is not None:
                    self._file.write(event)
            elif isinstance(event, TarMember):
                self._start(event)
            else:
                self._finish()

    def close(self) -> None:
        """Finish: close the open file and set folder modes and times (last, so writes succeed)."""
        self._finish()
        for path, member in reversed(self._dirs):
            os.chmod(path, member.mode)
            os.utime(path, (member.mtime, member.mtime))
        self._dirs.clear()

    def abort(self) -> None:
        """Close the open file after a failure."""
        if self._file is not None:
            self._file.close()
            self._file = None

    def _target(self, member: TarMember) -> tuple[str, tuple[str, ...]]:
        parts = check_member_name(member.name)
        if parts and self._rename and parts[0] == self._rename[0]:
            parts = (self._rename[1], *parts[1:])
        if not parts:
            return self.root, parts
        parent = os.path.realpath(os.path.join(self.root, *parts[:-1]))
        if not _inside(parent, self.root):
            raise UnsafeArchiveError(
                f"refusing {member.name!r}: its folder resolves outside the destination",
                member=member.name,
            )
        return os.path.join(parent, parts[-1]), parts

    def _start(self, member: TarMember) -> None:
        self._finish()
        path, parts = self._target(member)
        if member.kind in ("symlink", "hardlink"):
            self._link(member, path, parts)
            return
        if member.kind == "dir":
            if os.path.islink(path):
                os.unlink(path)
            os.makedirs(path, mode=0o700, exist_ok=True)
            self._dirs.append((path, member))
            self.written.append(path)
            return
        if member.kind != "file" or not parts:
            return
        if os.path.islink(path) or (os.path.lexists(path) and not os.path.isfile(path)):
            if os.path.isdir(path) and not os.path.islink(path):
                raise UnsafeArchiveError(
                    f"refusing to replace folder {path!r} with a file", member=member.name
                )
            os.unlink(path)
        flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0)
        fd = os.open(path, flags, 0o600)
        self._file = os.fdopen(fd, "wb")
        self._current = (path, member)
        self.written.append(path)

    def _link(self, member: TarMember, path: str, parts: tuple[str, ...]) -> None:
        hard = member.kind == "hardlink"
        if not parts or link_escapes(parts, member.linkname, hardlink=hard):
            raise UnsafeArchiveError(
                f"refusing link {member.name!r} -> {member.linkname!r}: it points outside "
                "the destination",
                member=member.name,
            )
        if hard:
            link_parts = check_member_name(member.linkname)
            if link_parts and self._rename and link_parts[0] == self._rename[0]:
                link_parts = (self._rename[1], *link_parts[1:])
            source = os.path.realpath(os.path.join(self.root, *link_parts))
        else:
            source = os.path.realpath(os.path.join(os.path.dirname(path), member.linkname))
        if not _inside(source, self.root):
            raise UnsafeArchiveError(
                f"refusing link {member.name!r} -> {member.linkname!r}: it resolves outside "
                "the destination",
                member=member.name,
            )
        if os.path.lexists(path) and not (os.path.isdir(path) and not os.path.islink(path)):
            os.unlink(path)
        if hard:
            if os.path.isfile(source):
                os.link(source, path, follow_symlinks=False)
        else:
            os.symlink(member.linkname, path)
        self.written.append(path)

    def _finish(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
        if self._current is not None:
            path, member = self._current
            self._current = None
            os.chmod(path, member.mode)
            os.utime(path, (member.mtime, member.mtime))


# --------------------------------------------------------------------------- creation


@attrs.frozen
class LocalSource:
    """A local path to copy into a container.

    Attributes:
        path: The path as given.
        name: Its last part (the name it gets in the container's folder).
    """

    path: str
    name: str


def local_source(path: str | os.PathLike[str]) -> LocalSource:
    """Check that a local path exists and name it.

    Raises:
        FileNotFoundError: It does not exist.
    """
    text = os.fspath(path)
    if not os.path.lexists(text):
        raise FileNotFoundError(text)
    return LocalSource(text, os.path.basename(os.path.normpath(text)))


def _header(
    name: str,
    st: os.stat_result,
    *,
    kind: bytes,
    size: int = 0,
    link: str = "",
    owner: tuple[int, int] | None = None,
) -> bytes:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.mode = stat.S_IMODE(st.st_mode)
    info.mtime = int(st.st_mtime)
    info.size = size
    info.linkname = link
    info.uid, info.gid = owner if owner is not None else (st.st_uid, st.st_gid)
    return info.tobuf(tarfile.PAX_FORMAT, "utf-8", "surrogateescape")


def _file_chunks(path: str, size: int, chunk: int) -> Iterator[bytes]:
    sent = 0
    with open(path, "rb") as f:
        while sent < size:
            data = f.read(min(chunk, size - sent))
            if not data:
                break
            sent += len(data)
            yield data
    if sent < size:  # the file shrank while being read: keep the archive well-formed
        yield bytes(size - sent)
    if _pad(size):
        yield bytes(_pad(size))


def iter_tar(
    source: str | os.PathLike[str], arcname: str, *, chunk: int = CHUNK
) -> Iterator[bytes]:
    """A tar stream holding ``source`` (a file, a folder with everything in it, or a symlink).

    The top-level member is named ``arcname``. Files are read in pieces of at
    most ``chunk`` bytes; nothing is held whole in memory. Symlinks are stored
    as links, not followed.

    Raises:
        FileNotFoundError: ``source`` does not exist.
    """
    yield from tar_members(source, arcname, chunk=chunk)
    yield bytes(2 * BLOCK)


def tar_members(
    source: str | os.PathLike[str],
    arcname: str,
    *,
    chunk: int = CHUNK,
    owner: tuple[int, int] | None = None,
) -> Iterator[bytes]:
    """The tar members for ``source`` and everything below it, without the end marker.

    Like :func:`iter_tar`, for streams that hold more than one source.
    ``owner`` replaces the files' uid and gid (the docker CLI sends ``0:0``).

    Raises:
        FileNotFoundError: ``source`` does not exist.
    """
    root = os.fspath(source)
    st = os.lstat(root)
    yield from tar_entry(root, arcname, st, chunk=chunk, owner=owner)
    if stat.S_ISDIR(st.st_mode):
        for folder, dirs, files in os.walk(root):
            dirs.sort()
            rel = os.path.relpath(folder, root)
            prefix = arcname if rel == "." else f"{arcname}/{rel.replace(os.sep, '/')}"
            for name in [
                *sorted(files),
                *(d for d in dirs if os.path.islink(os.path.join(folder, d))),
            ]:
                path = os.path.join(folder, name)
                yield from tar_entry(
                    path, f"{prefix}/{name}", os.lstat(path), chunk=chunk, owner=owner
                )
            for name in dirs:
                path = os.path.join(folder, name)
                if not os.path.islink(path):
                    yield _header(
                        f"{prefix}/{name}", os.lstat(path), kind=tarfile.DIRTYPE, owner=owner
                    )


def tar_entry(
    path: str,
    name: str,
    st: os.stat_result,
    *,
    chunk: int = CHUNK,
    owner: tuple[int, int] | None = None,
) -> Iterator[bytes]:
    """One tar member for the local ``path`` (already ``lstat``-ed), named ``name``.

    Regular files, folders and symlinks are stored; other kinds (sockets,
    fifos, devices) are skipped. A file that shrinks while it is read is
    padded with zeros so that the stream stays well-formed.
    """
    if stat.S_ISLNK(st.st_mode):
        yield _header(name, st, kind=tarfile.SYMTYPE, link=os.readlink(path), owner=owner)
    elif stat.S_ISDIR(st.st_mode):
        if name:
            yield _header(name, st, kind=tarfile.DIRTYPE, owner=owner)
    elif stat.S_ISREG(st.st_mode):
        yield _header(name, st, kind=tarfile.REGTYPE, size=st.st_size, owner=owner)
        yield from _file_chunks(path, st.st_size, chunk)


def extract_tar(
    chunks: Iterable[bytes],
    dest: str | os.PathLike[str],
    *,
    rename: tuple[str, str] | None = None,
) -> list[str]:
    """Extract a tar stream (any iterable of chunks) below ``dest``, safely.

    Returns:
        The paths written.

    Raises:
        UnsafeArchiveError: A member would land outside ``dest``; nothing is
            written for it (members before it stay).
        ArchiveFormatError: The stream is not a tar archive.
    """
    reader = TarReader()
    extractor = SafeExtractor(dest, rename=rename)
    try:
        for chunk in chunks:
            extractor.feed(reader.feed(chunk))
            if reader.finished:
                break
        reader.close()
        extractor.close()
    finally:
        extractor.abort()
    return extractor.written
