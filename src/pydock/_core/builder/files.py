"""Local files and folders walked into layer entries (reads their metadata)."""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Iterator
from typing import Literal

import attrs

from pydock._core.builder.image import ImageState
from pydock._core.builder.plan import FilesStep, LayerOptions
from pydock._core.builder.tar import LayerEntry, normalize_entries

__all__ = ["link_hardlinks", "local_entries", "plan_files"]


def _entry(
    image_path: str, local: str, st: os.stat_result, options: LayerOptions, mtime: int
) -> LayerEntry | None:
    """The entry of one local file, folder or symlink; ``None`` for sockets, fifos and devices."""
    mode = stat.S_IMODE(st.st_mode)
    kind: Literal["dir", "symlink"]
    if stat.S_ISLNK(st.st_mode):
        kind, linkname, mode = "symlink", os.readlink(local), 0o777
    elif stat.S_ISDIR(st.st_mode):
        kind, linkname = "dir", ""
        mode = options.dir_mode if options.dir_mode is not None else mode
    elif stat.S_ISREG(st.st_mode):
        return LayerEntry(
            image_path,
            "file",
            mode=options.file_mode if options.file_mode is not None else mode,
            uid=options.uid,
            gid=options.gid,
            mtime=mtime,
            size=st.st_size,
            source=local,
        )
    else:
        return None
    return LayerEntry(
        image_path,
        kind,
        mode=mode,
        uid=options.uid,
        gid=options.gid,
        mtime=mtime,
        linkname=linkname,
    )


def local_entries(
    local: str,
    dest: str,
    options: LayerOptions,
    mtime: int,
    accept: Callable[[str], bool] | None = None,
) -> Iterator[LayerEntry]:
    """Entries for a local file, symlink or folder put at image path ``dest``.

    ``accept`` sees paths relative to ``local`` (folders only) and may skip them.
    """
    # A named source is followed, like Docker's COPY.
    top = _entry(dest, local, os.stat(local), options, mtime)
    if top is None:
        raise ValueError(f"{local} is neither a file nor a folder")
    yield top
    if top.kind == "file":
        return
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
            entry = _entry(f"{dest}/{rel}", path, os.lstat(path), options, mtime)
            if entry is None:
                continue  # sockets, fifos and devices are left out, as tar-based copies do
            if entry.kind == "dir":
                kept_dirs.append(name)
            yield entry
        dirs[:] = [d for d in dirs if d in kept_dirs]


def link_hardlinks(entries: list[LayerEntry]) -> list[LayerEntry]:
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
            entries.extend(local_entries(source.path, dest.rstrip("/"), options, mtime))
    parents = options.parents if options.parents is not None else state.scratch
    normalized = normalize_entries(entries, parents=parents, mtime=mtime)
    return link_hardlinks(normalized)
