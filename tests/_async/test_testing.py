"""pydock.testing against the real engines: waits, crashes, timeouts, cleanup, stale sessions."""

from __future__ import annotations

import contextlib
import re
import sys
import uuid

import anyio  # unasync: remove
import httpx
import pytest

import pydock
from pydock._async._backend import monotonic, run_process
from pydock._async._client import AsyncClient
from pydock._async._testing import AsyncSandbox, remove_stale, run_container, wait_for
from pydock._core.containers import encode_filters
from pydock.testing import (
    ContainerExited,
    ContainerUnhealthy,
    WaitError,
    WaitTimeout,
    any_of,
    for_exec,
    for_healthy,
    for_http,
    for_log,
    for_port,
    host_address,
    host_port,
    http_url,
)
from pydock.testing._core import SESSION_LABEL, current_session
from tests.conftest import Engine

SERVE = (
    "mkdir -p /www && echo 'hello from pydock' > /www/index.html && sleep 0.3 "
    "&& echo 'serving on 8080' >&2 && exec httpd -f -p 8080 -h /www"
)


# The trio runs of these would exercise no code the asyncio runs do not (the I/O is
# the same anyio calls): trio runs the web server, health and cancellation tests.
ASYNCIO_ONLY = pytest.mark.parametrize("anyio_backend", ["asyncio"])  # unasync: remove


def mark() -> dict[str, str]:
    """A label unique to one test, to find what it left behind."""
    return {"pydock.test.h1": uuid.uuid4().hex[:12]}


async def leftovers(client: AsyncClient, labels: dict[str, str]) -> list[str]:
    ((key, value),) = labels.items()
    found = await client.containers.list(all=True, filters={"label": f"{key}={value}"})
    return [c.name for c in found]


@pytest.mark.anyio
async def test_web_server_is_ready_then_removed(async_client: AsyncClient, engine: Engine) -> None:
    labels = mark()
    async with run_container(
        engine.test_image,
        command=["sh", "-c", SERVE],
        ports=[8080],
        client=async_client,
        labels=labels,
        wait=[for_port(8080), for_http("/", port=8080, body="hello"), for_log("serving")],
    ) as web:
        assert web.status == "running"
        assert web.labels[SESSION_LABEL] == current_session().id
        # Published on loopback only, on both engines.
        assert [b.host_ip for b in web.ports["8080/tcp"]] == ["127.0.0.1"]
        assert host_address(web, 8080) == "127.0.0.1"
        assert http_url(web, 8080) == f"http://127.0.0.1:{host_port(web, 8080)}/"
        async with httpx.AsyncClient(trust_env=False) as http:
            response = await http.get(http_url(web, 8080))
        assert response.text == "hello from pydock\n"
    assert await leftovers(async_client, labels) == []


@pytest.mark.anyio
@ASYNCIO_ONLY  # unasync: remove
async def test_a_crash_fails_the_wait_at_once_with_its_logs(
    async_client: AsyncClient, engine: Engine
) -> None:
    labels = mark()
    started = monotonic()
    with pytest.raises(ContainerExited) as caught:
        async with run_container(
            engine.test_image,
            command=["sh", "-c", "echo 'starting up'; echo 'config is broken' >&2; exit 3"],
            ports=[8080],
            client=async_client,
            labels=labels,
            wait=for_port(8080, timeout=60),
        ):
            pytest.fail("the block must not run")
    assert monotonic() - started < 10  # not the 60 s timeout
    error = caught.value
    assert error.exit_code == 3
    assert "exited with code 3" in str(error)
    assert "config is broken" in str(error)
    assert "starting up" in error.logs
    assert await leftovers(async_client, labels) == []


@pytest.mark.anyio
@ASYNCIO_ONLY  # unasync: remove
async def test_a_timeout_reports_what_was_pending_the_state_and_logs(
    async_client: AsyncClient, engine: Engine
) -> None:
    labels = mark()
    with pytest.raises(WaitTimeout) as caught:
        async with run_container(
            engine.test_image,
            command=["sh", "-c", "echo 'warming up'; sleep 60"],
            client=async_client,
            labels=labels,
            wait=[for_log("warming"), for_log("ready", timeout=1)],
        ):
            pytest.fail("the block must not run")
    error = caught.value
    assert isinstance(error, TimeoutError)
    assert error.pending == ["log text 'ready': seen 0 of 1 times"]
    assert "state: running" in str(error)
    assert "warming up" in str(error)
    assert await leftovers(async_client, labels) == []


@pytest.mark.anyio
async def test_exec_health_regex_and_any_of(async_client: AsyncClient, engine: Engine) -> None:
    labels = mark()
    async with run_container(
        engine.test_image,
        command=["sh", "-c", "sleep 0.5; touch /tmp/ok; echo 'up after 1 try' >&2; sleep 60"],
        client=async_client,
        labels=labels,
        healthcheck=pydock.Healthcheck("test -f /tmp/ok", interval=0.3, retries=20),
        wait=[
            for_exec("test -f /tmp/ok"),
            for_healthy(timeout=30),
            for_log(re.compile(r"after \d+ try"), stream="stderr"),
            any_of(for_log("never"), for_exec(["true"])),
        ],
    ) as ready:
        assert ready.state is not None
        assert ready.state.health == "healthy"
    assert await leftovers(async_client, labels) == []


@pytest.mark.anyio
@ASYNCIO_ONLY  # unasync: remove
async def test_log_waits_look_at_the_stream_asked_for(
    async_client: AsyncClient, engine: Engine
) -> None:
    with pytest.raises(WaitTimeout, match="on stdout"):
        async with run_container(
            engine.test_image,
            command=["sh", "-c", "echo 'only on stderr' >&2; sleep 60"],
            client=async_client,
            wait=for_log("only on stderr", stream="stdout", timeout=1),
        ):
            pass


@pytest.mark.anyio
@ASYNCIO_ONLY  # unasync: remove
async def test_unhealthy_stops_the_wait(async_client: AsyncClient, engine: Engine) -> None:
    started = monotonic()
    with pytest.raises(ContainerUnhealthy, match="is unhealthy"):
        async with run_container(
            engine.test_image,
            command=["sleep", "60"],
            client=async_client,
            healthcheck=pydock.Healthcheck("echo 'db down'; false", interval=0.2, retries=1),
            wait=for_healthy(timeout=60),
        ):
            pass
    assert monotonic() - started < 15


@pytest.mark.anyio
@ASYNCIO_ONLY  # unasync: remove
async def test_health_wait_without_a_check_is_an_error(
    async_client: AsyncClient, engine: Engine
) -> None:
    with pytest.raises(WaitError, match="has no health check"):
        async with run_container(
            engine.test_image, command=["sleep", "60"], client=async_client, wait=for_healthy()
        ):
            pass


@pytest.mark.anyio
@ASYNCIO_ONLY  # unasync: remove
async def test_errors_and_interrupts_in_the_block_still_remove(
    async_client: AsyncClient, engine: Engine
) -> None:
    labels = mark()
    with pytest.raises(ValueError, match="test failed"):
        async with run_container(
            engine.test_image, command=["sleep", "60"], client=async_client, labels=labels
        ):
            raise ValueError("test failed")
    with pytest.raises(KeyboardInterrupt):
        async with run_container(
            engine.test_image, command=["sleep", "60"], client=async_client, labels=labels
        ):
            raise KeyboardInterrupt
    assert await leftovers(async_client, labels) == []


@pytest.mark.anyio  # unasync: remove
async def test_cancellation(async_client: AsyncClient, engine: Engine) -> None:  # unasync: remove
    labels = mark()  # unasync: remove
    for delay in (0.0, 0.03, 0.06, 0.1, 0.15, 0.25, 0.4):  # unasync: remove
        with anyio.move_on_after(delay):  # unasync: remove
            async with run_container(  # unasync: remove
                engine.test_image,  # unasync: remove
                command=["sleep", "60"],  # unasync: remove
                client=async_client,  # unasync: remove
                labels=labels,  # unasync: remove
                wait=for_log("never"),  # unasync: remove
            ):  # unasync: remove
                pytest.fail("the wait cannot succeed")  # unasync: remove
    assert await leftovers(async_client, labels) == []  # unasync: remove


@pytest.mark.anyio
@ASYNCIO_ONLY  # unasync: remove
async def test_sandbox_networks_and_volumes(async_client: AsyncClient, engine: Engine) -> None:
    labels = mark()
    async with AsyncSandbox(async_client) as sandbox:
        network = await sandbox.network(labels=labels)
        volume = await sandbox.volume(labels=labels)
        writer = await sandbox(
            engine.test_image,
            command=["sh", "-c", "echo shared > /data/file; echo written; sleep 60"],
            network_mode=network.name,
            volumes=[f"{volume.name}:/data"],
            labels=labels,
            wait=for_log("written"),
        )
        assert network.name in writer.attrs["NetworkSettings"]["Networks"]
        reader = await writer.exec(["cat", "/data/file"])
        assert reader.stdout == b"shared\n"
    assert await leftovers(async_client, labels) == []
    ((key, value),) = labels.items()
    filters = encode_filters({"label": [f"{key}={value}"]})
    assert await async_client._json("GET", "/networks", params={"filters": filters}) == []
    volumes = await async_client._json("GET", "/volumes", params={"filters": filters})
    assert not volumes.get("Volumes")


@pytest.mark.anyio
@ASYNCIO_ONLY  # unasync: remove
async def test_wait_for_a_container_started_elsewhere(
    async_client: AsyncClient, engine: Engine
) -> None:
    container = await async_client.containers.run(
        engine.test_image, ["sh", "-c", "sleep 0.3; echo done"], detach=True
    )
    try:
        # A job that prints and exits is ready once its line is there.
        finished = await wait_for(container, for_log("done"), timeout=30)
        assert finished.id == container.id
        assert await wait_for(container, None) is not None
    finally:
        await container.remove(force=True)


@pytest.mark.anyio
@ASYNCIO_ONLY  # unasync: remove
async def test_remove_stale_spares_live_runs_and_foreign_hosts(
    async_client: AsyncClient, engine: Engine
) -> None:
    labels = mark()
    here = current_session()
    _, out, _ = await run_process([sys.executable, "-c", "import os; print(os.getpid())"])
    dead = {**here.labels(), SESSION_LABEL: "dead-run", "pydock.testing.pid": out.decode().strip()}
    live = {**here.labels(), SESSION_LABEL: "live-run"}  # this very process, another session
    foreign = {**dead, SESSION_LABEL: "elsewhere", "pydock.testing.host": "another-machine"}
    made = {}
    for name, extra in (("dead", dead), ("live", live), ("foreign", foreign)):
        made[name] = await async_client.containers.run(
            engine.test_image, ["sleep", "60"], detach=True, labels={**extra, **labels}
        )
    try:
        await remove_stale(async_client)
        # (Another process's sweep may have come first: what is gone is what matters.)
        assert not await async_client.containers.exists(made["dead"].id)
        remaining = await leftovers(async_client, labels)
        assert sorted(remaining) == sorted([made["live"].name, made["foreign"].name])
    finally:
        for container in made.values():
            with contextlib.suppress(pydock.errors.NotFound):
                await container.remove(force=True)
