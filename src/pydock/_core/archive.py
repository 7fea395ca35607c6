"""Tar archives for ``docker cp``: streamed both ways, extracted safely.

* :class:`TarReader` - a push parser: feed it the chunks of a tar stream as
  they arrive, get back member headers and data pieces. It never holds more
  than one 512-byte block plus one chunk (and a bounded PAX/GNU name record).
* :func:`check_member_name` / :func:`link_escapes` - the pure path-safety
  decisions: no absolute names, no ``..``, no links pointing outside.
* :class:`SafeExtractor` - writes the members below one folder and nowhere
  else: never through a symlink, files renamed into place once complete,
  symlinks created last and checked against the finished tree.
* :func:`plan_copy_from` / :func:`plan_copy_to` / :class:`CopyExtractor` -
  ``docker cp``'s destination rules.
* :func:`iter_tar` - a tar stream of local files and folders, produced piece
  by piece (files read in bounded chunks).

The last two touch the local filesystem with plain blocking calls (no
network), so the sync and async clients share them.
"""

from __future__ import annotations

import contextlib
import os
import posixpath
import secrets
import stat
import tarfile
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

import attrs

from pydock.errors import ArchiveFormatError, CopyError, UnsafeArchiveError

__all__ = [
    "BLOCK",
    "CHUNK",
    "GO_MODE_DIR",
    "GO_MODE_SYMLINK",
    "SPECIAL_BITS",
    "ArchiveFormatError",
    "CopyError",
    "CopyExtractor",
    "CopyPlan",
    "SafeExtractor",
    "TarEnd",
    "TarMember",
    "TarReader",
    "UnsafeArchiveError",
    "check_member_name",
    "escape_glob",
    "extract_tar",
    "iter_tar",
    "link_escapes",
    "local_source",
    "plan_copy_from",
    "plan_copy_to",
    "stat_is_dir",
    "stat_is_link",
    "tar_entry",
    "tar_members",
]

BLOCK = 512
#: Size of the pieces files are read and written in.
CHUNK = 256 * 1024
#: Longest PAX or GNU long-name record accepted.
MAX_META = 1024 * 1024
_ZERO = bytes(BLOCK)


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

    Only ``/`` separates parts: a backslash is an ordinary character in a
    Linux name (``a\b`` is one name). ``./`` prefixes and empty parts are
    dropped; the archive root itself (``.``) gives ``()``.

    Raises:
        UnsafeArchiveError: The name is absolute, has a ``..`` part or a NUL.
    """
    if name.startswith("/"):
        raise UnsafeArchiveError(f"refusing absolute path in archive: {name!r}", member=name)
    if "\0" in name:
        raise UnsafeArchiveError(f"refusing NUL in archive path: {name!r}", member=name)
    parts = [p for p in name.split("/") if p not in ("", ".")]
    if ".." in parts:
        raise UnsafeArchiveError(f"refusing '..' in archive path: {name!r}", member=name)
    return tuple(parts)


def link_escapes(member_parts: tuple[str, ...], linkname: str, *, hardlink: bool) -> bool:
    """Whether a link, judged by its names alone, points outside the destination.

    A symlink's target is relative to the folder holding it; a hard link's to
    the archive root. Absolute targets always escape. This is only the first
    check: :class:`SafeExtractor` also resolves every symlink against the
    finished tree.
    """
    if linkname.startswith("/"):
        return True
    base = () if hardlink else member_parts[:-1]
    depth = len(base)
    for part in linkname.split("/"):
        if part in (".", ""):
            continue
        depth = depth - 1 if part == ".." else depth + 1
        if depth < 0:
            return True
    return False


def _inside(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


# --------------------------------------------------------------------------- extraction

#: Setuid, setgid and sticky: dropped from extracted modes unless asked (as PEP 706's
#: ``data`` filter does).
SPECIAL_BITS = stat.S_ISUID | stat.S_ISGID | stat.S_ISVTX
_TEMP_PREFIX = ".pydock-part-"

#: Maps a member name to its path parts below the extraction root (``()``: the root).
NameMap = Callable[[str], "tuple[str, ...]"]


class SafeExtractor:
    """Write tar members below ``dest`` and nowhere else.

    The guarantees, whatever the archive holds:

    * Nothing is written outside ``dest``: names that are absolute or have
      ``..`` parts are refused, and so is any member whose folder is a symlink
      (pydock never writes through a symlink, whether the archive made it or
      it was there before) or not a folder.
    * Symlinks are created last, once every other member is written, and then
      each is resolved against the finished tree: if any resolves outside
      ``dest`` (alone or through a chain of other links), every link the
      archive made is removed and :class:`UnsafeArchiveError` is raised. Links
      whose target is absolute or climbs out by its names alone are refused
      at once. A member below a symlink of the archive is refused.
    * Hard links may only point to regular files this extraction wrote.
    * A file is written to a temporary name beside its target and renamed
      over it once complete: an existing file is replaced, never written
      into (so never through a hard link), and a failure never leaves a
      half-written file. A folder is never replaced by a file or a link, nor
      a file or link by a folder (:class:`UnsafeArchiveError`).
    * Setuid, setgid and sticky bits are dropped unless ``preserve_mode``.

    Devices, FIFOs and the like are skipped. Modes and modification times are
    kept; ownership is not. Members written before a refused one stay.

    Args:
        dest: The destination folder (must exist).
        rename: ``(old, new)``: a first path part to rename.
        names: Map a member name to its parts below ``dest`` instead (may
            raise :class:`UnsafeArchiveError`); replaces ``rename``.
        preserve_mode: Keep setuid, setgid and sticky bits.
        root_meta: Apply the archive root member's (``.``) mode and time to ``dest``.
    """

    def __init__(
        self,
        dest: str | os.PathLike[str],
        *,
        rename: tuple[str, str] | None = None,
        names: NameMap | None = None,
        preserve_mode: bool = False,
        root_meta: bool = False,
    ) -> None:
        self.root = os.path.realpath(os.fspath(dest))
        self._rename = rename
        self._names = names
        self._preserve = preserve_mode
        self._root_meta = root_meta
        self._file: Any = None
        self._current: tuple[str, str, tuple[str, ...], TarMember] | None = None
        self._dirs: list[tuple[str, TarMember]] = []
        self._links: dict[tuple[str, ...], tuple[str, TarMember]] = {}
        self._files: set[tuple[str, ...]] = set()
        self._root_member: TarMember | None = None
        self.written: list[str] = []

    def feed(self, events: Iterable[TarMember | TarEnd | bytes]) -> None:
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
        """Finish: create the symlinks, check them, then set folder modes and times.

        Raises:
            UnsafeArchiveError: A symlink resolves outside the destination in
                the finished tree (every link the archive made is removed).
            ArchiveFormatError: A member's data is incomplete.
        """
        if self._file is not None:
            self.abort()
            raise ArchiveFormatError("the tar stream ended in the middle of a member")
        self._make_links()
        for path, member in reversed(self._dirs):
            os.chmod(path, self._mode(member.mode))
            os.utime(path, (member.mtime, member.mtime))
        self._dirs.clear()
        if self._root_member is not None and self._root_meta:
            os.chmod(self.root, self._mode(self._root_member.mode))
            os.utime(self.root, (self._root_member.mtime, self._root_member.mtime))

    def abort(self) -> None:
        """After a failure: drop the half-written file (its target is untouched)."""
        if self._file is not None:
            self._file.close()
            self._file = None
        if self._current is not None:
            with contextlib.suppress(OSError):
                os.unlink(self._current[0])
            self._current = None

    # -- members

    def _mode(self, mode: int) -> int:
        return mode if self._preserve else mode & ~SPECIAL_BITS

    def _parts(self, name: str) -> tuple[str, ...]:
        if self._names is not None:
            return self._names(name)
        parts = check_member_name(name)
        if parts and self._rename and parts[0] == self._rename[0]:
            parts = (self._rename[1], *parts[1:])
        return parts

    def _folder(self, member: TarMember, parts: tuple[str, ...]) -> str:
        """The real folder that will hold ``parts`` (created as needed), never through a link."""
        folder = self.root
        for i, part in enumerate(parts[:-1]):
            if parts[: i + 1] in self._links:
                raise UnsafeArchiveError(
                    f"refusing {member.name!r}: {'/'.join(parts[: i + 1])!r} is a symlink "
                    "of the archive",
                    member=member.name,
                )
            path = os.path.join(folder, part)
            try:
                st = os.lstat(path)
            except FileNotFoundError:
                os.mkdir(path)
                self.written.append(path)
            else:
                if stat.S_ISLNK(st.st_mode):
                    raise UnsafeArchiveError(
                        f"refusing {member.name!r}: {path!r} is a symlink (never written through)",
                        member=member.name,
                    )
                if not stat.S_ISDIR(st.st_mode):
                    raise UnsafeArchiveError(
                        f"refusing {member.name!r}: {path!r} is not a folder", member=member.name
                    )
            folder = path
        return folder

    def _start(self, member: TarMember) -> None:
        self._finish()
        parts = self._parts(member.name)
        if not parts:
            if member.kind == "dir":
                self._root_member = member
            elif member.kind != "other":
                raise UnsafeArchiveError(
                    f"refusing {member.name!r}: a {member.kind} cannot replace the destination",
                    member=member.name,
                )
            return
        if member.kind == "other":
            return
        path = os.path.join(self._folder(member, parts), parts[-1])
        try:
            existing: int | None = os.lstat(path).st_mode
        except FileNotFoundError:
            existing = None
        is_dir = existing is not None and stat.S_ISDIR(existing)
        if member.kind == "dir":
            if existing is not None and not is_dir:
                raise UnsafeArchiveError(
                    f"refusing to replace {path!r}, which is not a folder, with a folder",
                    member=member.name,
                )
            self._links.pop(parts, None)
            self._files.discard(parts)
            if existing is None:
                os.mkdir(path, 0o700)
                self.written.append(path)
            self._dirs.append((path, member))
            return
        if is_dir:
            raise UnsafeArchiveError(
                f"refusing to replace folder {path!r} with a {member.kind}", member=member.name
            )
        if member.kind == "symlink":
            if link_escapes(parts, member.linkname, hardlink=False):
                raise UnsafeArchiveError(
                    f"refusing link {member.name!r} -> {member.linkname!r}: it points outside "
                    "the destination",
                    member=member.name,
                )
            self._links.pop(parts, None)
            self._links[parts] = (path, member)  # created last, in archive order
            self._files.discard(parts)
            return
        self._links.pop(parts, None)
        if member.kind == "hardlink":
            self._hardlink(member, path, parts)
            return
        fd, temp = tempfile.mkstemp(prefix=_TEMP_PREFIX, dir=os.path.dirname(path))
        self._file = os.fdopen(fd, "wb")
        self._current = (temp, path, parts, member)

    def _hardlink(self, member: TarMember, path: str, parts: tuple[str, ...]) -> None:
        try:
            target = self._parts(member.linkname)
        except UnsafeArchiveError:
            target = ()
        if not target or target not in self._files:
            raise UnsafeArchiveError(
                f"refusing hard link {member.name!r} -> {member.linkname!r}: it does not point "
                "to a file extracted from this archive",
                member=member.name,
            )
        temp = self._temp_name(os.path.dirname(path))
        os.link(os.path.join(self.root, *target), temp, follow_symlinks=False)
        os.replace(temp, path)
        if os.path.lexists(temp):  # already the same file: rename(2) did nothing
            os.unlink(temp)
        self._files.add(parts)
        self.written.append(path)

    def _finish(self) -> None:
        if self._file is None or self._current is None:
            return
        temp, path, parts, member = self._current
        try:
            os.chmod(self._file.fileno(), self._mode(member.mode))
            self._file.close()
            self._file = None
            os.utime(temp, (member.mtime, member.mtime))
            os.replace(temp, path)
        except BaseException:
            self.abort()
            raise
        self._current = None
        self._files.add(parts)
        self.written.append(path)

    @staticmethod
    def _temp_name(folder: str) -> str:
        return os.path.join(folder, _TEMP_PREFIX + secrets.token_hex(8))

    def _make_links(self) -> None:
        made: list[tuple[str, TarMember]] = []
        try:
            for path, member in self._links.values():
                if os.path.isdir(path) and not os.path.islink(path):
                    raise UnsafeArchiveError(
                        f"refusing to replace folder {path!r} with a link", member=member.name
                    )
                temp = self._temp_name(os.path.dirname(path))
                os.symlink(member.linkname, temp)
                os.replace(temp, path)
                made.append((path, member))
            for path, member in made:
                if not _inside(os.path.realpath(path), self.root):
                    raise UnsafeArchiveError(
                        f"refusing link {member.name!r} -> {member.linkname!r}: with the "
                        "archive's other links it resolves outside the destination",
                        member=member.name,
                    )
        except BaseException:
            for path, _ in made:
                with contextlib.suppress(OSError):
                    os.unlink(path)
            raise
        finally:
            self._links.clear()
        self.written.extend(path for path, _ in made)


# --------------------------------------------------------------------------- docker cp

#: Go's ``os.FileMode`` bits in the engines' path stat.
GO_MODE_DIR = 1 << 31
GO_MODE_SYMLINK = 1 << 27


def stat_is_dir(stat_info: Mapping[str, Any] | None, *, follow: bool) -> bool:
    """Whether an engine's path stat describes a folder.

    Podman answers for a symlink with the link bit and ``isDir`` of its target;
    that counts only when ``follow`` (the path ends in ``/`` or ``/.``).
    """
    if not stat_info:
        return False
    mode = _stat_mode(stat_info)
    if mode & GO_MODE_SYMLINK:
        return follow and stat_info.get("isDir") is True
    return bool(mode & GO_MODE_DIR)


def stat_is_link(stat_info: Mapping[str, Any] | None) -> bool:
    """Whether an engine's path stat describes a symlink."""
    return bool(stat_info) and bool(_stat_mode(stat_info or {}) & GO_MODE_SYMLINK)


def _stat_mode(stat_info: Mapping[str, Any]) -> int:
    mode = stat_info.get("mode", 0)
    return mode if isinstance(mode, int) and not isinstance(mode, bool) else 0


def _asserts_dir(path: str) -> bool:
    return path.endswith(("/", "/.")) or path == "."


def _base(path: str) -> str:
    """``docker cp``'s last part of a path: ``.`` for ``dir/.``."""
    if path.endswith("/.") or path == ".":
        return "."
    base = posixpath.basename(posixpath.normpath(path))
    return base if base not in ("", "/") else "."


@attrs.frozen
class CopyPlan:
    """Where ``docker cp CONTAINER:SRC DEST`` puts the archive of SRC.

    Attributes:
        root: The host folder extracted into, and the bound nothing may leave.
        create: ``root`` does not exist yet: make it (its parent exists).
        source_root: The first part of every member name (``.``: none).
        name: For a file or link source, the name it gets in ``root``;
            None for a folder source (``root`` is the copy).
        link_target: For a symlink source, what the engine says it points to.
    """

    root: str
    create: bool
    source_root: str
    name: str | None
    link_target: str | None = None

    def map_name(self, name: str) -> tuple[str, ...]:
        """A member name of the engine's archive → its parts below :attr:`root`.

        Raises:
            UnsafeArchiveError: The member lies outside the source path the
                engine said it sends, or below a file source.
        """
        check_member_name(name)
        raw = [p for p in name.split("/") if p]
        if self.source_root == ".":
            while raw and raw[0] == ".":
                raw.pop(0)
        elif not raw or raw[0] != self.source_root:
            raise UnsafeArchiveError(
                f"refusing {name!r}: it lies outside {self.source_root!r}, the path the engine "
                "said it sends",
                member=name,
            )
        else:
            raw.pop(0)
        parts = tuple(p for p in raw if p != ".")
        if self.name is None:
            return parts
        if parts:
            raise UnsafeArchiveError(
                f"refusing {name!r}: the source is not a folder, nothing lies below it",
                member=name,
            )
        return (self.name,)


def plan_copy_from(
    container_path: str, stat_info: Mapping[str, Any] | None, host_path: str | os.PathLike[str]
) -> CopyPlan:
    """Apply ``docker cp``'s destination rules (checking the local side only).

    ``DEST`` is followed if it is a symlink. Then: an existing folder receives
    SRC under its own name (``dir/.``: its contents); an existing file is
    replaced by a file SRC (a folder SRC is an error); a missing DEST is
    created as the copy (its parent must exist), unless SRC is a file and
    DEST ends in ``/`` or ``/.``.

    Raises:
        CopyError: The destination does not fit the source.
    """
    follow = _asserts_dir(container_path)
    source_is_dir = stat_is_dir(stat_info, follow=follow)
    link = stat_is_link(stat_info) and not follow
    link_target = str((stat_info or {}).get("linkTarget") or "") if link else None
    source_root = _base(container_path)
    text = os.fspath(host_path)
    path, exists, is_dir = _resolve_local(text)
    if exists and is_dir:
        if source_root == ".":
            return CopyPlan(path, False, ".", None, link_target)
        if not source_is_dir:
            return CopyPlan(path, False, source_root, source_root, link_target)
        inner = os.path.join(path, source_root)
        if os.path.lexists(inner) and not (os.path.isdir(inner) and not os.path.islink(inner)):
            raise CopyError(f"cannot replace {inner!r}, which is not a folder, with a folder",
                            path=inner)  # fmt: skip
        return CopyPlan(inner, not os.path.lexists(inner), source_root, None, link_target)
    if exists and source_is_dir:
        raise CopyError(f"cannot copy a folder onto the file {path!r}", path=path)
    if exists or not source_is_dir:
        if not exists and _asserts_dir(text):
            raise CopyError(f"no such folder: {text!r} (the source is a file)", path=text)
        return CopyPlan(
            os.path.dirname(path), False, source_root, os.path.basename(path), link_target
        )
    return CopyPlan(path, True, source_root, None, link_target)


def _resolve_local(text: str) -> tuple[str, bool, bool]:
    """``(path, exists, is_dir)`` of a local destination, symlinks at its end followed."""
    path = os.path.abspath(text)
    for _ in range(40):
        try:
            st = os.lstat(path)
        except FileNotFoundError:
            break
        if not stat.S_ISLNK(st.st_mode):
            if _asserts_dir(text) and not stat.S_ISDIR(st.st_mode):
                raise CopyError(f"not a folder: {text!r}", path=text)
            return path, True, stat.S_ISDIR(st.st_mode)
        path = os.path.join(os.path.dirname(path), os.readlink(path))
        path = os.path.abspath(path)
    else:
        raise CopyError(f"too many symlinks in {text!r}", path=text)
    parent = os.path.dirname(path)
    if not os.path.isdir(parent):
        raise CopyError(f"no such folder: {parent!r}", path=parent)
    return path, False, False


def escape_glob(path: str) -> str:
    """A container path as a pattern matching only itself, for Podman's archive endpoint.

    Podman reads the path as a glob, so a legal name like ``a\\b`` or ``q[1]``
    is not found; backslashes and brackets are escaped.
    """
    return path.replace("\\", "\\\\").replace("[", "\\[")


def plan_copy_to(
    container_path: str,
    stat_info: Mapping[str, Any] | None,
    *,
    source_name: str,
    source_is_dir: bool,
) -> tuple[str, str]:
    """Apply ``docker cp SRC CONTAINER:DEST``'s rules: ``(folder to extract into, top name)``.

    ``container_path`` and ``stat_info`` are the destination after following
    a symlink (the engine's ``linkTarget``), as ``docker cp`` does. An
    existing folder receives SRC under ``source_name``; an existing file is
    replaced by a file SRC; a missing path is created as the copy, unless SRC
    is a file and the path ends in ``/``.

    Raises:
        CopyError: A folder onto an existing file, or a file onto a missing
            path that ends in ``/``.
    """
    clean = posixpath.normpath(container_path) if container_path else "/"
    folder = posixpath.dirname(clean) or "/"
    base = posixpath.basename(clean)
    if stat_info is not None and stat_is_dir(stat_info, follow=True):
        return clean, source_name
    if stat_info is not None and source_is_dir:
        raise CopyError(f"cannot copy a folder onto the file {container_path!r}",
                        path=container_path)  # fmt: skip
    if stat_info is None and not source_is_dir and _asserts_dir(container_path):
        raise CopyError(f"no such folder: {container_path!r} (the source is a file)",
                        path=container_path)  # fmt: skip
    return folder, base


class CopyExtractor:
    """Extract the engine's archive of ``docker cp CONTAINER:SRC DEST`` as planned.

    Every member must lie under the source path the engine reported; a
    folder source lands in :attr:`CopyPlan.root`, a file source as
    :attr:`CopyPlan.name` in it. A symlink source is copied as a link, as
    ``docker cp`` does: Podman's archive holds the link's target instead, so
    the link is then made from the engine's ``linkTarget`` (always absolute
    there, so refused before anything is written).

    Raises:
        UnsafeArchiveError: (from :meth:`feed` and :meth:`close`) see
            :class:`SafeExtractor`.
    """

    def __init__(self, plan: CopyPlan, *, preserve_mode: bool = False) -> None:
        self.plan = plan
        if plan.create:
            os.mkdir(plan.root)
        self._created = plan.create
        self._extractor = SafeExtractor(
            plan.root,
            names=plan.map_name,
            preserve_mode=preserve_mode,
            root_meta=plan.name is None and (plan.create or plan.source_root != "."),
        )
        self._first = True
        self._ignore = False

    def feed(self, events: list[TarMember | TarEnd | bytes]) -> None:
        """Apply parsed events."""
        if self._ignore:
            return
        if self._first and events:
            first = events[0]
            if (isinstance(first, TarMember) and self.plan.link_target is not None
                    and first.kind != "symlink"):  # fmt: skip
                self._ignore = True
                link = TarMember(first.name, "symlink", 0, 0o777, first.mtime,
                                 self.plan.link_target)  # fmt: skip
                self._extractor.feed([link, TarEnd()])
                return
            self._first = False
        self._extractor.feed(events)

    def close(self) -> None:
        """Finish (see :meth:`SafeExtractor.close`)."""
        self._extractor.close()

    def abort(self) -> None:
        """After a failure: drop the half-written file, and the new root folder if still empty."""
        self._extractor.abort()
        if self._created:
            with contextlib.suppress(OSError):
                os.rmdir(self.plan.root)


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
    preserve_mode: bool = False,
) -> list[str]:
    """Extract a tar stream (any iterable of chunks) below ``dest``, safely.

    See :class:`SafeExtractor` for what is guaranteed.

    Args:
        chunks: The tar stream.
        dest: The destination folder (must exist).
        rename: ``(old, new)``: a first path part to rename.
        preserve_mode: Keep setuid, setgid and sticky bits (dropped by default).

    Returns:
        The paths written.

    Raises:
        UnsafeArchiveError: A member would land outside ``dest``; nothing is
            written for it (members before it stay, symlinks are never left
            resolving outside).
        ArchiveFormatError: The stream is not a tar archive (no half-written
            file is left).
    """
    reader = TarReader()
    extractor = SafeExtractor(dest, rename=rename, preserve_mode=preserve_mode)
    try:
        for chunk in chunks:
            extractor.feed(reader.feed(chunk))
            if reader.finished:
                break
        reader.close()
        extractor.close()
    except BaseException:
        extractor.abort()
        raise
    return extractor.written
