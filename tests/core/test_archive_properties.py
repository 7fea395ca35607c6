"""Property: whatever a tar archive holds, extracting it changes nothing outside the destination.

Hypothesis builds archives of files, folders, relative and absolute symlinks
and hard links from a small set of names (so that duplicates, ``..``, chains
of links, links to links and folders replaced by links come up often), and
extracts each into a fresh destination inside a sandbox that also holds
sentinel files. After every extraction, whether it succeeded or raised a
typed error:

* nothing outside the destination was created, removed or changed;
* every symlink under the destination resolves inside it;
* no temporary (half-written) file is left.
"""

from __future__ import annotations

import contextlib
import io
import itertools
import os
import posixpath
import stat
import tarfile
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from pydock._core.archive import ArchiveFormatError, UnsafeArchiveError, extract_tar

#: Mostly plain parts: a member refused at once (``..``, absolute) ends the extraction early.
PART = st.sampled_from(["a", "b"] * 6 + [".", "a\\b", "..\\x"])
NAME = st.lists(PART, min_size=1, max_size=2).map("/".join)
#: Absolute targets are placed in the sandbox, at run time (``@`` is replaced).
ABS_TARGET = st.sampled_from(["@", "@/outside", "@/outdir", "@/dest/a", "/", "/etc"])

Member = tuple[str, str, str]  # (name, kind, payload: data or link target)


@st.composite
def archives(draw: st.DrawFn) -> list[Member]:
    """Members named from a small pool, links aimed with the pool's own parts and ``..``.

    Drawing names and link targets from a few shared parts makes duplicates,
    chains and links to links common rather than rare.
    """
    pool = draw(st.lists(NAME, min_size=3, max_size=5, unique=True))
    name = st.sampled_from(pool)
    # A link target climbs, then names (the end of) a pool name, then may climb again:
    # the shapes of chains through other links.
    tails = sorted({"/".join(n.split("/")[i:]) for n in pool for i in range(n.count("/") + 1)})
    target = st.one_of(
        st.sampled_from([".", "..", "../.."]),
        st.tuples(st.integers(0, 2), st.sampled_from(tails), st.integers(0, 2)).map(
            lambda t: "/".join([".."] * t[0] + [t[1]] + [".."] * t[2])
        ),
    )
    hostile = st.one_of(  # refused at once: rarer, so that what comes before them varies
        st.tuples(name, st.sampled_from(["symlink", "hardlink"]), ABS_TARGET),
        st.tuples(st.sampled_from(["..", "../x", "a/../../x"]), st.just("file"), st.just("x")),
    )
    member = st.one_of(
        st.tuples(name, st.just("file"), st.sampled_from(["", "x", "new data"])),
        st.tuples(name, st.just("dir"), st.just("")),
        *[st.tuples(name, st.just("symlink"), target)] * 5,
        st.tuples(name, st.just("hardlink"), name),
        hostile,
    )
    members = draw(st.lists(member, min_size=1, max_size=6))
    if len(pool) >= 2 and draw(st.booleans()):
        members += draw(chain(pool))
        members = draw(st.permutations(members))
    return members


def chain(pool: list[str]) -> st.SearchStrategy[list[Member]]:
    """Links each aimed through the next one and then up: fine one by one, maybe not together."""

    @st.composite
    def build_chain(draw: st.DrawFn) -> list[Member]:
        names = draw(st.lists(st.sampled_from(pool), min_size=2, max_size=3, unique=True))
        links: list[Member] = []
        for here, there in itertools.pairwise(names):
            path = posixpath.relpath(there, posixpath.dirname(here) or ".")
            links.append((here, "symlink", path + "/.." * draw(st.integers(0, 2))))
        links.append((names[-1], "symlink", draw(st.sampled_from([".", "..", "a", "a/.."]))))
        return links

    return build_chain()


def with_parents(members: list[Member]) -> list[Member]:
    """Each member preceded by its missing parent folders, as real archives have them."""
    out: list[Member] = []
    seen: set[str] = set()
    for name, kind, payload in members:
        parts = name.split("/")
        for i in range(1, len(parts)):
            parent = "/".join(parts[:i])
            if parent not in seen:
                seen.add(parent)
                out.append((parent, "dir", ""))
        seen.add(name)
        out.append((name, kind, payload))
    return out


def build(members: list[Member], sandbox: str) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, kind, payload in members:
            payload = payload.replace("@", sandbox, 1) if payload.startswith("@") else payload
            info = tarfile.TarInfo(name)
            info.mode = 0o4755 if kind == "file" and payload == "x" else 0o755
            if kind == "file":
                data = payload.encode()
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
                continue
            info.type = {"dir": tarfile.DIRTYPE, "symlink": tarfile.SYMTYPE}.get(
                kind, tarfile.LNKTYPE
            )
            info.linkname = "" if kind == "dir" else payload
            tar.addfile(info)
    return buf.getvalue()


def snapshot(sandbox: Path) -> dict[str, tuple[object, ...]]:
    """Everything in the sandbox except the destination: kind, content or target, mode, times."""
    seen: dict[str, tuple[object, ...]] = {}
    for folder, dirs, files in os.walk(sandbox):
        if Path(folder) == sandbox:
            dirs.remove("dest")
        for name in [*dirs, *files]:
            path = Path(folder, name)
            st_ = path.lstat()
            if stat.S_ISLNK(st_.st_mode):
                what: object = ("link", os.readlink(path))
            elif stat.S_ISREG(st_.st_mode):
                what = ("file", path.read_bytes(), st_.st_ino)
            else:
                what = ("dir",)
            seen[str(path.relative_to(sandbox))] = (what, st_.st_mode, st_.st_mtime_ns)
    root = sandbox.lstat()
    seen["."] = (root.st_mode, root.st_mtime_ns)
    return seen


def check_destination(dest: Path) -> None:
    real = os.path.realpath(dest)
    for folder, dirs, files in os.walk(dest):
        for name in [*dirs, *files]:
            path = os.path.join(folder, name)
            assert not name.startswith(".pydock-part-"), f"half-written file left: {path}"
            resolved = os.path.realpath(path)
            assert resolved == real or resolved.startswith(real + os.sep), (path, resolved)


@settings(
    max_examples=600,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
@example(  # issue 13's chain: each link passes alone, evil/e ends above dest
    members=[
        ("evil/e", "symlink", "q/../.."),
        ("evil/q", "symlink", "d/up"),
        ("evil/d/up", "symlink", ".."),
        ("evil/e/x", "file", "x"),
    ],
    parents=True,
    split=512,
)
@given(
    members=archives(),
    parents=st.booleans(),
    split=st.sampled_from([1, 100, 512, 4096]),
)
def test_nothing_outside_the_destination_is_created_or_changed(
    members: list[Member], parents: bool, split: int
) -> None:
    with tempfile.TemporaryDirectory(prefix="pydock-prop-") as tmp:
        sandbox = Path(tmp).resolve()
        dest = sandbox / "dest"
        dest.mkdir()
        (sandbox / "outside").write_text("keep")
        (sandbox / "outdir").mkdir()
        (sandbox / "outdir" / "inner").write_text("keep")
        before = snapshot(sandbox)
        data = build(with_parents(members) if parents else members, str(sandbox))
        with contextlib.suppress(UnsafeArchiveError, ArchiveFormatError):  # typed refusals only
            extract_tar([data[i : i + split] for i in range(0, len(data), split)], dest)
        assert snapshot(sandbox) == before
        check_destination(dest)
        for path in dest.rglob("*"):
            if path.is_file() and not path.is_symlink():
                assert not path.stat().st_mode & (stat.S_ISUID | stat.S_ISGID | stat.S_ISVTX)


def test_the_chain_from_issue_13_is_among_the_shapes_generated() -> None:
    """The property's alphabet can spell the known escape (``e -> q/../..`` and friends)."""
    with tempfile.TemporaryDirectory(prefix="pydock-prop-") as tmp:
        sandbox = Path(tmp).resolve()
        dest = sandbox / "dest"
        dest.mkdir()
        members: list[Member] = [
            ("a/b", "symlink", "c/../.."),
            ("a/c", "symlink", "d/a"),
            ("a/d/a", "symlink", ".."),
        ]
        try:
            extract_tar([build(members, str(sandbox))], dest)
        except UnsafeArchiveError:
            pass
        else:
            raise AssertionError("the chain was not refused")
        check_destination(dest)
