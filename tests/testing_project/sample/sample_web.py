"""A project's tests written against pydock's pytest plugin (fixtures only, no conftest).

Each test appends what it saw to ``$PYDOCK_SAMPLE_OUT/<pid>.jsonl`` so the
driver can check sessions, workers and cleanup after the run.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from pydock import AsyncClient, AsyncContainer, Client, Container
from pydock.testing import (
    SESSION_LABEL,
    AsyncSandbox,
    Sandbox,
    for_http,
    for_log,
    for_port,
    http_url,
    remove_stale,
)

IMAGE = os.environ.get("PYDOCK_TEST_IMAGE", "pydock-test/busybox:1")
SERVE = (
    "mkdir -p /www && echo 'hello from {scope}' > /www/index.html "
    "&& echo serving && exec httpd -f -p 8080 -h /www"
)


def serve(scope: str) -> list[str]:
    return ["sh", "-c", SERVE.format(scope=scope)]


def record(test: str, container: Container | AsyncContainer, backend: str) -> None:
    out = Path(os.environ["PYDOCK_SAMPLE_OUT"]) / f"{os.getpid()}.jsonl"
    entry = {
        "test": test,
        "container": container.id,
        "session": container.labels[SESSION_LABEL],
        "worker": os.environ.get("PYTEST_XDIST_WORKER", ""),
        "pid": os.getpid(),
        "backend": backend,
    }
    with out.open("a") as f:
        f.write(json.dumps(entry) + "\n")


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="module")
def web(pydock_container_module: Sandbox) -> Container:
    return pydock_container_module(
        IMAGE,
        command=serve("module"),
        ports=[8080],
        wait=[for_port(8080), for_http("/", port=8080, body="hello")],
    )


@pytest.fixture(scope="session")
def shared(pydock_container_session: Sandbox) -> Container:
    return pydock_container_session(
        IMAGE, command=serve("session"), ports=[8080], wait=for_log("serving")
    )


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client(trust_env=False) as client:
        yield client


def test_module_container_serves(web: Container, http: httpx.Client, pydock_client: Client) -> None:
    assert http.get(http_url(web, 8080)).text == "hello from module\n"
    record("module", web, pydock_client.backend)


def test_module_container_is_shared(web: Container, pydock_client: Client) -> None:
    assert pydock_client.containers.get(web.id).status == "running"
    record("module-again", web, pydock_client.backend)


def test_session_container(shared: Container, http: httpx.Client, pydock_client: Client) -> None:
    assert http.get(http_url(shared, 8080)).text == "hello from session\n"
    record("session", shared, pydock_client.backend)


def test_function_container(pydock_container: Sandbox, pydock_client: Client) -> None:
    job = pydock_container(
        IMAGE, command=["sh", "-c", "echo ready; sleep 30"], wait=for_log("ready")
    )
    assert job.logs() == b"ready\n"
    record("function", job, pydock_client.backend)


def test_a_sweep_spares_live_runs(web: Container, shared: Container, pydock_client: Client) -> None:
    # Other workers of this run hold containers right now: none may go.
    remove_stale(pydock_client)
    for container in (web, shared):
        assert pydock_client.containers.get(container.id).status == "running"


@pytest.mark.anyio
async def test_async_container(
    pydock_async_container: AsyncSandbox, pydock_async_client: AsyncClient
) -> None:
    web = await pydock_async_container(
        IMAGE, command=serve("async"), ports=[8080], wait=for_http("/", body="hello")
    )
    async with httpx.AsyncClient(trust_env=False) as http:
        response = await http.get(http_url(web, 8080))
    assert response.text == "hello from async\n"
    record("async", web, pydock_async_client.backend)
