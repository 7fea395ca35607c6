"""Containers against the real engines: run, ports, restart policies, lifecycle, list, prune."""

from __future__ import annotations

import contextlib
import socket
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

import pydock
from pydock._async._backend import monotonic, sleep
from pydock._async._containers import AsyncContainer
from pydock._core.containers import Healthcheck, RestartPolicy
from pydock.errors import ContainerError, ContainerNotFound, ImageNotFound, Timeout
from tests.conftest import Engine, RegistryServer


def unique(prefix: str = "pydock-test") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


class Tracker:
    """Names of containers and volumes a test made, removed when it ends."""

    def __init__(self) -> None:
        self.names: list[str] = []
        self.volumes: list[str] = []
        self.label = unique("run")

    def name(self) -> str:
        name = unique()
        self.names.append(name)
        return name


@pytest.fixture
async def tracker(async_client: pydock.AsyncClient) -> AsyncIterator[Tracker]:
    made = Tracker()
    yield made
    for name in made.names:
        with contextlib.suppress(ContainerNotFound):
            await async_client._request(
                "DELETE",
                f"/containers/{name}",
                params={"force": True, "v": True},
                resource="container",
            )
    for volume in made.volumes:
        await async_client._request("DELETE", f"/volumes/{volume}", params={"force": True})


async def wait_for(predicate: object, timeout: float = 20.0) -> None:
    """Poll an async predicate until it is true."""
    deadline = monotonic() + timeout
    while True:
        if await predicate():  # type: ignore[operator]
            return
        if monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await sleep(0.1)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# --------------------------------------------------------------------------- run


@pytest.mark.anyio
async def test_run_keeps_stdout_and_stderr_apart_and_rm_removes(
    async_client: pydock.AsyncClient, engine: Engine, tracker: Tracker
) -> None:
    name = tracker.name()
    result = await async_client.containers.run(
        engine.test_image,
        ["sh", "-c", "echo out; echo err >&2; echo more"],
        name=name,
        remove=True,
    )
    assert result.exit_code == 0
    assert result.stdout == b"out\nmore\n"
    assert result.stderr == b"err\n"
    assert not await async_client.containers.exists(name)


@pytest.mark.anyio
async def test_run_nonzero_exit_raises_container_error(
    async_client: pydock.AsyncClient, engine: Engine, tracker: Tracker
) -> None:
    with pytest.raises(ContainerError) as caught:
        await async_client.containers.run(
            engine.test_image, "sh -c 'echo boom >&2; exit 3'", name=tracker.name(), remove=True
        )
    assert caught.value.exit_code == 3
    assert caught.value.stderr == b"boom\n"
    result = await async_client.containers.run(
        engine.test_image, ["sh", "-c", "exit 5"], check=False, name=tracker.name(), remove=True
    )
    assert result.exit_code == 5


@pytest.mark.anyio
async def test_run_tty_merges_output(
    async_client: pydock.AsyncClient, engine: Engine, tracker: Tracker
) -> None:
    result = await async_client.containers.run(
        engine.test_image,
        ["sh", "-c", "echo out; echo err >&2"],
        tty=True,
        name=tracker.name(),
        remove=True,
    )
    assert result.stdout.replace(b"\r\n", b"\n") == b"out\nerr\n"
    assert result.stderr == b""


@pytest.mark.anyio
async def test_run_settings_reach_the_container(
    async_client: pydock.AsyncClient, engine: Engine, tracker: Tracker, tmp_path: Path
) -> None:
    (tmp_path / "hello.txt").write_text("from the host\n")
    volume = unique("vol")
    tracker.volumes.append(volume)
    script = (
        "echo $GREETING; id -u; pwd; hostname; cat /host/hello.txt; "
        "echo kept > /data/file; cat /data/file"
    )
    result = await async_client.containers.run(
        engine.test_image,
        ["-c", script],
        entrypoint=["sh"],
        name=tracker.name(),
        environment={"GREETING": "hi there"},
        user="0",
        workdir="/tmp",
        hostname="pydockhost",
        volumes=[f"{tmp_path}:/host:ro", f"{volume}:/data"],
        labels={"pydock.test": tracker.label},
        mem_limit="64m",
        nano_cpus=500_000_000,
        network_mode="none",
        remove=True,
    )
    assert result.stdout.decode().splitlines() == [
        "hi there",
        "0",
        "/tmp",
        "pydockhost",
        "from the host",
        "kept",
    ]
    # The named volume outlives the container.
    again = await async_client.containers.run(
        engine.test_image,
        ["cat", "/data/file"],
        volumes={volume: {"bind": "/data", "mode": "ro"}},
        name=tracker.name(),
        remove=True,
    )
    assert again.stdout == b"kept\n"


@pytest.mark.anyio
async def test_create_records_limits_labels_and_healthcheck(
    async_client: pydock.AsyncClient, engine: Engine, tracker: Tracker
) -> None:
    container = await async_client.containers.create(
        engine.test_image,
        ["sleep", "30"],
        name=tracker.name(),
        labels={"pydock.test": tracker.label},
        mem_limit="64m",
        cpus=0.5,
        restart=RestartPolicy.unless_stopped(),
        healthcheck=Healthcheck("true", interval=1, timeout=2, retries=1),
    )
    assert isinstance(container, AsyncContainer)
    assert container.status == "created"
    assert container.labels["pydock.test"] == tracker.label
    assert container.restart_policy == RestartPolicy.unless_stopped()
    host = container.attrs["HostConfig"]
    assert host["Memory"] == 64 * 1024 * 1024
    assert host["NanoCpus"] == 500_000_000
    assert container.attrs["Config"]["Healthcheck"]["Test"] == ["CMD-SHELL", "true"]
    await container.start()

    async def healthy() -> bool:
        state = (await container.reload()).state
        return state is not None and state.health == "healthy"

    if engine.name == "docker":
        await wait_for(healthy, timeout=20)
    await container.remove(force=True)
    assert not await async_client.containers.exists(container.id)


@pytest.mark.anyio
async def test_missing_image_with_pull_never(
    async_client: pydock.AsyncClient, tracker: Tracker
) -> None:
    with pytest.raises(ImageNotFound):
        await async_client.containers.run(
            "pydock-test/does-not-exist:1", ["true"], pull="never", name=tracker.name()
        )


@pytest.mark.anyio
async def test_missing_image_is_pulled_and_always_pulls_again(
    async_client: pydock.AsyncClient,
    engine: Engine,
    registry: RegistryServer,
    tracker: Tracker,
) -> None:
    ref = f"{registry.host}/pydock-it/{uuid.uuid4().hex[:12]}:1"
    await async_client.images.tag(engine.test_image, ref)
    await async_client.images.push(ref)
    await async_client.images.remove(ref)
    assert not await async_client.images.exists(ref)
    try:
        result = await async_client.containers.run(
            ref, ["echo", "pulled"], remove=True, name=tracker.name()
        )
        assert result.stdout == b"pulled\n"
        assert await async_client.images.exists(ref)
        again = await async_client.containers.run(
            ref, ["echo", "again"], remove=True, pull="always", name=tracker.name()
        )
        assert again.stdout == b"again\n"
    finally:
        await async_client.images.remove(ref, force=True)


# --------------------------------------------------------------------------- ports


async def fetch(port: int) -> str:
    deadline = monotonic() + 15
    async with httpx.AsyncClient() as http:
        while True:
            try:
                response = await http.get(f"http://127.0.0.1:{port}/index.html", timeout=5)
                return response.text
            except httpx.TransportError:
                if monotonic() > deadline:
                    raise
                await sleep(0.2)


@pytest.mark.anyio
async def test_published_ports_serve_http(
    async_client: pydock.AsyncClient, engine: Engine, tracker: Tracker
) -> None:
    fixed = free_port()
    container = await async_client.containers.run(
        engine.test_image,
        ["httpd", "-f", "-p", "80", "-h", "/var/www"],
        detach=True,
        name=tracker.name(),
        ports={"80/tcp": [("127.0.0.1", None), ("127.0.0.1", fixed)]},
    )
    assert isinstance(container, AsyncContainer)
    assert container.status == "running"
    assert container.host_port(80) in {b.host_port for b in container.ports["80/tcp"]}
    ports = {b.host_port for b in container.ports["80/tcp"]}
    assert len(ports) == 2
    assert fixed in ports
    (any_port,) = ports - {fixed}
    assert any_port is not None
    assert all(b.host_ip == "127.0.0.1" for b in container.ports["80/tcp"])
    first = await fetch(any_port)
    assert first
    assert await fetch(fixed) == first
    listed = await async_client.containers.list(filters={"name": container.name})
    assert [c.id for c in listed] == [container.id]
    assert {b.host_port for b in listed[0].ports["80/tcp"]} == {any_port, fixed}


# --------------------------------------------------------------------------- restart


@pytest.mark.anyio
async def test_on_failure_restarts_exactly_max_retries_times(
    async_client: pydock.AsyncClient, engine: Engine, tracker: Tracker
) -> None:
    container = await async_client.containers.run(
        engine.test_image, ["sh", "-c", "exit 1"], detach=True, restart="on-failure:2",
        name=tracker.name(),
    )  # fmt: skip
    assert isinstance(container, AsyncContainer)

    async def gave_up() -> bool:
        snap = await container.reload()
        return snap.status == "exited" and snap.restart_count == 2

    await wait_for(gave_up, timeout=30)
    snap = await container.reload()
    assert snap.restart_policy == RestartPolicy.on_failure(2)
    assert snap.state is not None
    assert snap.state.exit_code == 1


@pytest.mark.anyio
async def test_detached_remove_is_auto_remove(
    async_client: pydock.AsyncClient, engine: Engine, tracker: Tracker
) -> None:
    name = tracker.name()
    container = await async_client.containers.run(
        engine.test_image, ["sleep", "1"], detach=True, remove=True, name=name
    )
    assert isinstance(container, AsyncContainer)
    assert container.attrs["HostConfig"]["AutoRemove"] is True

    async def gone() -> bool:
        return not await async_client.containers.exists(name)

    await wait_for(gone, timeout=20)


# --------------------------------------------------------------------------- lifecycle


@pytest.mark.anyio
async def test_lifecycle(
    async_client: pydock.AsyncClient, engine: Engine, tracker: Tracker
) -> None:
    name = tracker.name()
    container = await async_client.containers.run(
        engine.test_image, ["sleep", "300"], detach=True, name=name
    )
    assert isinstance(container, AsyncContainer)
    with pytest.raises(Timeout):
        await container.wait(timeout=0.5)
    await container.pause()
    assert (await container.reload()).status == "paused"
    await container.unpause()
    assert (await container.reload()).status == "running"
    new_name = tracker.name()
    await container.rename(new_name)
    assert (await async_client.containers.get(new_name)).id == container.id
    await container.restart(timeout=0)
    assert (await container.reload()).status == "running"
    await container.kill("SIGTERM")  # sh's sleep as pid 1 ignores SIGTERM: still running
    await container.stop(timeout=0)
    assert await container.wait(timeout=10) == 137
    snap = await container.reload()
    assert snap.status == "exited"
    assert snap.state is not None
    assert not snap.state.running
    assert snap.state.finished_at
    await container.start()
    await container.kill()
    assert await container.wait(timeout=10) == 137
    await container.remove()
    with pytest.raises(ContainerNotFound):
        await async_client.containers.get(container.id)
    with pytest.raises(ContainerNotFound):
        await container.reload()


@pytest.mark.anyio
async def test_list_filters_and_prune(
    async_client: pydock.AsyncClient, engine: Engine, tracker: Tracker
) -> None:
    label = {"pydock.test": tracker.label}
    running = await async_client.containers.run(
        engine.test_image, ["sleep", "300"], detach=True, name=tracker.name(), labels=label
    )
    created = await async_client.containers.create(
        engine.test_image, ["true"], name=tracker.name(), labels=label
    )
    done = await async_client.containers.run(
        engine.test_image, ["true"], detach=True, name=tracker.name(), labels=label
    )
    assert isinstance(running, AsyncContainer)
    assert isinstance(done, AsyncContainer)
    assert await done.wait(timeout=20) == 0

    by_label = await async_client.containers.list(filters={"label": label})
    assert {c.id for c in by_label} == {running.id}
    everything = await async_client.containers.list(all=True, filters={"label": label})
    assert {c.id for c in everything} == {running.id, created.id, done.id}
    exited = await async_client.containers.list(
        all=True, filters={"label": label, "status": "exited"}
    )
    assert [c.id for c in exited] == [done.id]
    named = await async_client.containers.list(all=True, filters={"name": created.name})
    assert [c.id for c in named] == [created.id]
    ancestors = await async_client.containers.list(
        all=True, filters={"label": label, "ancestor": engine.test_image}
    )
    assert {c.id for c in ancestors} == {running.id, created.id, done.id}
    entry = next(c for c in everything if c.id == running.id)
    assert entry.name == running.name
    assert entry.status == "running"
    assert entry.labels["pydock.test"] == tracker.label
    assert entry.created is not None
    assert entry.image.endswith("pydock-test/busybox:1")

    report = await async_client.containers.prune(filters={"label": f"pydock.test={tracker.label}"})
    assert done.id in report.deleted
    assert running.id not in report.deleted
    assert not await async_client.containers.exists(done.id)
    assert await async_client.containers.exists(running.id)
