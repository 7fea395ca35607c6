"""client.build against the real engines: every common instruction proven by running the result."""

from __future__ import annotations

import contextlib
import http.server
import io
import os
import tarfile
import threading
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

import pydock
from pydock import Dockerfile
from pydock._async._images import AsyncImage
from pydock.errors import BuildError, InvalidReference
from tests.conftest import Engine, RegistryServer

BASE = os.environ.get("PYDOCK_TEST_IMAGE", "pydock-test/busybox:1")


def unique_tag() -> str:
    return f"pydock-build/{uuid.uuid4().hex[:12]}:1"


class Built:
    """Images a test built, removed when it ends."""

    def __init__(self) -> None:
        self.ids: list[str] = []


@pytest.fixture
async def built(async_client: pydock.AsyncClient) -> AsyncIterator[Built]:
    record = Built()
    yield record
    for image_id in reversed(record.ids):
        with contextlib.suppress(pydock.errors.NotFound, pydock.errors.Conflict):
            await async_client.images.remove(image_id, force=True)


async def build(
    client: pydock.AsyncClient, built: Built, context: object, **kwargs: object
) -> AsyncImage:
    image = await client.build(context, tag=unique_tag(), **kwargs)  # type: ignore[arg-type]
    built.ids.append(image.id)
    return image


async def output(client: pydock.AsyncClient, image: AsyncImage, *command: str) -> str:
    result = await client.containers.run(image.id, list(command) or None, remove=True)
    return result.stdout.decode()


async def containers_mentioning(client: pydock.AsyncClient, text: str) -> list[str]:
    """The containers (any state) whose command mentions ``text``."""
    listed = await client.containers.list(all=True)
    return [c.id for c in listed if text in str(c.attrs.get("Command") or "")]


def tar_bytes(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mode = 0o644
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


# --------------------------------------------------------------------------- instructions


@pytest.mark.anyio
async def test_non_root_user_and_workdir(async_client: pydock.AsyncClient, built: Built) -> None:
    df = (
        Dockerfile()
        .from_(BASE)
        .maintainer("pydock tests <tests@example.invalid>")
        .run("adduser -D -u 1234 app")
        .workdir("/home/app")
        .user("app")
    )
    image = await build(async_client, built, df)
    assert image.config.user == "app"
    assert image.config.workdir == "/home/app"
    assert await output(async_client, image, "sh", "-c", "whoami; pwd; id -u") == (
        "app\n/home/app\n1234\n"
    )


@pytest.mark.anyio
async def test_expose_volume_env_label_and_last_cmd_wins(
    async_client: pydock.AsyncClient, built: Built
) -> None:
    df = (
        Dockerfile()
        .from_(BASE)
        .env(GREETING="hello world", OTHER="x")
        .label(**{"org.example.role": "test"})
        .expose(80, "8443/udp")
        .volume("/data")
        .cmd(["echo", "first"])
        .cmd(["sh", "-c", 'echo "last: $GREETING"'])
    )
    image = await build(async_client, built, df, labels={"built-by": "pydock"})
    assert {"80/tcp", "8443/udp"} <= set(image.config.exposed_ports)
    assert "/data" in image.config.volumes
    assert "GREETING=hello world" in image.config.env
    assert image.labels["org.example.role"] == "test"
    assert image.labels["built-by"] == "pydock"
    assert image.config.cmd == ("sh", "-c", 'echo "last: $GREETING"')
    assert await output(async_client, image) == "last: hello world\n"


@pytest.mark.anyio
async def test_entrypoint_exec_form_takes_cmd_as_default_arguments(
    async_client: pydock.AsyncClient, built: Built
) -> None:
    df = Dockerfile().from_(BASE).entrypoint(["echo", "hi"]).cmd(["there"])
    image = await build(async_client, built, df)
    assert image.config.entrypoint == ("echo", "hi")
    assert await output(async_client, image) == "hi there\n"
    assert await output(async_client, image, "you") == "hi you\n"


@pytest.mark.anyio
async def test_shell_forms_of_entrypoint_cmd_and_run(
    async_client: pydock.AsyncClient, built: Built
) -> None:
    shell_cmd = (
        Dockerfile()
        .from_(BASE)
        .env(WHO="shell")
        .run("echo built > /built")
        .cmd("echo $WHO form; cat /built")
    )
    image = await build(async_client, built, shell_cmd)
    assert image.config.cmd == ("/bin/sh", "-c", "echo $WHO form; cat /built")
    assert await output(async_client, image) == "shell form\nbuilt\n"
    shell_entry = Dockerfile().from_(BASE).entrypoint("echo entry $0").cmd(["ignored"])
    image = await build(async_client, built, shell_entry)
    assert image.config.entrypoint == ("/bin/sh", "-c", "echo entry $0")
    # The shell form of ENTRYPOINT ignores CMD and run arguments (they land in $0).
    assert (await output(async_client, image)).startswith("entry ")


@pytest.mark.anyio
async def test_copy_chown_sets_ownership(async_client: pydock.AsyncClient, built: Built) -> None:
    df = (
        Dockerfile()
        .from_(BASE)
        .run("adduser -D app")
        .copy("app.sh", "/home/app/app.sh", chown="app:app")
        .copy("plain.txt", "/plain.txt")
        .entrypoint(["/bin/sh"])
        .cmd(["/home/app/app.sh"])
    )
    files = {"app.sh": b"echo running as $(whoami)\n", "plain.txt": "root owned\n"}
    image = await build(async_client, built, df, files=files)
    owners = await output(
        async_client, image, "-c", "stat -c '%U:%G %a' /home/app/app.sh /plain.txt"
    )
    assert owners.split("\n")[:2] == ["app:app 644", "root:root 644"]
    assert await output(async_client, image) == "running as root\n"


@pytest.mark.anyio
async def test_add_local_tar_is_extracted(async_client: pydock.AsyncClient, built: Built) -> None:
    bundle = tar_bytes({"inside/x.txt": b"from the tar\n", "inside/y.txt": b"y\n"})
    df = Dockerfile().from_(BASE).add("bundle.tar", "/opt/").copy("bundle.tar", "/copied.tar")
    image = await build(async_client, built, df, files={"bundle.tar": bundle})
    listing = await output(
        async_client, image, "sh", "-c", "cat /opt/inside/x.txt; ls /opt; wc -c < /copied.tar"
    )
    lines = listing.split("\n")
    assert lines[0] == "from the tar"
    assert lines[1] == "inside"  # extracted, the tar itself not kept
    assert int(lines[2]) == len(bundle)  # COPY does not extract


class _Payload(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = b"served over http\n"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def http_server() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Payload)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.anyio
async def test_add_url_downloads_the_file(
    async_client: pydock.AsyncClient, built: Built, http_server: str
) -> None:
    df = Dockerfile().from_(BASE).add(f"{http_server}/payload.txt", "/payload.txt")
    image = await build(async_client, built, df, nocache=True)
    assert await output(async_client, image, "cat", "/payload.txt") == "served over http\n"


@pytest.mark.anyio
async def test_multi_stage_copy_from_with_build_args_and_target(
    async_client: pydock.AsyncClient, built: Built
) -> None:
    df = (
        Dockerfile()
        .arg("BASE_IMAGE", BASE)
        .from_("${BASE_IMAGE}", alias="builder")
        .arg("GREETING", "default")
        .run("echo $GREETING > /msg")
        .from_(BASE, alias="final")
        .copy("/msg", "/msg", from_="builder")
        .cmd(["cat", "/msg"])
    )
    image = await build(async_client, built, df, buildargs={"GREETING": "hello"})
    assert await output(async_client, image) == "hello\n"
    stage = await build(async_client, built, df, target="builder")
    assert stage.id != image.id
    assert await output(async_client, stage, "cat", "/msg") == "default\n"


@pytest.mark.anyio
async def test_build_events_are_typed_and_live(
    async_client: pydock.AsyncClient, built: Built, engine: Engine
) -> None:
    df = Dockerfile().from_(BASE).run("echo to-stdout; echo to-stderr >&2").env(A="b")
    events: list[pydock.BuildEvent] = []
    async with async_client.begin_build(df, tag=unique_tag(), nocache=True) as operation:
        async for event in operation:
            events.append(event)
        image = await operation.result()
    built.ids.append(image.id)
    steps = [e for e in events if e.kind == "step"]
    assert [e.instruction for e in steps] == [
        f"FROM {BASE}",
        "RUN echo to-stdout; echo to-stderr >&2",
        "ENV A=b",
    ]
    assert [(e.step, e.total_steps) for e in steps] == [(1, 3), (2, 3), (3, 3)]
    out = [e for e in events if e.kind == "output"]
    assert {e.message for e in out} >= {"to-stdout", "to-stderr"}
    assert all(e.instruction == "RUN echo to-stdout; echo to-stderr >&2" for e in out)
    if engine.name == "docker":  # Podman does not tell the two streams apart
        assert {e.message: e.stream for e in out}["to-stderr"] == "stderr"
    assert events[-1].kind in ("image", "tag", "status")
    assert [e.image_id for e in events if e.kind == "image"][-1] == image.id


@pytest.mark.anyio
async def test_failed_build_raises_with_step_and_log_and_leaves_no_container(
    async_client: pydock.AsyncClient,
) -> None:
    marker = f"oops-{uuid.uuid4().hex[:8]}"
    df = Dockerfile().from_(BASE).run("echo about to fail").run(f"echo {marker} >&2; exit 3")
    with pytest.raises(BuildError) as info:
        await async_client.build(df, tag=unique_tag(), nocache=True)
    assert info.value.step == f"RUN echo {marker} >&2; exit 3"
    assert "about to fail" in info.value.log
    assert marker in info.value.log
    assert "3" in str(info.value)
    # forcerm: the failed step's intermediate container is gone too
    assert await containers_mentioning(async_client, marker) == []


@pytest.mark.anyio
async def test_folder_context_with_dockerfile_path_and_dockerignore(
    async_client: pydock.AsyncClient, built: Built, tmp_path: Path
) -> None:
    (tmp_path / "docker").mkdir()
    (tmp_path / "docker" / "app.Dockerfile").write_text(
        f'FROM {BASE}\nCOPY . /ctx\nCMD ["sh", "-c", "cd /ctx && find . -type f | sort"]\n'
    )
    (tmp_path / ".dockerignore").write_text("# secrets stay home\n*.key\n!keep.key\nbuild/\n")
    (tmp_path / "a.key").write_text("secret")
    (tmp_path / "keep.key").write_text("public")
    (tmp_path / "build").mkdir()
    (tmp_path / "build" / "out.o").write_text("obj")
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "main.c").write_text("int main;")
    image = await build(async_client, built, tmp_path, dockerfile="docker/app.Dockerfile")
    assert (await output(async_client, image)).split() == [
        "./.dockerignore",
        "./docker/app.Dockerfile",
        "./keep.key",
        "./src/main.c",
    ]


@pytest.mark.anyio
async def test_in_memory_dockerfile_over_a_folder_and_gzip(
    async_client: pydock.AsyncClient, built: Built, tmp_path: Path
) -> None:
    (tmp_path / "Dockerfile").write_text(f'FROM {BASE}\nCMD ["echo", "folder\'s"]\n')
    (tmp_path / "data.txt").write_text("data\n")
    df = Dockerfile().from_(BASE).copy("data.txt", "/data.txt").cmd(["cat", "/data.txt"])
    image = await build(async_client, built, tmp_path, dockerfile=df, gzip=True)
    assert await output(async_client, image) == "data\n"


@pytest.mark.anyio
async def test_tar_stream_context(
    async_client: pydock.AsyncClient, built: Built, tmp_path: Path
) -> None:
    context = tar_bytes(
        {
            "Containerfile": f'FROM {BASE}\nCOPY msg /msg\nCMD ["cat", "/msg"]\n'.encode(),
            "msg": b"tar\n",
        }
    )
    image = await build(async_client, built, context, dockerfile="Containerfile")
    assert await output(async_client, image) == "tar\n"
    tar_file = tmp_path / "context.tar"
    tar_file.write_bytes(context)
    image = await build(async_client, built, tar_file, dockerfile="Containerfile")
    assert await output(async_client, image) == "tar\n"


@pytest.mark.anyio
async def test_tags_are_applied(async_client: pydock.AsyncClient, built: Built) -> None:
    first, second = unique_tag(), unique_tag()
    image = await async_client.build(Dockerfile().from_(BASE).env(T="1"), tag=[first, second])
    built.ids.append(image.id)
    assert {first, second} <= set(image.tags)
    assert (await async_client.images.get(second)).id == image.id


@pytest.mark.anyio
async def test_bad_arguments_fail_before_any_request(
    async_client: pydock.AsyncClient, tmp_path: Path
) -> None:
    with pytest.raises(FileNotFoundError, match="does not exist"):
        async_client.begin_build(tmp_path / "missing")
    with pytest.raises(FileNotFoundError, match="no Dockerfile"):
        async_client.begin_build(tmp_path)
    with pytest.raises(ValueError, match="inside the build context"):
        async_client.begin_build(Dockerfile().from_(BASE), files={"../escape": b"x"})
    with pytest.raises(InvalidReference):
        async_client.begin_build(Dockerfile().from_(BASE), tag="Bad Tag")
    with pytest.raises(InvalidReference, match="digest"):
        async_client.begin_build(Dockerfile().from_(BASE), tag="a/b@sha256:" + "0" * 64)


@pytest.mark.anyio
async def test_base_image_is_pulled_from_a_plain_http_loopback_registry(
    async_client: pydock.AsyncClient, built: Built, registry: RegistryServer
) -> None:
    """Docker's rule on both engines: a loopback registry may be plain HTTP."""
    base = f"{registry.host}/pydock-build-base/{uuid.uuid4().hex[:12]}:1"
    await async_client.images.tag(BASE, base)
    await async_client.images.push(base)
    await async_client.images.remove(base)
    assert not await async_client.images.exists(base)
    image = await build(async_client, built, Dockerfile().from_(base).env(PULLED="yes"))
    built.ids.append(base)
    assert "PULLED=yes" in image.config.env
    assert await async_client.images.exists(base)


@pytest.mark.anyio
async def test_healthcheck_shell_stopsignal_onbuild_and_labels(
    async_client: pydock.AsyncClient, built: Built, engine: Engine
) -> None:
    """Docker's image format keeps these on both engines (Podman is asked for it)."""
    from pydock._core.dockerfile import Run

    df = (
        Dockerfile()
        .from_(BASE)
        .shell(["/bin/sh", "-x", "-c"])
        .run("echo shell-form $- > /shell")
        .healthcheck(["true"], interval="5s", retries=2)
        .stopsignal("SIGQUIT")
        .onbuild(Run("echo child-$((6 * 7)) > /onbuild-proof"))
        .label(version="1.2", team="pydock")
    )
    image = await build(async_client, built, df)
    config = image.attrs.get("Config") or {}
    # Podman's Docker-compatible inspect leaves the health check out; its own API has it.
    native = await async_client._json("GET", f"/images/{image.id}/json", f"/images/{image.id}/json")
    health = config.get("Healthcheck") or native.get("Healthcheck") or {}
    assert health["Test"] == ["CMD", "true"]
    assert health["Retries"] == 2
    assert config["StopSignal"] == "SIGQUIT"
    if engine.name == "docker":  # Podman's inspect answers have no Shell or OnBuild
        assert config["Shell"] == ["/bin/sh", "-x", "-c"]
        assert config["OnBuild"] == ["RUN echo child-$((6 * 7)) > /onbuild-proof"]
    assert image.labels["version"] == "1.2"
    # RUN went through the SHELL: the shell's own flags (`$-`) include -x. The
    # proofs are files the commands wrote, read back from the images, never
    # build output (where Podman may interleave the `sh -x` trace with output).
    word, flags = (await output(async_client, image, "cat", "/shell")).split()
    assert (word, "x" in flags) == ("shell-form", True)
    # The trigger did not run in the image that declares it ...
    assert "onbuild-proof" not in await output(async_client, image, "ls", "/")
    child = await build(async_client, built, Dockerfile().from_(image.id).env(CHILD="1"))
    assert "CHILD=1" in child.config.env
    # ... but in the child's build: the file it wrote is in the child image.
    assert await output(async_client, child, "cat", "/onbuild-proof") == "child-42\n"


@pytest.mark.anyio
async def test_a_dockerfile_docker_refuses_is_refused_before_sending(
    async_client: pydock.AsyncClient, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """No FROM, a bare RUN, EXPOSE abc: a DockerfileParseError naming the line, no request."""
    await async_client.connect()
    caplog.set_level("INFO", logger="pydock.http")
    caplog.clear()
    refused = [
        (Dockerfile().arg("V", "1").run("echo hi"), 2, "RUN comes before FROM"),
        (Dockerfile(), 1, "the Dockerfile has no FROM instruction"),
    ]
    for model, line, reason in refused:
        with pytest.raises(pydock.DockerfileParseError, match=reason) as info:
            await async_client.build(model, tag=unique_tag())
        assert info.value.line == line
        # ... also as the dockerfile= of a folder context.
        with pytest.raises(pydock.DockerfileParseError, match=reason):
            await async_client.build(tmp_path, dockerfile=model, tag=unique_tag())
    for text, line, reason in [
        (f"FROM {BASE}\n\nRUN\n", 3, "RUN needs a command"),
        (f"FROM {BASE}\nEXPOSE abc\n", 2, "EXPOSE: 'abc' is not a port"),
        ('# no FROM\nCMD ["true"]\n', 2, "CMD comes before FROM"),
    ]:
        (tmp_path / "Dockerfile").write_text(text)
        with pytest.raises(pydock.DockerfileParseError, match=reason) as info:
            await async_client.build(tmp_path, tag=unique_tag())
        assert info.value.line == line
    assert [r.getMessage() for r in caplog.records if r.name == "pydock.http"] == []
