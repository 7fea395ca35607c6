"""Container I/O against the real engines: logs, exec, interactive exec, copy, commit, stats."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import io
import json
import os
import posixpath
import socket
import stat
import tarfile
import threading
import tracemalloc
import uuid
from collections.abc import AsyncIterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

import pydock
from pydock._async._containers import AsyncContainer, AsyncLogStream
from pydock._core.archive import CopyError, UnsafeArchiveError, extract_tar
from pydock._core.containers import LogLine
from pydock.errors import ContainerNotFound
from tests.conftest import Engine


def unique(prefix: str = "pydock-test") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


@pytest.fixture
async def made(async_client: pydock.AsyncClient) -> AsyncIterator[list[str]]:
    """Ids of containers a test made, force-removed when it ends."""
    ids: list[str] = []
    yield ids
    for cid in ids:
        with contextlib.suppress(ContainerNotFound):
            await async_client._request(
                "DELETE", f"/containers/{cid}", params={"force": True}, resource="container"
            )


async def start(
    client: pydock.AsyncClient, engine: Engine, made: list[str], cmd: list[str], **kw: bool
) -> AsyncContainer:
    container = await client.containers.run(
        engine.test_image, cmd, detach=True, name=unique(), tty=kw.get("tty", False)
    )
    assert isinstance(container, AsyncContainer)
    made.append(container.id)
    return container


# --------------------------------------------------------------------------- logs


async def collect(stream: AsyncLogStream) -> list[LogLine]:
    lines = []
    async with stream:
        async for line in stream:
            lines.append(line)
    return lines


@pytest.mark.anyio
async def test_logs_tell_streams_apart(
    async_client: pydock.AsyncClient, engine: Engine, made: list[str]
) -> None:
    c = await start(async_client, engine, made, ["sh", "-c", "echo o1; echo e1 >&2; echo o2"])
    assert await c.wait(timeout=20) == 0
    everything = await c.logs()
    assert sorted(everything.splitlines()) == [b"e1", b"o1", b"o2"]
    assert await c.logs(stderr=False) == b"o1\no2\n"
    assert await c.logs(stdout=False) == b"e1\n"
    lines = await collect(c.stream_logs(follow=False))
    assert [(x.stream, x.data) for x in lines if x.stream == "stdout"] == [
        ("stdout", b"o1\n"),
        ("stdout", b"o2\n"),
    ]
    assert [x.data for x in lines if x.stream == "stderr"] == [b"e1\n"]
    stamped = await collect(c.stream_logs(follow=False, timestamps=True))
    assert all(isinstance(x, LogLine) and x.timestamp is not None for x in stamped)
    assert sorted(x.data for x in stamped) == [b"e1\n", b"o1\n", b"o2\n"]
    assert (await c.logs(timestamps=True)).startswith(b"20")
    tail = await c.logs(tail=1)
    assert tail.count(b"\n") == 1
    later = datetime.now(timezone.utc) + timedelta(seconds=60)
    assert await c.logs(since=later) == b""


@pytest.mark.anyio
async def test_logs_of_a_tty_container(
    async_client: pydock.AsyncClient, engine: Engine, made: list[str]
) -> None:
    c = await start(async_client, engine, made, ["sh", "-c", "echo out; echo err >&2"], tty=True)
    assert await c.wait(timeout=20) == 0
    assert (await c.logs()).replace(b"\r\n", b"\n") == b"out\nerr\n"
    lines = await collect(c.stream_logs(follow=False))
    assert [(x.stream, x.data) for x in lines] == [("stdout", b"out\r\n"), ("stdout", b"err\r\n")]


@pytest.mark.anyio
async def test_follow_logs_until_the_container_exits(
    async_client: pydock.AsyncClient, engine: Engine, made: list[str]
) -> None:
    script = "for i in 1 2 3; do echo line$i; sleep 0.2; done; echo bye >&2"
    c = await start(async_client, engine, made, ["sh", "-c", script])
    seen = []
    async with c.stream_logs(follow=True) as stream:
        async for line in stream:
            seen.append((line.stream, line.data))
    assert seen == [
        ("stdout", b"line1\n"),
        ("stdout", b"line2\n"),
        ("stdout", b"line3\n"),
        ("stderr", b"bye\n"),
    ]


# --------------------------------------------------------------------------- exec


@pytest.mark.anyio
async def test_exec_result_and_options(
    async_client: pydock.AsyncClient, engine: Engine, made: list[str]
) -> None:
    c = await start(async_client, engine, made, ["sleep", "300"])
    result = await c.exec(
        ["sh", "-c", "echo $FOO; id -u; pwd; echo oops >&2; exit 4"],
        environment={"FOO": "bar"},
        user="1000",
        workdir="/tmp",
    )
    assert result.exit_code == 4
    assert result.stdout == b"bar\n1000\n/tmp\n"
    assert result.stderr == b"oops\n"
    fed = await c.exec(["cat"], stdin=b"piped in\n")
    assert (fed.exit_code, fed.stdout) == (0, b"piped in\n")
    tty = await c.exec("echo hi >&2", tty=True)
    assert (tty.exit_code, tty.stdout, tty.stderr) == (0, b"hi\r\n", b"")


@pytest.mark.anyio
async def test_interactive_exec_session(
    async_client: pydock.AsyncClient, engine: Engine, made: list[str]
) -> None:
    c = await start(async_client, engine, made, ["sleep", "300"])
    async with c.exec_session("sh") as sh:
        await sh.resize(30, 100)
        await sh.send(b"stty size\n")
        assert b"30 100" in await sh.read_until(b"30 100", timeout=20)
        await sh.send(b"echo $((6*7))\n")
        assert b"42" in await sh.read_until(b"42\r\n", timeout=20)
        await sh.send(b"exit 3\n")
        assert await sh.wait(timeout=20) == 3
    assert sh.exit_code == 3
    async with c.exec_session(["sh"], tty=False) as plain:
        await plain.send("echo to-out; echo to-err >&2\n")
        await plain.close_stdin()
        frames = []
        while batch := await plain.recv_frames(timeout=20):
            frames.extend(batch)
    assert b"".join(f.data for f in frames if f.stream == 1) == b"to-out\n"
    assert b"".join(f.data for f in frames if f.stream == 2) == b"to-err\n"
    assert plain.exit_code == 0


# --------------------------------------------------------------------------- copy


def make_tree(root: Path) -> None:
    root.mkdir()
    (root / "run.sh").write_text("#!/bin/sh\necho hi\n")
    (root / "run.sh").chmod(0o750)
    (root / "sub").mkdir()
    (root / "sub" / "data.bin").write_bytes(os.urandom(300_000))
    (root / "sub" / "data.bin").chmod(0o604)
    (root / "link").symlink_to("run.sh")


@pytest.mark.anyio
async def test_copy_round_trip_keeps_content_and_modes(
    async_client: pydock.AsyncClient, engine: Engine, made: list[str], tmp_path: Path
) -> None:
    src = tmp_path / "tree"
    make_tree(src)
    c = await start(async_client, engine, made, ["sleep", "300"])
    await c.copy_to(src, "/tmp")  # an existing folder: lands inside as /tmp/tree
    listing = await c.exec(["sh", "-c", "stat -c '%a %s %n' /tmp/tree/run.sh /tmp/tree/sub/*"])
    assert listing.stdout.decode().splitlines() == [
        "750 18 /tmp/tree/run.sh",
        "604 300000 /tmp/tree/sub/data.bin",
    ]
    assert (await c.exec(["readlink", "/tmp/tree/link"])).stdout == b"run.sh\n"
    await c.copy_to(src / "run.sh", "/tmp/renamed.sh")  # a new name
    assert (await c.exec(["/tmp/renamed.sh"])).stdout == b"hi\n"

    back = tmp_path / "back"  # a new name: the tree is renamed
    await c.copy_from("/tmp/tree", back)
    assert (back / "sub" / "data.bin").read_bytes() == (src / "sub" / "data.bin").read_bytes()
    assert stat.S_IMODE((back / "run.sh").stat().st_mode) == 0o750
    assert stat.S_IMODE((back / "sub" / "data.bin").stat().st_mode) == 0o604
    assert os.readlink(back / "link") == "run.sh"
    into = tmp_path / "into"
    into.mkdir()
    await c.copy_from("/tmp/renamed.sh", into)  # an existing folder: lands inside
    assert (into / "renamed.sh").read_text() == "#!/bin/sh\necho hi\n"


def sandbox(tmp_path: Path) -> tuple[Path, Path]:
    outer = tmp_path / "sandbox"
    dest = outer / "dest"
    dest.mkdir(parents=True)
    return outer, dest


@pytest.mark.anyio
@pytest.mark.parametrize(
    "link", ["/etc", "../../..", "sub/../../.."], ids=["absolute", "relative", "nested"]
)
async def test_copy_from_refuses_links_out_of_the_destination(
    async_client: pydock.AsyncClient, engine: Engine, made: list[str], tmp_path: Path, link: str
) -> None:
    c = await start(async_client, engine, made, ["sleep", "300"])
    setup = await c.exec(
        ["sh", "-c", f"mkdir -p /h/sub && echo ok > /h/a && ln -s {link} /h/zz && echo x > /h/zzz"]
    )
    assert setup.exit_code == 0
    outer, dest = sandbox(tmp_path)
    with pytest.raises(UnsafeArchiveError):
        await c.copy_from("/h", dest)
    assert sorted(p.name for p in outer.iterdir()) == ["dest"]
    assert not (dest / "h" / "zz").exists()
    assert not (dest / "h" / "zz").is_symlink()
    assert not (dest / "h" / "zzz").exists()  # nothing after the refused member


@pytest.mark.anyio
async def test_hostile_archive_made_by_busybox_tar_is_refused(
    async_client: pydock.AsyncClient, engine: Engine, made: list[str], tmp_path: Path
) -> None:
    """Busybox tar strips ``../`` and ``/``, so members are renamed after the fact with
    substitutions that keep each header's checksum (``+1`` → ``..``, ``0…c`` → ``/…d``)."""
    tag = uuid.uuid4().hex[:8]
    outer, dest = sandbox(tmp_path)
    absolute = f"{outer}/abs-{tag}/pwned"
    benign_abs = "0" + absolute[1:-1] + "c"
    c = await start(async_client, engine, made, ["sleep", "300"])
    script = (
        f"mkdir -p /w/+1 '/w/{os.path.dirname(benign_abs)}' && cd /w && "
        f"echo evil > +1/evil-{tag} && echo evil > '{benign_abs}' && "
        f"tar -cf /t1.tar +1/evil-{tag} && "
        f"sed 's#+1/evil-{tag}#../evil-{tag}#' /t1.tar > /h1.tar && "
        f"tar -cf /t2.tar '{benign_abs}' && sed 's#{benign_abs}#{absolute}#' /t2.tar > /h2.tar"
    )
    assert (await c.exec(["sh", "-c", script])).exit_code == 0
    for name in ("h1.tar", "h2.tar"):
        await c.copy_from(f"/{name}", tmp_path / name)
        data = (tmp_path / name).read_bytes()
        with pytest.raises(UnsafeArchiveError):
            extract_tar([data[i : i + 1000] for i in range(0, len(data), 1000)], dest)
    assert list(dest.iterdir()) == []
    assert sorted(p.name for p in outer.iterdir()) == ["dest"]


# ------------------------------------------------------------- docker cp rules (issue 13)


def tree_of(path: Path) -> dict[str, str]:
    """``{relative path: content or "<dir>"}`` of everything below ``path``."""
    out: dict[str, str] = {}
    for p in sorted(path.rglob("*")):
        rel = str(p.relative_to(path))
        out[rel] = "<dir>" if p.is_dir() else p.read_text()
    return out


COPY_SETUP = "mkdir -p /d/sub && echo f > /d/f && echo g > /d/sub/g && echo file > /file"

# (source in the container, destination relative to the sandbox's "host" folder,
#  what the "host" folder holds afterwards, or the error raised)
COPY_RULES: list[tuple[str, str, dict[str, str] | type[Exception]]] = [
    ("/file", "new", {"f": "host", "new": "file\n", "dir": "<dir>", "dir/f": "host"}),
    ("/file", "f", {"f": "file\n", "dir": "<dir>", "dir/f": "host"}),
    ("/file", "dir", {"f": "host", "dir": "<dir>", "dir/f": "host", "dir/file": "file\n"}),
    ("/file", "dir/", {"f": "host", "dir": "<dir>", "dir/f": "host", "dir/file": "file\n"}),
    ("/file", "new/", CopyError),
    ("/file", "new/.", CopyError),
    ("/d", "new", {"f": "host", "new": "<dir>", "new/f": "f\n", "new/sub": "<dir>",
                   "new/sub/g": "g\n", "dir": "<dir>", "dir/f": "host"}),
    ("/d/", "new/", {"f": "host", "new": "<dir>", "new/f": "f\n", "new/sub": "<dir>",
                     "new/sub/g": "g\n", "dir": "<dir>", "dir/f": "host"}),
    ("/d", "dir", {"f": "host", "dir": "<dir>", "dir/f": "host", "dir/d": "<dir>",
                   "dir/d/f": "f\n", "dir/d/sub": "<dir>", "dir/d/sub/g": "g\n"}),
    ("/d/.", "new", {"f": "host", "new": "<dir>", "new/f": "f\n", "new/sub": "<dir>",
                     "new/sub/g": "g\n", "dir": "<dir>", "dir/f": "host"}),
    ("/d/.", "dir", {"f": "host", "dir": "<dir>", "dir/f": "f\n", "dir/sub": "<dir>",
                     "dir/sub/g": "g\n"}),
    ("/d", "f", CopyError),
    ("/d/.", "f", CopyError),
]  # fmt: skip


@pytest.mark.anyio
async def test_copy_from_follows_docker_cp_destination_rules(
    async_client: pydock.AsyncClient, engine: Engine, made: list[str], tmp_path: Path
) -> None:
    c = await start(async_client, engine, made, ["sleep", "300"])
    assert (await c.exec(["sh", "-c", COPY_SETUP])).exit_code == 0
    for i, (src, dst, expected) in enumerate(COPY_RULES):
        case = tmp_path / f"case{i}"
        host = case / "host"
        (host / "dir").mkdir(parents=True)
        (host / "f").write_text("host")
        (host / "dir" / "f").write_text("host")
        if isinstance(expected, dict):
            await c.copy_from(src, f"{host}/{dst}")
            assert tree_of(host) == expected, (src, dst)
        else:
            with pytest.raises(expected):
                await c.copy_from(src, f"{host}/{dst}")
            assert tree_of(host) == {"f": "host", "dir": "<dir>", "dir/f": "host"}, (src, dst)
        assert sorted(p.name for p in case.iterdir()) == ["host"]


@pytest.mark.anyio
async def test_backslashes_in_names_are_ordinary_characters(
    async_client: pydock.AsyncClient, engine: Engine, made: list[str], tmp_path: Path
) -> None:
    c = await start(async_client, engine, made, ["sleep", "300"])
    setup = await c.exec(["sh", "-c", r"mkdir /b && echo 1 > '/b/a\b' && echo 2 > '/b/..\x'"])
    assert setup.exit_code == 0
    outer, dest = sandbox(tmp_path)
    await c.copy_from("/b", dest / "b")
    assert tree_of(outer) == {"dest": "<dir>", "dest/b": "<dir>", "dest/b/..\\x": "2\n",
                              "dest/b/a\\b": "1\n"}  # fmt: skip
    await c.copy_from("/b/a\\b", dest / "one")
    assert (dest / "one").read_text() == "1\n"


@pytest.mark.anyio
async def test_copy_from_strips_setuid_unless_asked(
    async_client: pydock.AsyncClient, engine: Engine, made: list[str], tmp_path: Path
) -> None:
    c = await start(async_client, engine, made, ["sleep", "300"])
    setup = "mkdir /s && echo x > /s/x && chmod 6755 /s/x && chmod 3777 /s"
    assert (await c.exec(["sh", "-c", setup])).exit_code == 0
    await c.copy_from("/s", tmp_path / "plain")
    assert stat.S_IMODE((tmp_path / "plain" / "x").stat().st_mode) == 0o755
    assert stat.S_IMODE((tmp_path / "plain").stat().st_mode) == 0o777
    await c.copy_from("/s", tmp_path / "kept", preserve_mode=True)
    assert stat.S_IMODE((tmp_path / "kept" / "x").stat().st_mode) == 0o6755
    assert stat.S_IMODE((tmp_path / "kept").stat().st_mode) == 0o3777


@pytest.mark.anyio
async def test_copy_to_follows_links_in_the_container(
    async_client: pydock.AsyncClient, engine: Engine, made: list[str], tmp_path: Path
) -> None:
    c = await start(async_client, engine, made, ["sleep", "300"])
    setup = (
        "mkdir /real && echo old > /real/file && ln -s /real /linkdir && ln -s real/file /linkfile"
    )
    assert (await c.exec(["sh", "-c", setup])).exit_code == 0
    (tmp_path / "a").write_text("A\n")
    (tmp_path / "b").write_text("B\n")
    (tmp_path / "new").write_text("NEW\n")
    await c.copy_to(tmp_path / "a", "/linkdir")
    await c.copy_to(tmp_path / "b", "/linkdir/")
    await c.copy_to(tmp_path / "new", "/linkfile")
    check = "readlink /linkdir; readlink /linkfile; cat /real/a /real/b /real/file"
    result = await c.exec(["sh", "-c", check])
    assert result.stdout.decode().splitlines() == ["/real", "real/file", "A", "B", "NEW"]
    await c.copy_from("/linkdir/", tmp_path / "followed")  # a trailing slash follows the link
    assert tree_of(tmp_path / "followed") == {"a": "A\n", "b": "B\n", "file": "NEW\n"}


@pytest.mark.anyio
async def test_copy_to_of_a_folders_contents(
    async_client: pydock.AsyncClient, engine: Engine, made: list[str], tmp_path: Path
) -> None:
    """``docker cp DIR/. CONTAINER:DEST``: the contents, into an existing or a new folder."""
    c = await start(async_client, engine, made, ["sleep", "300"])
    assert (await c.exec(["sh", "-c", "mkdir /have && echo old > /have/keep"])).exit_code == 0
    src = tmp_path / "src"
    (src / "sub").mkdir(parents=True)
    (src / "f").write_text("F\n")
    (src / "sub" / "g").write_text("G\n")
    await c.copy_to(f"{src}/.", "/have")
    await c.copy_to(f"{src}/.", "/new")
    listing = await c.exec(["sh", "-c", "cd / && find have new | sort && cat have/keep"])
    assert listing.stdout.decode().splitlines() == [
        "have", "have/f", "have/keep", "have/sub", "have/sub/g",
        "new", "new/f", "new/sub", "new/sub/g", "old",
    ]  # fmt: skip


@pytest.mark.anyio
async def test_copy_from_a_link_to_the_containers_etc_writes_nothing(
    async_client: pydock.AsyncClient, engine: Engine, made: list[str], tmp_path: Path
) -> None:
    """Docker sends the link itself, Podman the files of ``/etc``: both are refused, unwritten."""
    c = await start(async_client, engine, made, ["sleep", "300"])
    assert (await c.exec(["sh", "-c", "mkdir /d && ln -s /etc /d/abs"])).exit_code == 0
    outer, dest = sandbox(tmp_path)
    for target in (dest, dest / "new"):
        with pytest.raises(UnsafeArchiveError):
            await c.copy_from("/d/abs", target)
        assert tree_of(outer) == {"dest": "<dir>"}


def _hostile_engine(stat_name: str, members: list[tuple[str, bytes]]) -> tuple[str, Any]:
    """A one-endpoint engine on 127.0.0.1: the archive endpoint answers ``members`` (files)."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, data in members:
            info = tarfile.TarInfo(name)
            if name.endswith("/"):
                info.type = tarfile.DIRTYPE
                info.mode = 0o755
                tar.addfile(info)
            else:
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
    body = buf.getvalue()
    header = base64.b64encode(
        json.dumps(
            {"name": stat_name, "size": 0, "mode": 0x80000000 | 0o755, "linkTarget": ""}
        ).encode()
    )
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)

    def serve() -> None:
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            with conn:
                head = b""
                while b"\r\n\r\n" not in head:
                    chunk = conn.recv(65536)
                    if not chunk:
                        break
                    head += chunk
                method, target = head.split(b" ", 2)[:2]
                answer = b"OK" if b"/_ping" in target else body
                conn.sendall(
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/x-tar\r\nApi-Version: 1.41\r\n"
                    b"X-Docker-Container-Path-Stat: " + header + b"\r\n"
                    b"Content-Length: %d\r\nConnection: close\r\n\r\n"
                    % len(answer)
                    + (b"" if method == b"HEAD" else answer)
                )

    threading.Thread(target=serve, daemon=True).start()
    return f"tcp://127.0.0.1:{listener.getsockname()[1]}", listener


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("src", "members"),
    [
        ("/d", [("d/", b""), ("d/ok", b"ok"), ("f", b"evil")]),
        ("/d", [("d/", b""), ("other/", b""), ("other/f", b"evil")]),
        ("/d", [("./f", b"evil")]),
        ("/d/.", [("./", b""), ("../f", b"evil")]),
    ],
    ids=["sibling-file", "sibling-dir", "dot-root", "dotdot"],
)
async def test_members_outside_the_stat_root_never_land_beside_the_destination(
    tmp_path: Path, src: str, members: list[tuple[str, bytes]]
) -> None:
    url, listener = _hostile_engine(posixpath.basename(src), members)
    outer, dest = sandbox(tmp_path)
    (outer / "f").write_text("keep")
    try:
        async with pydock.AsyncClient(url, backend="docker", api_version="1.41") as client:
            container = AsyncContainer.from_api(client._engine, {"Id": "x" * 64, "Name": "/x"})
            for target in (dest, dest / "new"):
                with pytest.raises(UnsafeArchiveError):
                    await container.copy_from(src, target)
    finally:
        listener.close()
    assert (outer / "f").read_text() == "keep"
    assert sorted(p.name for p in outer.iterdir()) == ["dest", "f"]
    assert not (dest / "f").exists()
    assert not (dest / "other").exists()


# --------------------------------------------------------------------------- commit, stats...


@pytest.mark.anyio
async def test_commit_then_run_the_new_image(
    async_client: pydock.AsyncClient, engine: Engine, made: list[str]
) -> None:
    c = await start(async_client, engine, made, ["sleep", "300"])
    await c.exec(["sh", "-c", "echo committed > /marker"])
    repo = f"pydock-test/commit-{uuid.uuid4().hex[:8]}"
    image = await c.commit(
        repo,
        "v1",
        message="a test commit",
        author="pydock tests",
        changes=['CMD ["cat", "/marker"]', "ENV FROM_COMMIT=yes"],
    )
    try:
        result = await async_client.containers.run(f"{repo}:v1", remove=True, pull="never")
        assert result.stdout == b"committed\n"
        env = await async_client.containers.run(
            f"{repo}:v1", ["sh", "-c", "echo $FROM_COMMIT"], remove=True, pull="never"
        )
        assert env.stdout == b"yes\n"
        assert image is not None
    finally:
        await async_client._request(
            "DELETE", f"/images/{repo}:v1", params={"force": True}, resource="image"
        )


@pytest.mark.anyio
async def test_stats_top_diff(
    async_client: pydock.AsyncClient, engine: Engine, made: list[str]
) -> None:
    c = await start(async_client, engine, made, ["sleep", "300"])
    sample = await c.stats()
    assert sample.memory_usage > 0
    assert sample.pids >= 1
    stream = c.stream_stats()
    async with stream:
        first = await stream.__anext__()
    assert first.memory_usage > 0
    top = await c.top()
    assert "PID" in top.titles
    commands = [row[-1] for row in top.processes]
    assert any("sleep 300" in cmd for cmd in commands)
    await c.exec(["sh", "-c", "echo x > /added"])
    changes = {(ch.path, ch.kind) for ch in await c.diff()}
    assert ("/added", "added") in changes


# --------------------------------------------------------------------------- big copies, events


def make_big_file(path: Path, mib: int) -> str:
    """Write ``mib`` MiB of random bytes; return their sha256."""
    digest = hashlib.sha256()
    with open(path, "wb") as f:
        for _ in range(mib):
            chunk = os.urandom(1 << 20)
            digest.update(chunk)
            f.write(chunk)
    return digest.hexdigest()


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


@pytest.mark.anyio
async def test_a_200_mib_file_is_never_held_in_memory(
    async_client: pydock.AsyncClient, engine: Engine, made: list[str], tmp_path: Path
) -> None:
    big = tmp_path / "big.bin"
    digest = make_big_file(big, 200)
    c = await start(async_client, engine, made, ["sleep", "300"])
    back = tmp_path / "back"
    back.mkdir()
    tracemalloc.start()
    try:
        await c.copy_to(big, "/tmp/big.bin")
        _, peak_in = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        await c.copy_from("/tmp/big.bin", back)
        _, peak_out = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # Python allocations at their peak, while 200 MiB went each way.
    assert peak_in < 16 * 2**20, peak_in
    assert peak_out < 16 * 2**20, peak_out
    inside = await c.exec(["sha256sum", "/tmp/big.bin"])
    assert inside.stdout.split()[0].decode() == digest
    assert sha256_of(back / "big.bin") == digest


@pytest.mark.anyio
async def test_events_report_a_container_life(
    async_client: pydock.AsyncClient, engine: Engine, made: list[str]
) -> None:
    since = datetime.now(timezone.utc) - timedelta(seconds=2)
    c = await start(async_client, engine, made, ["sh", "-c", "exit 3"])
    assert await c.wait(timeout=30) == 3
    until = datetime.now(timezone.utc) + timedelta(seconds=2)
    actions: list[str] = []
    stream = async_client.containers.events(filters={"container": [c.id]}, since=since, until=until)
    async with stream:
        async for event in stream:
            assert event.type == "container"
            assert event.id == c.id
            actions.append(event.action)
    assert "start" in actions
    assert "die" in actions
    # Every type of event. (Podman 4.3 replays nothing once `until` has passed,
    # so this stream gets an `until` of its own, still ahead.)
    until = datetime.now(timezone.utc) + timedelta(seconds=2)
    everything = async_client.events(since=since, until=until)
    async with everything:
        died = [event.id async for event in everything if event.action == "die"]
    assert c.id in died
    # Filtering by the action gives the same events on both engines.
    until = datetime.now(timezone.utc) + timedelta(seconds=2)
    only_die = async_client.containers.events(
        filters={"container": [c.id], "event": ["die"]}, since=since, until=until
    )
    async with only_die:
        assert [event.action async for event in only_die] == ["die"]
