"""client.images against the real engines and registries."""

from __future__ import annotations

import contextlib
import http.server
import json
import os
import tarfile
import threading
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

import pydock
from pydock._async._images import AsyncImage
from pydock._core.images import PullProgress, PushProgress, SearchResult
from pydock.errors import (
    ImageNotFound,
    InvalidReference,
    PullError,
    PushError,
    UnsupportedFeature,
)
from tests.conftest import Engine, RegistryServer
from tests.support.cred_helper import NAME as HELPER_NAME
from tests.support.cred_helper import install_helper

BUSYBOX = "/bin/busybox"


def helper_actions(store: Path) -> list[str]:
    """What the test credential helper was asked to do, in order."""
    return Path(str(store) + ".log").read_text().split()


def unique(prefix: str = "pydock-it") -> str:
    return f"{prefix}/{uuid.uuid4().hex[:12]}"


def make_rootfs(folder: Path, *, payload: bytes | None = None) -> Path:
    """A rootfs tar: busybox with a few links, plus a file with unique content."""
    tar_path = folder / f"rootfs-{uuid.uuid4().hex[:8]}.tar"
    data = payload if payload is not None else os.urandom(64 * 1024)
    with tarfile.open(tar_path, "w") as tar:
        tar.add(BUSYBOX, arcname="bin/busybox")
        for name in ("sh", "cat", "ls"):
            link = tarfile.TarInfo(f"bin/{name}")
            link.type = tarfile.SYMTYPE
            link.linkname = "busybox"
            tar.addfile(link)
        blob = folder / "blob.bin"
        blob.write_bytes(data)
        tar.add(blob, arcname="data/blob.bin")
    return tar_path


class Cleanup:
    """Names and IDs to remove from the engine when the test ends."""

    def __init__(self) -> None:
        self.names: list[str] = []

    def add(self, *names: str) -> None:
        self.names.extend(names)


@pytest.fixture
async def created(async_client: pydock.AsyncClient) -> AsyncIterator[Cleanup]:
    """Remove every image a test registered, whatever happened."""
    cleanup = Cleanup()
    yield cleanup
    for name in reversed(cleanup.names):
        with contextlib.suppress(pydock.errors.NotFound):
            await async_client.images.remove(name, force=True)


async def import_image(
    client: pydock.AsyncClient,
    tmp_path: Path,
    created: Cleanup,
    ref: str | None,
    *,
    labels: dict[str, str] | None = None,
) -> AsyncImage:
    changes = ['CMD ["/bin/sh"]'] + [f"LABEL {k}={v}" for k, v in (labels or {}).items()]
    image = await client.images.import_(make_rootfs(tmp_path), ref, changes=changes)
    created.add(image.id)
    return image


async def push_fresh_image(
    client: pydock.AsyncClient, tmp_path: Path, created: Cleanup, registry: RegistryServer
) -> tuple[str, str]:
    """Push a new image to the plain registry and forget it locally; return (ref, digest)."""
    ref = f"{registry.host}/{unique()}:1"
    image = await import_image(client, tmp_path, created, ref)
    digest = await client.images.push(ref)
    assert digest is not None
    assert digest.startswith("sha256:")
    await client.images.remove(image.id, force=True)
    return ref, digest


# --------------------------------------------------------------------------- pull


@pytest.mark.anyio
async def test_pull_by_tag_reports_typed_progress_per_layer(
    async_client: pydock.AsyncClient,
    engine: Engine,
    registry: RegistryServer,
    created: Cleanup,
    tmp_path: Path,
) -> None:
    ref, _ = await push_fresh_image(async_client, tmp_path, created, registry)
    events: list[PullProgress] = []
    image = await async_client.images.pull(ref, progress=events.append)
    created.add(image.id)
    assert ref in image.tags
    assert image.id.startswith("sha256:")
    assert image.config.cmd == ("/bin/sh",)
    assert all(isinstance(e, PullProgress) for e in events)
    layered = [e for e in events if e.layer is not None]
    assert layered
    if engine.name == "docker":
        with_bytes = [e for e in events if e.current is not None and e.total]
        assert with_bytes, events
        assert any(e.status == "Downloading" for e in with_bytes)
    else:
        assert any(e.status == "Copying blob" for e in layered)


@pytest.mark.anyio
async def test_pull_by_digest(
    async_client: pydock.AsyncClient,
    registry: RegistryServer,
    created: Cleanup,
    tmp_path: Path,
) -> None:
    ref, digest = await push_fresh_image(async_client, tmp_path, created, registry)
    name = ref.rsplit(":", 1)[0]
    image = await async_client.images.pull(f"{name}@{digest}")
    created.add(image.id)
    assert f"{name}@{digest}" in image.digests


@pytest.mark.anyio
async def test_pull_server_user_name(
    async_client: pydock.AsyncClient, registry: RegistryServer, created: Cleanup
) -> None:
    ref = f"{registry.host}/pydock-test/busybox:1"
    image = await async_client.images.pull(ref)
    created.add(ref)
    assert ref in image.tags
    assert image.os == "linux"
    assert (await async_client.images.get(ref)).id == image.id


@pytest.mark.anyio
async def test_begin_pull_is_an_iterable_operation(
    async_client: pydock.AsyncClient, registry: RegistryServer, created: Cleanup
) -> None:
    ref = f"{registry.host}/pydock-test/busybox:1"
    seen: list[PullProgress] = []
    async with async_client.images.begin_pull(ref) as operation:
        async for event in operation:
            seen.append(event)
        image = await operation.result()
    created.add(ref)
    assert seen
    assert operation.done
    assert ref in image.tags


@pytest.mark.anyio
async def test_pull_of_a_missing_image_is_image_not_found(
    async_client: pydock.AsyncClient, registry: RegistryServer
) -> None:
    with pytest.raises(ImageNotFound):
        await async_client.images.pull(f"{registry.host}/{unique()}:1")


@pytest.mark.anyio
async def test_pull_error_inside_the_stream_is_typed(
    async_client: pydock.AsyncClient, engine: Engine, registry: RegistryServer
) -> None:
    if engine.name == "docker":
        # Docker decides TLS per registry itself: an explicit contrary wish is refused.
        with pytest.raises(UnsupportedFeature):
            await async_client.images.pull(
                f"{registry.host}/pydock-test/busybox:1", tls_verify=True
            )
    else:
        # Forcing TLS against a plain HTTP registry fails inside Podman's 200 stream.
        with pytest.raises(PullError) as caught:
            await async_client.images.pull(
                f"{registry.host}/pydock-test/busybox:1", tls_verify=True
            )
        assert "HTTP" in str(caught.value)


@pytest.mark.anyio
async def test_bad_reference_fails_before_any_request(tmp_path: Path) -> None:
    # Nothing listens on this socket: a request would raise ConnectError instead.
    async with pydock.AsyncClient(f"unix://{tmp_path}/nothing.sock") as client:
        for bad in ("UPPER/Case", "name:", "a b", "x@sha256:123", ""):
            with pytest.raises(InvalidReference):
                await client.images.pull(bad)
        with pytest.raises(InvalidReference):
            await client.images.push("demo/app@sha256:" + "a" * 64)
        with pytest.raises(InvalidReference):
            await client.images.tag("pydock-test/busybox:1", "Bad Name")
        with pytest.raises(InvalidReference):
            await client.images.get("no spaces allowed")


# --------------------------------------------------------------------------- push


@pytest.mark.anyio
async def test_push_to_the_plain_registry_reports_progress(
    async_client: pydock.AsyncClient,
    registry: RegistryServer,
    created: Cleanup,
    tmp_path: Path,
) -> None:
    ref = f"{registry.host}/{unique()}:2"
    await import_image(async_client, tmp_path, created, ref)
    events: list[PushProgress] = []
    digest = await async_client.images.push(ref, progress=events.append)
    assert digest is not None
    assert digest.startswith("sha256:")
    assert events
    assert all(isinstance(e, PushProgress) for e in events)


@pytest.mark.anyio
async def test_push_and_pull_with_auth(
    async_client: pydock.AsyncClient,
    auth_registry: RegistryServer,
    created: Cleanup,
    tmp_path: Path,
) -> None:
    assert auth_registry.username is not None
    assert auth_registry.password is not None
    creds = (auth_registry.username, auth_registry.password)
    ref = f"{auth_registry.host}/{unique()}:1"
    image = await import_image(async_client, tmp_path, created, ref)
    digest = await async_client.images.push(ref, auth=creds)
    assert digest is not None
    await async_client.images.remove(image.id, force=True)
    pulled = await async_client.images.pull(ref, auth=creds)
    created.add(pulled.id)
    assert ref in pulled.tags


@pytest.mark.anyio
async def test_login_checks_with_the_engine_and_is_used_for_push_pull_and_build(
    async_client: pydock.AsyncClient,
    auth_registry: RegistryServer,
    created: Cleanup,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert auth_registry.username is not None
    assert auth_registry.password is not None
    config_dir = tmp_path / "docker"
    monkeypatch.setenv("DOCKER_CONFIG", str(config_dir))  # nothing stored: only login counts
    with pytest.raises(pydock.errors.Unauthorized):
        await async_client.login(auth_registry.username, "wrong", auth_registry.host)
    ref = f"{auth_registry.host}/{unique()}:1"
    image = await import_image(async_client, tmp_path, created, ref)
    with pytest.raises(PushError):
        await async_client.images.push(ref)
    status = await async_client.login(
        auth_registry.username, auth_registry.password, f"https://{auth_registry.host}/v2/"
    )
    assert "succeeded" in status.lower()
    assert not (config_dir / "config.json").exists()  # store=False: nothing written
    assert await async_client.images.push(ref)
    await async_client.images.remove(image.id, force=True)
    # a build whose FROM is on the registry gets the login's credentials too
    df = pydock.Dockerfile().from_(ref).env(FROM_AUTH="yes")
    built = await async_client.build(df, tag=f"{unique()}:built")
    created.add(built.id)
    assert "FROM_AUTH=yes" in built.config.env
    # store=True saves them like `docker login` (config.json, mode 0600)
    await async_client.login(
        auth_registry.username, auth_registry.password, auth_registry.host, store=True
    )
    saved = json.loads((config_dir / "config.json").read_text())
    assert auth_registry.host in saved["auths"]
    assert (config_dir / "config.json").stat().st_mode & 0o777 == 0o600
    await async_client.logout(auth_registry.host, store=True)
    saved = json.loads((config_dir / "config.json").read_text())
    assert auth_registry.host not in saved.get("auths", {})


@pytest.mark.anyio
async def test_push_and_pull_with_credentials_from_a_helper(
    async_client: pydock.AsyncClient,
    auth_registry: RegistryServer,
    created: Cleanup,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """No auth= given: the docker config names a credential helper, which is run."""
    assert auth_registry.username is not None
    assert auth_registry.password is not None
    install_helper(tmp_path / "bin")
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}")
    store = tmp_path / "store.json"
    store.write_text(
        json.dumps(
            {
                auth_registry.host: {
                    "Username": auth_registry.username,
                    "Secret": auth_registry.password,
                }
            }
        )
    )
    monkeypatch.setenv("PYDOCK_TEST_CRED_STORE", str(store))
    config_dir = tmp_path / "docker"
    config_dir.mkdir()
    (config_dir / "config.json").write_text(
        json.dumps({"credHelpers": {auth_registry.host: HELPER_NAME}})
    )
    monkeypatch.setenv("DOCKER_CONFIG", str(config_dir))
    ref = f"{auth_registry.host}/{unique()}:1"
    image = await import_image(async_client, tmp_path, created, ref)
    assert await async_client.images.push(ref)
    await async_client.images.remove(image.id, force=True)
    pulled = await async_client.images.pull(ref)
    created.add(pulled.id)
    assert ref in pulled.tags
    assert helper_actions(store) == ["get", "get"]


@pytest.mark.anyio
async def test_push_without_auth_is_a_push_error(
    async_client: pydock.AsyncClient,
    auth_registry: RegistryServer,
    created: Cleanup,
    tmp_path: Path,
) -> None:
    ref = f"{auth_registry.host}/{unique()}:1"
    await import_image(async_client, tmp_path, created, ref)
    with pytest.raises(PushError) as caught:
        await async_client.images.push(ref)
    assert "auth" in str(caught.value).lower()


@pytest.mark.anyio
async def test_push_of_a_missing_image(
    async_client: pydock.AsyncClient, registry: RegistryServer
) -> None:
    with pytest.raises((ImageNotFound, PushError)):
        await async_client.images.push(f"{registry.host}/{unique()}:1")


# --------------------------------------------------------------------------- local images


@pytest.mark.anyio
async def test_get_exists_and_model(async_client: pydock.AsyncClient, engine: Engine) -> None:
    image = await async_client.images.get(engine.test_image)
    assert engine.test_image in image.tags
    assert image.id.startswith("sha256:")
    assert image.short_id == image.id[:19]
    assert image.architecture
    assert image.os == "linux"
    assert image.size > 0
    assert image.created is not None
    assert image.config.cmd == ("sh",)
    assert any(e.startswith("PATH=") for e in image.config.env)
    assert "PATH" in image.config.environment
    assert image.attrs["Id"]
    assert await async_client.images.exists(engine.test_image)
    assert await async_client.images.exists(image.id)
    assert (await image.reload()) == image
    assert not await async_client.images.exists(f"{unique()}:1")
    with pytest.raises(ImageNotFound):
        await async_client.images.get(f"{unique()}:1")


@pytest.mark.anyio
async def test_tag_and_remove(
    async_client: pydock.AsyncClient, engine: Engine, created: Cleanup, tmp_path: Path
) -> None:
    name = unique()
    image = await import_image(async_client, tmp_path, created, f"{name}:1")
    await image.tag(f"{name}:2")
    await async_client.images.tag(image.id, f"{name}-other")
    fresh = await image.reload()
    assert {f"{name}:1", f"{name}:2", f"{name}-other:latest"} <= set(fresh.tags)
    report = await async_client.images.remove(f"{name}:2")
    assert f"{name}:2" in report.untagged
    assert not report.deleted
    assert await async_client.images.exists(f"{name}:1")
    report = await fresh.remove(force=True, prune_children=False)
    assert image.id in report.deleted
    assert not await async_client.images.exists(image.id)
    with pytest.raises(ImageNotFound):
        await async_client.images.remove(image.id)


@pytest.mark.anyio
async def test_list_with_filters(
    async_client: pydock.AsyncClient, created: Cleanup, tmp_path: Path
) -> None:
    mark = uuid.uuid4().hex
    name = unique()
    first = await import_image(
        async_client, tmp_path, created, f"{name}:1", labels={"pydock.test": mark}
    )
    second = await import_image(
        async_client, tmp_path, created, f"{name}:2", labels={"pydock.test": mark}
    )
    dangling = await import_image(
        async_client, tmp_path, created, None, labels={"pydock.test": mark}
    )
    label = {"label": f"pydock.test={mark}"}

    ids = {i.id for i in await async_client.images.list(filters=label)}
    assert ids == {first.id, second.id, dangling.id}
    ids = {i.id for i in await async_client.images.list(filters={"label": {"pydock.test": mark}})}
    assert ids == {first.id, second.id, dangling.id}

    tagged = await async_client.images.list(filters={**label, "dangling": False})
    assert {i.id for i in tagged} == {first.id, second.id}
    untagged = await async_client.images.list(filters={**label, "dangling": True})
    assert [i.id for i in untagged] == [dangling.id]

    by_ref = await async_client.images.list(filters={"reference": f"{name}:1"})
    assert [i.id for i in by_ref] == [first.id]
    by_pattern = await async_client.images.list(filters={"reference": f"{name.split('/')[0]}/*"})
    assert {first.id, second.id} <= {i.id for i in by_pattern}
    assert dangling.id not in {i.id for i in by_pattern}

    since = await async_client.images.list(filters={**label, "since": f"{name}:1"})
    assert first.id not in {i.id for i in since}
    assert second.id in {i.id for i in since}
    before = await async_client.images.list(filters={**label, "before": f"{name}:2"})
    assert {i.id for i in before} == {first.id}

    everything = await async_client.images.list(all=True)
    assert {first.id, second.id, dangling.id} <= {i.id for i in everything}
    assert all(isinstance(i, AsyncImage) for i in everything)


@pytest.mark.anyio
async def test_prune_reports_deleted_ids_and_space(
    async_client: pydock.AsyncClient, created: Cleanup, tmp_path: Path
) -> None:
    mark = uuid.uuid4().hex
    image = await import_image(async_client, tmp_path, created, None, labels={"pydock.test": mark})
    keep = await import_image(
        async_client, tmp_path, created, f"{unique()}:1", labels={"pydock.test": mark}
    )
    report = await async_client.images.prune(filters={"label": f"pydock.test={mark}"})
    assert image.id in report.deleted
    assert keep.id not in report.deleted
    assert report.space_reclaimed > 0
    assert not await async_client.images.exists(image.id)
    report = await async_client.images.prune(
        dangling=False, filters={"label": f"pydock.test={mark}"}
    )
    assert keep.id in report.deleted
    assert not await async_client.images.exists(keep.id)


@pytest.mark.anyio
async def test_history(async_client: pydock.AsyncClient, created: Cleanup, tmp_path: Path) -> None:
    name = f"{unique()}:1"
    image = await import_image(async_client, tmp_path, created, name)
    history = await image.history()
    assert history
    assert history[0].id == image.id
    assert name in history[0].tags
    assert history[0].created is not None
    assert sum(h.size for h in history) > 64 * 1024
    assert await async_client.images.history(name) == history


# --------------------------------------------------------------------------- archives


def tar_members(path: Path) -> dict[str, bytes]:
    with tarfile.open(path) as tar:
        out: dict[str, bytes] = {}
        for member in tar.getmembers():
            if member.isfile():
                extracted = tar.extractfile(member)
                assert extracted is not None
                out[member.name] = extracted.read()
        return out


def layer_blobs(path: Path) -> set[bytes]:
    """The layer tars of a ``docker save`` archive (by content)."""
    members = tar_members(path)
    manifest = json.loads(members["manifest.json"])
    out: set[bytes] = set()
    with tarfile.open(path) as tar:
        for entry in manifest:
            for layer in entry["Layers"]:
                member = tar.getmember(layer)
                while member.issym():
                    target = os.path.normpath(os.path.join(os.path.dirname(layer), member.linkname))
                    member = tar.getmember(target)
                extracted = tar.extractfile(member)
                assert extracted is not None
                out.add(extracted.read())
    return out


@pytest.mark.anyio
async def test_save_and_load_round_trip(
    async_client: pydock.AsyncClient, created: Cleanup, tmp_path: Path
) -> None:
    name = f"{unique()}:1"
    image = await import_image(async_client, tmp_path, created, name)
    archive = tmp_path / "out" / "image.tar"
    archive.parent.mkdir()
    written = await async_client.images.save(image, archive)
    assert written == archive.stat().st_size > 64 * 1024
    assert os.listdir(archive.parent) == ["image.tar"]
    layers = layer_blobs(archive)
    assert layers

    await async_client.images.remove(image.id, force=True)
    loaded = await async_client.images.load(archive)
    assert [i.id for i in loaded] == [image.id]
    assert name in loaded[0].tags

    again = tmp_path / "again.tar"
    with again.open("wb") as file:
        await async_client.images.save([name], file)
    assert layer_blobs(again) == layers


@pytest.mark.anyio
async def test_save_leaves_nothing_behind_on_error(
    async_client: pydock.AsyncClient,
    created: Cleanup,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    folder = tmp_path / "saves"
    folder.mkdir()
    with pytest.raises(ImageNotFound):
        await async_client.images.save(f"{unique()}:1", folder / "missing.tar")
    assert os.listdir(folder) == []

    image = await import_image(async_client, tmp_path, created, f"{unique()}:1")

    from pydock._async import _images

    def broken_write(self: _images._AtomicFile, data: bytes) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(_images._AtomicFile, "write", broken_write)
    with pytest.raises(OSError, match="disk full"):
        await async_client.images.save(image, folder / "broken.tar")
    assert os.listdir(folder) == []


@pytest.mark.anyio
async def test_import_a_rootfs(
    async_client: pydock.AsyncClient, created: Cleanup, tmp_path: Path
) -> None:
    name = unique()
    payload = os.urandom(1000)
    tar_path = make_rootfs(tmp_path, payload=payload)
    with tar_path.open("rb") as file:
        image = await async_client.images.import_(
            file, name, changes=["ENV GREETING=hello", 'ENTRYPOINT ["/bin/sh", "-c"]']
        )
    created.add(image.id)
    assert f"{name}:latest" in image.tags
    assert image.config.environment["GREETING"] == "hello"
    assert image.config.entrypoint == ("/bin/sh", "-c")
    assert image.size >= len(payload)


# --------------------------------------------------------------------------- search


class _Index(http.server.BaseHTTPRequestHandler):
    """Docker's v1 search protocol, answering two results for any query."""

    queries: list[str] = []  # noqa: RUF012

    def do_GET(self) -> None:
        if self.path.startswith("/v1/search"):
            self.queries.append(self.path)
            body = json.dumps(
                {
                    "num_results": 2,
                    "query": "word",
                    "results": [
                        {
                            "name": "demo/word",
                            "description": "a demo",
                            "star_count": 7,
                            "is_official": True,
                            "is_automated": False,
                        },
                        {
                            "name": "demo/other",
                            "description": "",
                            "star_count": 0,
                            "is_official": False,
                            "is_automated": True,
                        },
                    ],
                }
            ).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        else:
            self.send_error(404)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def search_index() -> Iterator[str]:
    """A tiny v1 search index on 127.0.0.1, served from a thread."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Index)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.mark.anyio
async def test_search(
    async_client: pydock.AsyncClient,
    engine: Engine,
    registry: RegistryServer,
    search_index: str,
) -> None:
    if engine.name == "docker":
        results = await async_client.images.search(f"{search_index}/word", limit=10)
        assert results == [
            SearchResult("demo/word", "a demo", 7, official=True, automated=False),
            SearchResult("demo/other", "", 0, official=False, automated=True),
        ]
        assert any("q=word" in q and "n=10" in q for q in _Index.queries)
    else:
        # Podman lists a v2 registry's catalog.
        results = await async_client.images.search(f"{registry.host}/pydock-test")
        assert SearchResult(f"{registry.host}/pydock-test/busybox") in results
        limited = await async_client.images.search(f"{registry.host}/", limit=1)
        assert len(limited) == 1
