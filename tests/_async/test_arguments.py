"""Bad arguments fail at once, naming the parameter, and send nothing (issue 13, defect 11).

Against the real engines: every refused call is checked to have sent no
request (pydock logs one ``pydock.http`` INFO line per request), and the
container it was about is checked to be untouched.
"""

from __future__ import annotations

import contextlib
import logging
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest

import pydock
from pydock._async._containers import AsyncContainer
from pydock.errors import ContainerNotFound, InvalidConfiguration, InvalidReference
from tests.conftest import Engine


def unique() -> str:
    return f"pydock-test-{uuid.uuid4().hex[:10]}"


@pytest.fixture
async def container(
    async_client: pydock.AsyncClient, engine: Engine
) -> AsyncIterator[AsyncContainer]:
    made = await async_client.containers.run(
        engine.test_image, ["sleep", "600"], detach=True, name=unique()
    )
    assert isinstance(made, AsyncContainer)
    try:
        yield made
    finally:
        with contextlib.suppress(ContainerNotFound):
            await made.remove(force=True)


@pytest.fixture
def requests(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    """The log of the requests pydock sends from now on (one INFO record each)."""
    caplog.set_level(logging.INFO, logger="pydock.http")
    caplog.clear()
    return caplog


def sent(log: pytest.LogCaptureFixture) -> list[str]:
    """The request lines logged so far."""
    return [r.getMessage() for r in log.records if r.name == "pydock.http" and r.levelno == 20]


@pytest.mark.anyio
async def test_stop_restart_wait_and_kill_refuse_bad_arguments_without_a_request(
    container: AsyncContainer, requests: pytest.LogCaptureFixture
) -> None:
    number = r"timeout must be a finite number of seconds >= 0"
    with pytest.raises(InvalidConfiguration, match=rf"^{number}, not -5$"):
        await container.stop(timeout=-5)
    with pytest.raises(InvalidConfiguration, match=rf"^{number}, not -1$"):
        await container.restart(timeout=-1)
    with pytest.raises(InvalidConfiguration, match=rf"^{number}, not -1$"):
        await container.wait(timeout=-1)
    with pytest.raises(InvalidConfiguration, match=r"^timeout must be a number of seconds"):
        await container.stop(timeout="5")  # type: ignore[arg-type]
    with pytest.raises(InvalidConfiguration, match=r"^condition must be one of"):
        await container.wait(condition="stopped")
    with pytest.raises(InvalidConfiguration, match=r"^signal must be a signal name"):
        await container.kill(signal=-1)
    assert sent(requests) == []
    # Nothing reached the engine: the container runs on, and it still stops normally.
    assert (await container.reload()).status == "running"
    assert any("/json" in line for line in sent(requests))  # the log does show requests
    await container.stop(timeout=0)
    assert (await container.reload()).status == "exited"


@pytest.mark.anyio
async def test_run_refuses_bad_settings_without_a_request(
    async_client: pydock.AsyncClient, engine: Engine, requests: pytest.LogCaptureFixture
) -> None:
    await async_client.connect()
    requests.clear()
    name = unique()
    bad: list[tuple[dict[str, Any], type[Exception], str]] = [
        ({"environment": {"A=B": 1}}, InvalidConfiguration, r"^environment: 'A=B' is not"),
        ({"environment": {"": "x"}}, InvalidConfiguration, r"^environment: '' is not"),
        ({"environment": {"A": ["x"]}}, InvalidConfiguration, r"^environment: the value of 'A'"),
        ({"ports": {80: ("999.1.1.1", 8080)}}, InvalidConfiguration, r"^ports: '999\.1\.1\.1'"),
    ]
    for options, error, message in bad:
        with pytest.raises(error, match=message):
            await async_client.containers.run(
                engine.test_image, ["true"], detach=True, name=name, **options
            )
    with pytest.raises(InvalidReference, match=r"port 99999 is out of range 1-65535"):
        await async_client.containers.run("localhost:99999/x", ["true"], name=name)
    with pytest.raises(InvalidReference, match=r"port 99999 is out of range 1-65535"):
        await async_client.images.pull("localhost:99999/x")
    assert sent(requests) == []
    assert not await async_client.containers.exists(name)


@pytest.mark.anyio
async def test_exec_refuses_a_bad_environment_without_a_request(
    container: AsyncContainer, requests: pytest.LogCaptureFixture
) -> None:
    with pytest.raises(InvalidConfiguration, match=r"^environment: 'A=B' is not a variable"):
        await container.exec(["true"], environment={"A=B": "1"})
    assert sent(requests) == []
    result = await container.exec(["sh", "-c", "echo $A"], environment={"A": 1})
    assert result.stdout == b"1\n"
