"""The daemonless builder against the real registry, proven by running its images on both engines.

Images are assembled and pushed with no engine; then Docker and Podman pull
them (by digest) and run them.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import tarfile
import tempfile
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import attrs
import pytest

import pydock
from pydock import errors
from pydock._async._builder import AsyncImageBuilder
from pydock._async._registry import AsyncRegistry
from pydock._core.builder import OCI_LAYER_GZIP, UnsupportedInstruction
from pydock._core.registry import DOCKER_MANIFEST, OCI_INDEX, OCI_MANIFEST, ImageManifest
from tests.conftest import RegistryServer

BASE = "pydock-test/busybox:1"


def unique() -> str:
    return f"pydock-h2/{uuid.uuid4().hex[:12]}"


@pytest.fixture
async def reg(registry: RegistryServer) -> AsyncIterator[AsyncRegistry]:
    async with AsyncRegistry(registry.host, env={"DOCKER_CONFIG": "/nonexistent"}) as client:
        yield client


class Pulled:
    """Images pulled into the engine, removed when the test ends."""

    def __init__(self, client: pydock.AsyncClient) -> None:
        self.client = client
        self.refs: list[str] = []

    async def pull(self, ref: str) -> pydock.AsyncImage:
        image = await self.client.images.pull(ref)
        self.refs.append(image.id)
        return image


@pytest.fixture
async def pulled(async_client: pydock.AsyncClient) -> AsyncIterator[Pulled]:
    tracker = Pulled(async_client)
    yield tracker
    for ref in tracker.refs:
        with contextlib.suppress(errors.NotFound, errors.Conflict):
            await async_client.images.remove(ref, force=True)


def app_folder(root: Path) -> Path:
    app = root / "app"
    (app / "bin").mkdir(parents=True)
    script = app / "bin" / "greet"
    script.write_text('#!/bin/sh\necho "$GREETING from $(pwd) as $(id -u):$(id -g)"\n')
    script.chmod(0o755)
    (app / "data.txt").write_text("payload\n")
    return app


@pytest.mark.anyio
async def test_appended_image_runs(
    async_client: pydock.AsyncClient, pulled: Pulled, reg: AsyncRegistry, tmp_path: Path
) -> None:
    builder = (
        AsyncImageBuilder.from_image(f"{reg.host}/{BASE}", registry=reg, manifest_format="oci")
        .add_path(app_folder(tmp_path), "/app", uid=1000, gid=1000)
        .add_files({"/etc/motd": b"built without an engine\n"}, file_mode=0o600)
        .env(GREETING="hello", PATH="/app/bin:/usr/sbin:/usr/bin:/sbin:/bin")
        .workdir("/app")
        .user("1000:1000")
        .expose(8080)
        .volume("/data")
        .label({"org.example.builder": "pydock"})
        .entrypoint(["/bin/sh", "-c"])
        .cmd(["greet; cat data.txt; ls -ln /app/data.txt | awk '{print $3, $4}'"])
    )
    result = await builder.push(f"{unique()}:1")
    assert result.manifest.media_type == OCI_MANIFEST
    assert [x.media_type for x in result.layers] == [OCI_LAYER_GZIP] * 3
    ref = f"{result.reference.rpartition(':')[0]}@{result.digest}"  # type: ignore[union-attr]
    image = await pulled.pull(ref)
    assert image.config.user == "1000:1000"
    assert image.config.workdir == "/app"
    assert "8080/tcp" in image.config.exposed_ports
    assert "/data" in image.config.volumes
    assert image.labels["org.example.builder"] == "pydock"
    run = await async_client.containers.run(ref, remove=True)
    assert run.stdout == b"hello from /app as 1000:1000\npayload\n1000 1000\n"
    motd = await async_client.containers.run(
        ref, ["stat -c '%a %u' /etc/motd; cat /etc/motd; stat -c %a /tmp"], user="0", remove=True
    )
    assert motd.stdout == b"600 0\nbuilt without an engine\n1777\n"  # the base's /tmp is untouched


@pytest.mark.anyio
async def test_scratch_image_runs(
    async_client: pydock.AsyncClient, pulled: Pulled, reg: AsyncRegistry
) -> None:
    builder = (
        AsyncImageBuilder.scratch(platform="linux/amd64", registry=reg)
        .add_files({"/bin/busybox": "/bin/busybox"}, file_mode=0o755)
        .add_symlink("/bin/sh", "busybox")
        .add_files({"/hello.txt": b"from scratch\n"})
        .entrypoint(["/bin/busybox"])
        .cmd(["cat", "/hello.txt"])
    )
    result = await builder.push(f"{reg.host}/{unique()}:scratch")
    assert result.config["rootfs"]["diff_ids"] == [x.diff_id for x in result.layers]
    assert len(result.config["history"]) == 3
    ref = f"{result.reference.rpartition(':')[0]}@{result.digest}"  # type: ignore[union-attr]
    await pulled.pull(ref)
    run = await async_client.containers.run(ref, remove=True)
    assert run.stdout == b"from scratch\n"
    shell = await async_client.containers.run(
        ref, ["sh", "-c", "ls -ld /bin | cut -c1-10"], remove=True
    )
    assert shell.stdout == b"drwxr-xr-x\n"  # parents are part of a scratch image


def dockerfile_context(root: Path) -> Path:
    ctx = root / "ctx"
    (ctx / "site").mkdir(parents=True)
    (ctx / "site" / "index.html").write_text("<h1>hi</h1>\n")
    (ctx / "site" / "secret.key").write_text("do not ship")
    (ctx / "run.sh").write_text('#!/bin/sh\necho "run: $MSG $*"\n')
    (ctx / "run.sh").chmod(0o755)
    (ctx / "notes.md").write_text("excluded")
    (ctx / ".dockerignore").write_text("**/*.key\n*.md\n")
    with tarfile.open(ctx / "extra.tar.gz", "w:gz") as tar:
        info = tarfile.TarInfo("extra/readme.txt")
        info.size, info.mode = 6, 0o644
        tar.addfile(info, io.BytesIO(b"extra\n"))
    return ctx


DOCKERFILE = """\
ARG REGISTRY=127.0.0.1:5000
FROM ${REGISTRY}/pydock-test/busybox:1
ARG WHO=world
ENV MSG="hello $WHO" APP=/srv/app
LABEL org.example.who=$WHO
WORKDIR $APP
COPY --chown=1000:1000 site/ ./site/
COPY run.sh /usr/local/bin/
ADD extra.tar.gz /opt/
ADD notes.md* site/ /copied/
USER 1000
EXPOSE 8080/tcp
VOLUME /data
ENTRYPOINT ["run.sh"]
CMD ["default-arg"]
"""


@pytest.mark.anyio
async def test_dockerfile_without_run_builds_and_runs(
    async_client: pydock.AsyncClient, pulled: Pulled, reg: AsyncRegistry, tmp_path: Path
) -> None:
    ctx = dockerfile_context(tmp_path)
    builder = AsyncImageBuilder.from_dockerfile(
        ctx, DOCKERFILE, build_args={"REGISTRY": reg.host, "WHO": "pydock"}, registry=reg
    )
    result = await builder.push(f"{unique()}:df")
    assert result.manifest.media_type == DOCKER_MANIFEST  # the base's format
    config = result.config["config"]
    assert config["Entrypoint"] == ["run.sh"]
    assert config["Cmd"] == ["default-arg"]
    assert config["Labels"] == {"org.example.who": "pydock"}
    ref = f"{result.reference.rpartition(':')[0]}@{result.digest}"  # type: ignore[union-attr]
    await pulled.pull(ref)
    run = await async_client.containers.run(ref, remove=True)
    assert run.stdout == b"run: hello pydock default-arg\n"
    probe = await async_client.containers.run(
        ref,
        [
            "id -u; pwd; stat -c '%u:%g' site/index.html;"
            " cat site/index.html /opt/extra/readme.txt;"
            " ls -A /copied; test -e site/secret.key || echo no-key"
        ],
        entrypoint=["/bin/sh", "-c"],
        remove=True,
    )
    assert probe.stdout == (b"1000\n/srv/app\n1000:1000\n<h1>hi</h1>\nextra\nindex.html\nno-key\n")


@pytest.mark.anyio
async def test_shell_form_cmd_is_wrapped(
    async_client: pydock.AsyncClient, pulled: Pulled, reg: AsyncRegistry, tmp_path: Path
) -> None:
    text = f"FROM {reg.host}/{BASE}\nENV N=3\nCMD echo n=$N; echo done\n"
    result = await AsyncImageBuilder.from_dockerfile(tmp_path, text, registry=reg).push(
        f"{unique()}:shell"
    )
    assert result.config["config"]["Cmd"] == ["/bin/sh", "-c", "echo n=$N; echo done"]
    ref = f"{result.reference.rpartition(':')[0]}@{result.digest}"  # type: ignore[union-attr]
    await pulled.pull(ref)
    run = await async_client.containers.run(ref, remove=True)
    assert run.stdout == b"n=3\ndone\n"


@pytest.mark.anyio
async def test_same_inputs_same_digest(reg: AsyncRegistry, tmp_path: Path) -> None:
    one = app_folder(tmp_path / "one")
    two = app_folder(tmp_path / "two")
    for path in two.rglob("*"):
        os.utime(path, (1_600_000_000, 1_600_000_000))

    def plan(folder: Path) -> AsyncImageBuilder:
        return (
            AsyncImageBuilder.from_image(f"{reg.host}/{BASE}", registry=reg)
            .add_path(folder, "/app")
            .add_files({"/etc/build-info": b"v1\n"})
            .env(A="1")
            .cmd(["/app/bin/greet"])
        )

    first = await plan(one).push(f"{unique()}:1")
    second = await plan(two).push(f"{unique()}:2")
    assert first.digest == second.digest
    assert first.config_digest == second.config_digest
    assert [x.digest for x in first.layers] == [x.digest for x in second.layers]
    assert first.config["created"] == "1970-01-01T00:00:00Z"
    later = await plan(one).push(f"{unique()}:3")
    assert later.digest == first.digest
    other_time = await attrs.evolve(plan(one), timestamp=1_700_000_000).push(f"{unique()}:4")
    assert other_time.digest != first.digest
    fetched = await reg.manifest(str(first.reference))
    assert isinstance(fetched, ImageManifest)
    assert fetched.digest == first.digest
    # The base layer was mounted from the base's repository, not rebuilt.
    base = await reg.manifest(BASE)
    assert isinstance(base, ImageManifest)
    assert fetched.layers[0].digest == base.layers[0].digest


@pytest.mark.anyio
async def test_run_is_refused_before_any_io(tmp_path: Path) -> None:
    with pytest.raises(UnsupportedInstruction, match="line 3: 'RUN echo hi'"):
        AsyncImageBuilder.from_dockerfile(tmp_path, "FROM scratch\nENV A=1\nRUN echo hi\n")
    (tmp_path / "Dockerfile").write_text('FROM scratch\nRUN ["true"]\n')
    with pytest.raises(UnsupportedInstruction, match="line 2"):
        AsyncImageBuilder.from_dockerfile(tmp_path)


@pytest.mark.anyio
async def test_failed_build_leaves_no_temporary_files(
    reg: AsyncRegistry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    scratch_dir = tmp_path / "tmp"
    scratch_dir.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch_dir))
    builder = (
        AsyncImageBuilder.from_image(f"{reg.host}/{BASE}", registry=reg)
        .add_files({"/ok": b"fine"})
        .add_path(tmp_path / "missing", "/nope")
    )
    with pytest.raises(FileNotFoundError):
        await builder.push(f"{unique()}:broken")
    text = f"FROM {reg.host}/{BASE}\nCOPY absent.txt /x\n"
    with pytest.raises(FileNotFoundError, match=r"absent\.txt"):
        await AsyncImageBuilder.from_dockerfile(tmp_path, text, registry=reg).push(f"{unique()}:2")
    assert list(scratch_dir.iterdir()) == []


@pytest.mark.anyio
async def test_missing_base(reg: AsyncRegistry) -> None:
    builder = AsyncImageBuilder.from_image(f"{reg.host}/pydock-h2/no-such-base:1", registry=reg)
    with pytest.raises(errors.RegistryError):
        await builder.push(f"{unique()}:x")


async def push_index(reg: AsyncRegistry, repo: str) -> str:
    """An index: linux/amd64 -> the busybox test image, linux/arm64 -> a tiny other image."""
    await reg.copy(BASE, f"{repo}:amd64")
    amd64 = await reg.manifest(f"{repo}:amd64")
    assert isinstance(amd64, ImageManifest)
    arm64 = await (
        AsyncImageBuilder.scratch(platform="linux/arm64", registry=reg)
        .add_files({"/arch": b"arm64\n"})
        .push(f"{repo}:arm64")
    )
    entries = [
        {
            "mediaType": amd64.media_type,
            "digest": amd64.digest,
            "size": amd64.size,
            "platform": {"os": "linux", "architecture": "amd64"},
        },
        {
            "mediaType": arm64.manifest.media_type,
            "digest": arm64.digest,
            "size": arm64.manifest.size,
            "platform": {"os": "linux", "architecture": "arm64"},
        },
    ]
    raw = json.dumps({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": entries}).encode()
    await reg.put_manifest(f"{repo}:multi", raw)
    return f"{reg.host}/{repo}:multi"


@pytest.mark.anyio
async def test_base_platform_is_picked_from_an_index(reg: AsyncRegistry) -> None:
    index = await push_index(reg, unique())
    for platform, arch, layers in (("linux/amd64", "amd64", 2), ("linux/arm64", "arm64", 2)):
        result = await (
            AsyncImageBuilder.from_image(index, registry=reg, platform=platform)
            .add_files({"/added": b"x"})
            .push(f"{unique()}:{arch}")
        )
        assert result.config["architecture"] == arch
        assert len(result.layers) == layers
    with pytest.raises(errors.ManifestUnknown, match="s390x"):
        await AsyncImageBuilder.from_image(index, registry=reg, platform="linux/s390x").push(
            f"{unique()}:none"
        )


@pytest.mark.anyio
async def test_base_on_another_registry_is_streamed_across(
    reg: AsyncRegistry, auth_registry: RegistryServer
) -> None:
    assert auth_registry.username is not None
    assert auth_registry.password is not None
    async with AsyncRegistry(
        auth_registry.host,
        auth=(auth_registry.username, auth_registry.password),
        ca_cert=auth_registry.ca_cert,
    ) as secure:
        builder = AsyncImageBuilder.from_image(f"{reg.host}/{BASE}", registry=reg).add_files(
            {"/etc/where": b"tls registry\n"}
        )
        repo = unique()
        result = await builder.push(f"{secure.host}/{repo}:1", registry=secure)
        local = await builder.push(f"{reg.host}/{unique()}:1")
        assert result.digest == local.digest
        for layer in result.layers:
            assert await secure.blob_exists(repo, layer.digest)
