"""Tar streaming and safe extraction, with local files only."""

from __future__ import annotations

import io
import os
import stat
import tarfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pydock._core.archive import (
    TarEnd,
    TarMember,
    TarReader,
    UnsafeArchiveError,
    check_member_name,
    extract_tar,
    iter_tar,
    link_escapes,
)


def make_tar(*members: tuple[str, str, bytes | str], fmt: int = tarfile.PAX_FORMAT) -> bytes:
    """(name, kind, data-or-linkname) → tar bytes."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=fmt) as tar:
        for name, kind, payload in members:
            info = tarfile.TarInfo(name)
            if kind == "file":
                assert isinstance(payload, bytes)
                info.size = len(payload)
                info.mode = 0o640
                tar.addfile(info, io.BytesIO(payload))
                continue
            if kind == "dir":
                info.type = tarfile.DIRTYPE
                info.mode = 0o755
            elif kind == "symlink":
                info.type = tarfile.SYMTYPE
                info.linkname = str(payload)
            elif kind == "hardlink":
                info.type = tarfile.LNKTYPE
                info.linkname = str(payload)
            tar.addfile(info)
    return buf.getvalue()


def chunks(data: bytes, size: int) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)]


@pytest.mark.parametrize("fmt", [tarfile.PAX_FORMAT, tarfile.GNU_FORMAT, tarfile.USTAR_FORMAT])
@given(size=st.integers(min_value=1, max_value=2000))
@settings(max_examples=30)
def test_reader_gives_the_same_events_however_split(fmt: int, size: int) -> None:
    long_name = "d/" + "x" * 120 if fmt != tarfile.USTAR_FORMAT else "d/short"
    data = make_tar(
        ("d", "dir", b""),
        (long_name, "file", b"a" * 1500),
        ("d/l", "symlink", "../d/" + "y" * 110 if fmt != tarfile.USTAR_FORMAT else "y"),
        ("d/empty", "file", b""),
    )
    whole = TarReader().feed(data)
    reader = TarReader()
    split: list[TarMember | TarEnd | bytes] = []
    for piece in chunks(data, size):
        split += reader.feed(piece)
    reader.close()
    assert reader.finished
    members = [e for e in split if isinstance(e, TarMember)]
    assert [m.name for m in members] == ["d", long_name, "d/l", "d/empty"]
    assert b"".join(e for e in split if isinstance(e, bytes)) == b"a" * 1500
    assert [m for m in whole if isinstance(m, TarMember)] == members
    assert members[1].mode == 0o640


@pytest.mark.parametrize("name", ["/etc/passwd", "../x", "a/../../x", "a/..", "a/\0b"])
def test_unsafe_names(name: str) -> None:
    with pytest.raises(UnsafeArchiveError):
        check_member_name(name)


def test_safe_names() -> None:
    assert check_member_name("./a//b/") == ("a", "b")
    assert check_member_name(".") == ()
    assert check_member_name("\\abs/..\\x") == ("\\abs", "..\\x")  # backslash: a character


@pytest.mark.parametrize(
    ("member", "link", "hard", "escapes"),
    [
        (("a", "l"), "../b", False, False),
        (("a", "l"), "../../b", False, True),
        (("l",), "/etc", False, True),
        (("a", "l"), "x/../../..", False, True),
        (("a", "l"), "a/f", True, False),
        (("a", "l"), "../f", True, True),
    ],
)
def test_link_escapes(member: tuple[str, ...], link: str, hard: bool, escapes: bool) -> None:
    assert link_escapes(member, link, hardlink=hard) is escapes


def sandbox(tmp_path: Path) -> tuple[Path, Path]:
    dest = tmp_path / "box" / "dest"
    dest.mkdir(parents=True)
    return tmp_path / "box", dest


@pytest.mark.parametrize(
    "members",
    [
        [("../evil", "file", b"x")],
        [("/tmp/pydock-evil-abs", "file", b"x")],
        [("ok", "file", b"1"), ("link", "symlink", "/"), ("link/evil", "file", b"x")],
        [("link", "symlink", ".."), ("link/evil", "file", b"x")],
        [("d", "dir", b""), ("d/up", "symlink", "../..")],
        [("hard", "hardlink", "../outside")],
        [("hard", "hardlink", "/etc/passwd")],
    ],
    ids=["dotdot", "absolute", "abs-symlink", "rel-symlink", "nested-symlink", "hard", "hard-abs"],
)
def test_hostile_archives_write_nothing_outside(
    tmp_path: Path, members: list[tuple[str, str, bytes | str]]
) -> None:
    box, dest = sandbox(tmp_path)
    (box / "outside").write_text("keep")
    data = make_tar(*members)
    with pytest.raises(UnsafeArchiveError):
        extract_tar(chunks(data, 100), dest)
    assert sorted(p.name for p in box.iterdir()) == ["dest", "outside"]
    assert (box / "outside").read_text() == "keep"
    assert not Path("/tmp/pydock-evil-abs").exists()


def test_existing_symlink_in_destination_is_not_followed(tmp_path: Path) -> None:
    box, dest = sandbox(tmp_path)
    (dest / "trap").symlink_to(box)
    with pytest.raises(UnsafeArchiveError):
        extract_tar([make_tar(("trap/evil", "file", b"x"))], dest)
    assert sorted(p.name for p in box.iterdir()) == ["dest"]
    # A file member named like the symlink replaces the link, not its target.
    (box / "target").write_text("keep")
    (dest / "f").symlink_to(box / "target")
    extract_tar([make_tar(("f", "file", b"new"))], dest)
    assert (box / "target").read_text() == "keep"
    assert (dest / "f").read_bytes() == b"new"
    assert not (dest / "f").is_symlink()


def test_iter_tar_round_trip_keeps_modes_links_and_renames(tmp_path: Path) -> None:
    src = tmp_path / "src"
    (src / "sub").mkdir(parents=True)
    (src / "run.sh").write_bytes(b"#!/bin/sh\n")
    (src / "run.sh").chmod(0o751)
    (src / "sub" / "big").write_bytes(os.urandom(70_000))
    (src / "link").symlink_to("run.sh")
    (src / "sub").chmod(0o711)
    pieces = list(iter_tar(src, "copy", chunk=4096))
    assert max(len(p) for p in pieces) <= 4096 + 1024  # never a whole file at once
    data = b"".join(pieces)
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:  # the stdlib agrees it is a tar
        assert sorted(tar.getnames()) == [
            "copy",
            "copy/link",
            "copy/run.sh",
            "copy/sub",
            "copy/sub/big",
        ]
    out = tmp_path / "out"
    out.mkdir()
    extract_tar(chunks(data, 777), out, rename=("copy", "renamed"))
    got = out / "renamed"
    assert (got / "sub" / "big").read_bytes() == (src / "sub" / "big").read_bytes()
    assert stat.S_IMODE((got / "run.sh").stat().st_mode) == 0o751
    assert stat.S_IMODE((got / "sub").stat().st_mode) == 0o711
    assert os.readlink(got / "link") == "run.sh"


def test_iter_tar_of_one_file(tmp_path: Path) -> None:
    (tmp_path / "f").write_bytes(b"hello")
    data = b"".join(iter_tar(tmp_path / "f", "g"))
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        member = tar.getmember("g")
        extracted = tar.extractfile(member)
        assert extracted is not None
        assert extracted.read() == b"hello"


# --------------------------------------------------------------------------- issue 13


def test_a_chain_of_dangling_links_cannot_escape(tmp_path: Path) -> None:
    """Each link passes on its own; together ``evil/e`` would resolve above ``dest``."""
    box, dest = sandbox(tmp_path)
    (box / "outside").write_text("keep")
    data = make_tar(
        ("evil", "dir", b""),
        ("evil/e", "symlink", "q/../.."),
        ("evil/q", "symlink", "d/up"),
        ("evil/d", "dir", b""),
        ("evil/d/up", "symlink", ".."),
    )
    with pytest.raises(UnsafeArchiveError):
        extract_tar(chunks(data, 100), dest)
    assert sorted(p.name for p in box.iterdir()) == ["dest", "outside"]
    for path in dest.rglob("*"):
        assert os.path.realpath(path).startswith(str(dest.resolve()))


def test_backslashes_are_ordinary_characters(tmp_path: Path) -> None:
    _, dest = sandbox(tmp_path)
    extract_tar(
        [make_tar(("d", "dir", b""), ("d/a\\b", "file", b"1"), ("d/..\\x", "file", b"2"))], dest
    )
    assert (dest / "d" / "a\\b").read_bytes() == b"1"
    assert (dest / "d" / "..\\x").read_bytes() == b"2"
    assert sorted(p.name for p in (dest / "d").iterdir()) == ["..\\x", "a\\b"]


def make_moded_tar(name: str, mode: int, kind: str = "file") -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        info = tarfile.TarInfo(name)
        info.mode = mode
        if kind == "dir":
            info.type = tarfile.DIRTYPE
            tar.addfile(info)
        else:
            info.size = 2
            tar.addfile(info, io.BytesIO(b"hi"))
    return buf.getvalue()


@pytest.mark.parametrize("kind", ["file", "dir"])
def test_setuid_setgid_and_sticky_bits_are_stripped_unless_asked(tmp_path: Path, kind: str) -> None:
    _, dest = sandbox(tmp_path)
    extract_tar([make_moded_tar("s", 0o7755, kind)], dest)
    assert stat.S_IMODE((dest / "s").stat().st_mode) == 0o755
    kept = tmp_path / "kept"
    kept.mkdir()
    extract_tar([make_moded_tar("s", 0o6755, kind)], kept, preserve_mode=True)
    assert stat.S_IMODE((kept / "s").stat().st_mode) == 0o6755


def test_a_cut_archive_leaves_no_half_written_file(tmp_path: Path) -> None:
    from pydock._core.archive import ArchiveFormatError

    _, dest = sandbox(tmp_path)
    (dest / "big").write_bytes(b"old")
    data = make_tar(("small", "file", b"s"), ("big", "file", b"n" * 5000))
    with pytest.raises(ArchiveFormatError):
        extract_tar(chunks(data[:3000], 512), dest)
    assert (dest / "big").read_bytes() == b"old"  # the old file, never a half-new one
    assert sorted(p.name for p in dest.iterdir()) == ["big", "small"]


def test_files_never_write_through_an_existing_hard_link(tmp_path: Path) -> None:
    box, dest = sandbox(tmp_path)
    (box / "outside").write_text("keep")
    os.link(box / "outside", dest / "f")
    extract_tar([make_tar(("f", "file", b"new"))], dest)
    assert (box / "outside").read_text() == "keep"
    assert (dest / "f").read_bytes() == b"new"


def test_hard_links_only_to_files_this_archive_wrote(tmp_path: Path) -> None:
    _, dest = sandbox(tmp_path)
    (dest / "mine").write_text("host file")
    with pytest.raises(UnsafeArchiveError):
        extract_tar([make_tar(("h", "hardlink", "mine"))], dest)
    assert not (dest / "h").exists()
    extract_tar([make_tar(("a", "file", b"x"), ("h", "hardlink", "a"))], dest)
    assert (dest / "h").read_bytes() == b"x"
    assert os.path.samefile(dest / "a", dest / "h")


def test_members_below_a_link_of_the_archive_are_refused(tmp_path: Path) -> None:
    _, dest = sandbox(tmp_path)
    data = make_tar(("sub", "dir", b""), ("l", "symlink", "sub"), ("l/f", "file", b"x"))
    with pytest.raises(UnsafeArchiveError):
        extract_tar([data], dest)
    assert not (dest / "sub" / "f").exists()
    assert not (dest / "l" / "f").exists()
