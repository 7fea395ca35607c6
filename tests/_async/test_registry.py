"""The registry client against the real registries: plain HTTP (5000) and htpasswd+TLS (5001).

Faults a real registry does not make on demand (corrupt bytes, 429, a dropped
connection, a redirect to another host) go through a proxy in front of the
plain registry.
"""

from __future__ import annotations

import base64
import json
import os
import stat
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from pydock import errors
from pydock._async._registry import AsyncRegistry, load_credentials, save_credentials
from pydock._core.auth import RegistryAuth
from pydock._core.registry import (
    OCI_INDEX,
    OCI_MANIFEST,
    CopyProgress,
    ImageIndex,
    ImageManifest,
    compute_digest,
)
from pydock._core.retry import RetryPolicy
from tests.conftest import RegistryServer
from tests.support.cred_helper import install_helper
from tests.support.fault_proxy import FaultProxy

BASE = "pydock-test/busybox:1"
NO_CONFIG = {"DOCKER_CONFIG": "/nonexistent/pydock-test"}


def unique(prefix: str = "pydock-it") -> str:
    return f"{prefix}/{uuid.uuid4().hex[:12]}"


@pytest.fixture
def proxy(registry: RegistryServer) -> Iterator[FaultProxy]:
    server = FaultProxy(registry.host)
    yield server
    server.close()


def auth_env(tmp_path: Path, server: RegistryServer) -> dict[str, str]:
    """A docker config folder holding the auth registry's credentials."""
    raw = f"{server.username}:{server.password}".encode()
    config = {"auths": {server.host: {"auth": base64.b64encode(raw).decode()}}}
    (tmp_path / "config.json").write_text(json.dumps(config))
    return {"DOCKER_CONFIG": str(tmp_path)}


async def push_random_image(
    reg: AsyncRegistry, repo: str, tag: str, *, arch: str = "amd64", size: int = 4096
) -> ImageManifest:
    layer = os.urandom(size)
    config = json.dumps(
        {
            "architecture": arch,
            "os": "linux",
            "rootfs": {"type": "layers", "diff_ids": [compute_digest(layer)]},
        }
    ).encode()
    layer_desc = await reg.upload_blob(repo, layer)
    config_desc = await reg.upload_blob(repo, config)
    manifest = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {
            "mediaType": "application/vnd.oci.image.config.v1+json",
            "digest": config_desc.digest,
            "size": config_desc.size,
        },
        "layers": [
            {
                "mediaType": "application/vnd.oci.image.layer.v1.tar",
                "digest": layer_desc.digest,
                "size": layer_desc.size,
            }
        ],
    }
    raw = json.dumps(manifest).encode()
    await reg.put_manifest(f"{repo}:{tag}", raw)
    found = await reg.manifest(f"{repo}:{tag}")
    assert isinstance(found, ImageManifest)
    return found


async def push_index(reg: AsyncRegistry, repo: str) -> ImageIndex:
    entries = []
    for arch, variant in (("amd64", None), ("arm64", None), ("arm", "v7")):
        m = await push_random_image(reg, repo, f"single-{arch}", arch=arch)
        platform = {"os": "linux", "architecture": arch}
        if variant:
            platform["variant"] = variant
        entries.append(
            {"mediaType": OCI_MANIFEST, "digest": m.digest, "size": m.size, "platform": platform}
        )
    raw = json.dumps({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": entries}).encode()
    await reg.put_manifest(f"{repo}:multi", raw)
    index = await reg.manifest(f"{repo}:multi")
    assert isinstance(index, ImageIndex)
    return index


# --------------------------------------------------------------------------- plain registry


@pytest.mark.anyio
async def test_ping_catalog_and_tags(registry: RegistryServer) -> None:
    async with AsyncRegistry(registry.host) as reg:
        assert await reg.ping()
        assert "pydock-test/busybox" in await reg.catalog().collect()
        assert await reg.tags("pydock-test/busybox").collect() == ["1"]
        assert "pydock-test/busybox" in await reg.search("BUSYBOX")


@pytest.mark.anyio
async def test_listings_are_paged_with_link_headers(registry: RegistryServer) -> None:
    repo = unique()
    async with AsyncRegistry(registry.host) as reg:
        await reg.copy(BASE, f"{repo}:a")
        for tag in ("b", "c", "d", "e"):
            await reg.copy(f"{repo}:a", f"{repo}:{tag}")
        # The 2.8 registry pages the catalog (tags come in one page).
        everything = await reg.catalog().collect()
        size = max(1, len(everything) // 3)
        pages: list[list[str]] = []
        async for page in reg.catalog(page_size=size).by_page():
            pages.append(page)
        assert len(pages) >= 3
        assert all(len(p) <= size for p in pages)
        assert [name for p in pages for name in p] == everything
        assert repo in everything
        tags = []
        async for tag in reg.tags(repo, page_size=2):
            tags.append(tag)
        assert sorted(tags) == ["a", "b", "c", "d", "e"]


@pytest.mark.anyio
async def test_resolve_and_manifest_by_tag_and_digest(registry: RegistryServer) -> None:
    async with AsyncRegistry(registry.host) as reg:
        digest = await reg.resolve(BASE)
        by_tag = await reg.manifest(BASE)
        by_digest = await reg.manifest(f"pydock-test/busybox@{digest}")
        assert isinstance(by_tag, ImageManifest)
        assert by_tag.digest == by_digest.digest == digest == compute_digest(by_tag.raw)
        assert by_tag.media_type == "application/vnd.docker.distribution.manifest.v2+json"
        assert len(by_tag.layers) == 1
        with pytest.raises(errors.ManifestUnknown):
            await reg.manifest("pydock-test/busybox:no-such-tag")
        with pytest.raises(errors.ManifestUnknown):
            await reg.resolve("pydock-test/busybox:no-such-tag")


@pytest.mark.anyio
async def test_download_blob_verifies_and_leaves_only_the_file(
    registry: RegistryServer, tmp_path: Path
) -> None:
    async with AsyncRegistry(registry.host) as reg:
        manifest = await reg.manifest(BASE)
        assert isinstance(manifest, ImageManifest)
        layer = manifest.layers[0]
        path = await reg.download_blob("pydock-test/busybox", layer.digest, tmp_path)
        assert compute_digest(path.read_bytes()) == layer.digest
        assert os.listdir(tmp_path) == [path.name]
        assert await reg.blob_exists("pydock-test/busybox", layer.digest)
        with pytest.raises(errors.BlobUnknown):
            await reg.download_blob("pydock-test/busybox", compute_digest(b"nope"), tmp_path)
        assert os.listdir(tmp_path) == [path.name]


@pytest.mark.anyio
async def test_upload_blob_monolithic_chunked_and_from_file(
    registry: RegistryServer, tmp_path: Path
) -> None:
    repo = unique()
    data = os.urandom(300_000)
    async with AsyncRegistry(registry.host, chunk_size=64 * 1024) as reg:
        small = await reg.upload_blob(repo, b"tiny blob")
        big = await reg.upload_blob(repo, data)  # five PATCH chunks
        assert big.digest == compute_digest(data)
        assert big.size == len(data)
        assert await reg.blob_exists(repo, small.digest)
        source = tmp_path / "blob"
        other = os.urandom(200_000)
        source.write_bytes(other)
        from_file = await reg.upload_blob(repo, source)
        assert from_file.digest == compute_digest(other)
        again = await reg.upload_blob(repo, source)  # HEAD says it exists: nothing sent
        assert again == from_file
        out = await reg.download_blob(repo, big.digest, tmp_path / "big")
        assert out.read_bytes() == data
        out = await reg.download_blob(repo, from_file.digest, tmp_path / "file")
        assert out.read_bytes() == other
        await reg.delete_blob(repo, small.digest)
        assert not await reg.blob_exists(repo, small.digest)


@pytest.mark.anyio
async def test_put_manifest_exact_bytes_and_delete(registry: RegistryServer) -> None:
    repo = unique()
    async with AsyncRegistry(registry.host) as reg:
        pushed = await push_random_image(reg, repo, "1")
        assert await reg.resolve(f"{repo}:1") == pushed.digest
        assert compute_digest(pushed.raw) == pushed.digest
        with pytest.raises(errors.DigestMismatch):
            await reg.put_manifest(f"{repo}@{compute_digest(b'other')}", pushed)
        await reg.delete(f"{repo}:1")
        with pytest.raises(errors.ManifestUnknown):
            await reg.manifest(f"{repo}@{pushed.digest}")


@pytest.mark.anyio
async def test_manifest_missing_blob_is_typed(registry: RegistryServer) -> None:
    repo = unique()
    raw = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {
                "mediaType": "application/vnd.oci.image.config.v1+json",
                "digest": compute_digest(b"missing"),
                "size": 7,
            },
            "layers": [],
        }
    ).encode()
    async with AsyncRegistry(registry.host) as reg:
        assert not await reg.blob_exists(repo, compute_digest(b"missing"))
        with pytest.raises(errors.ManifestBlobUnknown):
            await reg.put_manifest(f"{repo}:1", raw)


@pytest.mark.anyio
async def test_index_platform_selection_and_filtered_copy(registry: RegistryServer) -> None:
    repo = unique()
    async with AsyncRegistry(registry.host) as reg:
        index = await push_index(reg, repo)
        arm64 = await reg.manifest(f"{repo}:multi", platform="linux/aarch64")
        assert arm64.digest == index.manifests[1].digest
        armhf = await reg.manifest(f"{repo}:multi", platform="linux/armhf")
        assert armhf.digest == index.manifests[2].digest
        with pytest.raises(errors.ManifestUnknown):
            await reg.manifest(f"{repo}:multi", platform="linux/s390x")
        dst = unique()
        assert await reg.copy(f"{repo}:multi", f"{dst}:all") == index.digest
        digest = await reg.copy(f"{repo}:multi", f"{dst}:two", platforms=["linux/amd64", "arm64"])
        two = await reg.manifest(f"{dst}@{digest}")
        assert isinstance(two, ImageIndex)
        assert [d.digest for d in two.manifests] == [d.digest for d in index.manifests[:2]]


@pytest.mark.anyio
async def test_copy_within_registry_mounts_blobs(registry: RegistryServer) -> None:
    dst = unique()
    async with AsyncRegistry(registry.host) as reg:
        digest = await reg.copy(BASE, f"{dst}:copied")
        assert digest == await reg.resolve(BASE)
        assert await reg.resolve(f"{dst}:copied") == digest


@pytest.mark.anyio
async def test_copy_across_registries_round_trips_digests(
    registry: RegistryServer, auth_registry: RegistryServer, tmp_path: Path
) -> None:
    repo = unique()
    env = auth_env(tmp_path, auth_registry)
    async with AsyncRegistry(registry.host, env=env) as plain:
        index = await push_index(plain, repo)
        original = await plain.resolve(BASE)
        # The destination client is made from docker's config (credentials) and
        # /etc/docker/certs.d (CA): no engine and no temporary files.
        on_b = await plain.copy(BASE, f"{auth_registry.host}/{repo}:busybox")
        assert on_b == original
        assert await plain.copy(f"{repo}:multi", f"{auth_registry.host}/{repo}:multi") == (
            index.digest
        )
        back = unique()
        assert await plain.copy(f"{auth_registry.host}/{repo}:multi", f"{back}:multi") == (
            index.digest
        )
        assert await plain.copy(f"{auth_registry.host}/{repo}:busybox", f"{back}:bb") == original
    async with AsyncRegistry(
        auth_registry.host,
        auth=(auth_registry.username or "", auth_registry.password or ""),
        ca_cert=auth_registry.ca_cert,
    ) as b:
        assert await b.resolve(f"{repo}:busybox") == original
        child = await b.manifest(f"{repo}:multi", platform="linux/arm/v7")
        assert child.digest == index.manifests[2].digest


@pytest.mark.anyio
async def test_oci_layout_round_trip(registry: RegistryServer, tmp_path: Path) -> None:
    repo = unique()
    layout = tmp_path / "layout"
    async with AsyncRegistry(registry.host) as reg:
        index = await push_index(reg, repo)
        entry = await reg.pull_layout(f"{repo}:multi", layout)
        assert entry.digest == index.digest
        assert json.loads((layout / "oci-layout").read_text()) == {"imageLayoutVersion": "1.0.0"}
        listed = json.loads((layout / "index.json").read_text())["manifests"]
        assert listed[0]["annotations"] == {"org.opencontainers.image.ref.name": "multi"}
        for path in (layout / "blobs" / "sha256").iterdir():
            assert compute_digest(path.read_bytes()) == "sha256:" + path.name
        await reg.pull_layout(BASE, layout)  # a second entry, named "1"
        dst = unique()
        assert await reg.push_layout(layout, f"{dst}:multi") == index.digest
        assert await reg.push_layout(layout, f"{dst}:1") == await reg.resolve(BASE)
        with pytest.raises(ValueError, match="none is named"):
            await reg.push_layout(layout, f"{dst}:other")


@pytest.mark.anyio
async def test_referrers_use_the_fallback_tag(registry: RegistryServer) -> None:
    repo = unique()
    async with AsyncRegistry(registry.host) as reg:
        subject = await push_random_image(reg, repo, "1")
        empty = await reg.upload_blob(repo, b"{}")
        artifact = json.dumps(
            {
                "schemaVersion": 2,
                "mediaType": OCI_MANIFEST,
                "artifactType": "application/vnd.example.sbom",
                "config": {
                    "mediaType": "application/vnd.oci.empty.v1+json",
                    "digest": empty.digest,
                    "size": 2,
                },
                "layers": [],
                "subject": {
                    "mediaType": OCI_MANIFEST,
                    "digest": subject.digest,
                    "size": subject.size,
                },
            }
        ).encode()
        assert await reg.referrers(f"{repo}:1") == []
        digest = await reg.put_manifest(f"{repo}@{compute_digest(artifact)}", artifact)
        found = await reg.referrers(f"{repo}:1")
        assert [d.digest for d in found] == [digest]
        assert found[0].artifact_type == "application/vnd.example.sbom"
        assert await reg.referrers(f"{repo}:1", artifact_type="other/type") == []


# --------------------------------------------------------------------------- auth registry


@pytest.mark.anyio
async def test_begin_copy_reports_typed_progress(
    registry: RegistryServer, auth_registry: RegistryServer
) -> None:
    repo, dst = unique(), unique()
    async with AsyncRegistry(registry.host) as reg:
        with pytest.raises(errors.InvalidReference):
            reg.begin_copy("Not A Reference", f"{dst}:1")  # raised before any request
        pushed = await push_random_image(reg, repo, "1", size=20 << 20)
        layer = pushed.layers[0]
        async with AsyncRegistry(
            auth_registry.host,
            auth=(auth_registry.username or "", auth_registry.password or ""),
            ca_cert=auth_registry.ca_cert,
        ) as target:
            called: list[CopyProgress] = []
            to = f"{auth_registry.host}/{dst}:1"
            async with reg.begin_copy(
                f"{repo}:1", to, target=target, progress=called.append
            ) as operation:
                events: list[CopyProgress] = []
                async for event in operation:
                    events.append(event)
                digest = await operation.result()
            assert digest == pushed.digest
            assert events == called
            moving = [e for e in events if e.digest == layer.digest]
            assert moving[0] == CopyProgress(
                layer.digest, "copying", 0, layer.size, layer.media_type
            )
            sent = [e.done for e in moving if e.phase == "copying"]
            assert len(sent) >= 3  # 20 MiB: a report every 8 MiB
            assert sent == sorted(sent)
            assert sent[-1] < layer.size
            assert moving[-1] == CopyProgress(
                layer.digest, "done", layer.size, layer.size, layer.media_type
            )
            size = len(pushed.raw)
            assert events[-1] == CopyProgress(digest, "done", size, size, pushed.media_type)
            assert await target.resolve(f"{dst}:1") == digest
            # Again: the destination has every blob.
            again: list[CopyProgress] = []
            assert await reg.copy(f"{repo}:1", to, target=target, progress=again.append) == digest
            assert [e.phase for e in again] == ["exists", "exists", "done"]
        # Within one registry, blobs are mounted from the source repository.
        mounted: list[CopyProgress] = []
        await reg.copy(f"{repo}:1", f"{dst}:1", progress=mounted.append)
        assert sorted(e.phase for e in mounted[:-1]) == ["mounted", "mounted"]
        assert {e.digest for e in mounted[:-1]} == {layer.digest, pushed.config.digest}


# Stopping a copy mid-blob cancels it; on trio the suspended body iterators of
# the cancelled answers (httpx's and the transport's async generators) are
# finalized by the garbage collector, which trio reports as a ResourceWarning.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
@pytest.mark.anyio
async def test_copy_left_half_way_stops_and_tags_nothing(
    registry: RegistryServer, auth_registry: RegistryServer
) -> None:
    repo = unique()
    left = f"{auth_registry.host}/{unique()}:1"
    async with AsyncRegistry(registry.host) as reg:
        await push_random_image(reg, repo, "1", size=20 << 20)
        async with AsyncRegistry(
            auth_registry.host,
            auth=(auth_registry.username or "", auth_registry.password or ""),
            ca_cert=auth_registry.ca_cert,
        ) as target:
            async with reg.begin_copy(f"{repo}:1", left, target=target) as operation:
                first = await operation.__anext__()
                assert first.phase == "copying"
            assert operation.done
            with pytest.raises((errors.ManifestUnknown, errors.NameUnknown)):
                await target.resolve(left)
            # The client still works after the cancelled copy.
            assert await reg.copy(f"{repo}:1", left, target=target) == await reg.resolve(
                f"{repo}:1"
            )


@pytest.mark.anyio
async def test_basic_auth_registry(auth_registry: RegistryServer) -> None:
    async with AsyncRegistry(auth_registry.host, env=NO_CONFIG) as anonymous:
        assert await anonymous.ping()
        with pytest.raises(errors.RegistryUnauthorized) as caught:
            await anonymous.resolve(BASE)
        assert "pydock-secret" not in str(caught.value)
        with pytest.raises(errors.RegistryUnauthorized):
            await anonymous.login(auth_registry.username or "", "wrong password")
        await anonymous.login(auth_registry.username or "", auth_registry.password or "")
        assert (await anonymous.resolve(BASE)).startswith("sha256:")
    # Stored only with store=True:
    assert not Path(NO_CONFIG["DOCKER_CONFIG"]).exists()  # noqa: ASYNC240, RUF100


@pytest.mark.anyio
async def test_login_stores_like_docker_login(
    auth_registry: RegistryServer, tmp_path: Path
) -> None:
    env = {"DOCKER_CONFIG": str(tmp_path)}
    async with AsyncRegistry(auth_registry.host, env=env) as reg:
        await reg.login(auth_registry.username or "", auth_registry.password or "", store=True)
    config_file = tmp_path / "config.json"
    assert stat.S_IMODE(config_file.stat().st_mode) == 0o600
    entry = json.loads(config_file.read_text())["auths"][auth_registry.host]
    assert base64.b64decode(entry["auth"]).decode() == (
        f"{auth_registry.username}:{auth_registry.password}"
    )
    found = await load_credentials(auth_registry.host, env=env)
    assert found is not None
    assert found.username == auth_registry.username
    async with AsyncRegistry(auth_registry.host, env=env) as again:
        assert (await again.resolve(BASE)).startswith("sha256:")
    await save_credentials(auth_registry.host, None, env=env)
    assert json.loads(config_file.read_text())["auths"] == {}


@pytest.mark.anyio
async def test_credential_helper_protocol(
    auth_registry: RegistryServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    install_helper(tmp_path / "bin")
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}")
    store = tmp_path / "store.json"
    monkeypatch.setenv("PYDOCK_TEST_CRED_STORE", str(store))
    config_dir = tmp_path / "docker"
    config_dir.mkdir()
    (config_dir / "config.json").write_text(
        json.dumps({"credHelpers": {auth_registry.host: "pydock-test"}})
    )
    env = {"DOCKER_CONFIG": str(config_dir)}
    assert await load_credentials(auth_registry.host, env=env) is None  # helper: not found
    async with AsyncRegistry(auth_registry.host, env=env) as reg:
        with pytest.raises(errors.RegistryUnauthorized):
            await reg.resolve(BASE)
        await reg.login(auth_registry.username or "", auth_registry.password or "", store=True)
    assert json.loads(store.read_text())[auth_registry.host]["Secret"] == auth_registry.password
    config = json.loads((config_dir / "config.json").read_text())
    assert config["auths"] == {auth_registry.host: {}}  # the secret is in the helper only
    async with AsyncRegistry(auth_registry.host, env=env) as reg:
        assert (await reg.resolve(BASE)).startswith("sha256:")
    assert "get" in (tmp_path / "store.json.log").read_text().split()


# --------------------------------------------------------------------------- faults


@pytest.mark.anyio
async def test_corrupt_blob_raises_and_leaves_nothing(
    proxy: FaultProxy, registry: RegistryServer, tmp_path: Path
) -> None:
    async with AsyncRegistry(registry.host) as direct:
        manifest = await direct.manifest(BASE)
    assert isinstance(manifest, ImageManifest)
    proxy.corrupt_blobs = True
    dst = unique()
    async with AsyncRegistry(proxy.url) as reg:
        with pytest.raises(errors.DigestMismatch) as caught:
            await reg.download_blob("pydock-test/busybox", manifest.layers[0].digest, tmp_path)
        assert caught.value.expected == manifest.layers[0].digest
        assert os.listdir(tmp_path) == []
        async with AsyncRegistry(registry.host) as target:
            with pytest.raises(errors.DigestMismatch):
                await reg.copy(BASE, f"{registry.host}/{dst}:1", target=target)
            assert not await target.blob_exists(dst, manifest.layers[0].digest)


@pytest.mark.anyio
async def test_429_is_retried_after_retry_after(proxy: FaultProxy) -> None:
    proxy.throttle = 2
    async with AsyncRegistry(proxy.url, retry=RetryPolicy(attempts=3)) as reg:
        assert (await reg.resolve(BASE)).startswith("sha256:")
    async with AsyncRegistry(proxy.url, retry=RetryPolicy(attempts=2)) as reg:
        proxy.throttle = 5
        with pytest.raises(errors.TooManyRequests):
            await reg.resolve(BASE)


@pytest.mark.anyio
async def test_dropped_connection_mid_blob_is_resumed(proxy: FaultProxy, tmp_path: Path) -> None:
    async with AsyncRegistry(proxy.url) as reg:
        manifest = await reg.manifest(BASE)
        assert isinstance(manifest, ImageManifest)
        proxy.drop_blob = 1
        digest = manifest.layers[0].digest
        path = await reg.download_blob("pydock-test/busybox", digest, tmp_path / "layer")
    assert compute_digest(path.read_bytes()) == digest
    ranges = [h.get("Range") for m, p, h in proxy.seen if "/blobs/" in p and m == "GET"]
    assert ranges[0] is None
    assert ranges[1] is not None
    assert ranges[1].startswith("bytes=")
    assert ranges[1] != "bytes=0-"


@pytest.mark.anyio
async def test_multi_mib_blob_resumed_verified_or_refused(
    proxy: FaultProxy, registry: RegistryServer, tmp_path: Path
) -> None:
    # Big enough that hashing runs on its own thread while the chunks are written.
    repo = unique()
    data = os.urandom(6 << 20)
    async with AsyncRegistry(registry.host) as direct:
        blob = await direct.upload_blob(repo, data)
    async with AsyncRegistry(proxy.url) as reg:
        proxy.drop_blob = 1
        path = await reg.download_blob(repo, blob.digest, tmp_path / "resumed")
        assert path.read_bytes() == data
        ranges = [h.get("Range") for m, p, h in proxy.seen if "/blobs/sha" in p and m == "GET"]
        assert ranges[-1] == f"bytes={len(data) // 2}-"  # resumed where the answer broke
        proxy.corrupt_blobs = True
        with pytest.raises(errors.DigestMismatch):
            await reg.download_blob(repo, blob.digest, tmp_path / "corrupt")
    assert sorted(os.listdir(tmp_path)) == ["resumed"]


@pytest.mark.anyio
@pytest.mark.parametrize("from_file", [True, False])
async def test_chunk_refused_with_416_resumes_from_the_upload_status(
    proxy: FaultProxy, registry: RegistryServer, tmp_path: Path, from_file: bool
) -> None:
    repo = unique()
    data = os.urandom(300_000)
    source = tmp_path / "blob"
    source.write_bytes(data)
    async with AsyncRegistry(proxy.url, chunk_size=64 * 1024) as reg:
        proxy.check_ranges = True  # 416 for a chunk at the wrong offset, as the spec says
        proxy.short_patch = 1  # the first chunk loses its second half on the way
        blob = await reg.upload_blob(repo, source if from_file else data)
    assert blob.digest == compute_digest(data)
    patches = [
        next(v for k, v in h.items() if k.lower() == "content-range")
        for m, _, h in proxy.seen
        if m == "PATCH"
    ]
    # The client believed 64 KiB arrived; the registry had 32 KiB, so the next
    # chunk was refused with 416; the upload's status said where to go on.
    assert patches[:3] == ["0-65535", "65536-131071", "32768-98303"]
    assert [s for m, _, s in proxy.answers if m == "PATCH"][:3] == [202, 416, 202]
    status = [s for m, p, s in proxy.answers if "/blobs/uploads/" in p and m == "GET"]
    assert status == [204]
    async with AsyncRegistry(registry.host) as direct:
        out = await direct.download_blob(repo, blob.digest, tmp_path / "out")
    assert out.read_bytes() == data
    # Registry 2.8 alone appends a misplaced chunk: the digest check at the end
    # refuses the blob, and the upload is cancelled at its latest URL.
    proxy.check_ranges = False
    proxy.answers.clear()
    other = os.urandom(300_000)
    async with AsyncRegistry(proxy.url, chunk_size=64 * 1024) as reg:
        proxy.short_patch = 1
        with pytest.raises(errors.DigestInvalid):
            await reg.upload_blob(repo, other)
        assert not await reg.blob_exists(repo, compute_digest(other))
    assert [s for m, _, s in proxy.answers if m == "DELETE"] == [204]


@pytest.mark.anyio
async def test_redirect_to_another_host_drops_authorization(
    proxy: FaultProxy, tmp_path: Path
) -> None:
    proxy.redirect_blobs = True
    async with AsyncRegistry(proxy.url, auth=RegistryAuth(registrytoken="s3cret")) as reg:
        manifest = await reg.manifest(BASE)
        assert isinstance(manifest, ImageManifest)
        await reg.download_blob("pydock-test/busybox", manifest.layers[0].digest, tmp_path)
    assert proxy.redirected_auth == [None]
    assert all(h.get("Authorization") == "Bearer s3cret" for _, _, h in proxy.seen if h)


# ------------------------------------------------------------------------ bearer flow, in-process


@pytest.mark.anyio
async def test_bearer_flow_with_a_fake_token_service() -> None:
    seen: list[tuple[str, str, str | None]] = []
    tokens = {"pull": "tok-pull", "pull,push": "tok-push"}

    def handler(request: httpx.Request) -> httpx.Response:
        auth = request.headers.get("authorization")
        seen.append((request.method, str(request.url), auth))
        if request.url.host == "auth.test":
            scope = request.url.params.get("scope", "")
            actions = scope.rsplit(":", 1)[-1]
            return httpx.Response(200, json={"token": tokens[actions], "expires_in": 300})
        needed = "pull,push" if request.method in ("POST", "PUT") else "pull"
        if auth != f"Bearer {tokens[needed]}" and not (
            needed == "pull" and auth == "Bearer tok-push"
        ):
            challenge = (
                'Bearer realm="https://auth.test/token",service="reg.test",'
                f'scope="repository:demo/app:{needed}"'
            )
            if auth:
                challenge += ',error="insufficient_scope"'
            return httpx.Response(401, headers={"WWW-Authenticate": challenge})
        if request.url.path == "/v2/":
            return httpx.Response(200)
        if request.method == "HEAD":
            return httpx.Response(404)
        if request.method == "POST":
            return httpx.Response(202, headers={"Location": "/v2/demo/app/blobs/uploads/u1?_s=1"})
        if request.method == "PUT":
            assert request.url.params["_s"] == "1"
            return httpx.Response(201)
        return httpx.Response(200, json={"tags": ["1"]})

    transport = httpx.MockTransport(handler)
    async with AsyncRegistry(
        "reg.test", auth=("user", "pw"), transport=transport, retry=RetryPolicy.none()
    ) as reg:
        assert await reg.tags("demo/app").collect() == ["1"]
        await reg.upload_blob("demo/app", b"data")
        assert await reg.tags("demo/app").collect() == ["1"]
    token_calls = [s for s in seen if "auth.test" in s[1]]
    assert len(token_calls) == 2  # pull, then push once: cached afterwards
    assert all(s[2] and s[2].startswith("Basic ") for s in token_calls)
    assert "scope=repository%3Ademo%2Fapp%3Apull%2Cpush" in token_calls[1][1]
