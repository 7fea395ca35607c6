"""The same fault raises the same error on both engines; names never leave their path segment.

Against the real Docker and Podman: a name conflict, a bad image reference, a
missing command and a wrong registry password (issue 13, defect 12); names and
ids that are not container names (defect 8).
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

import pydock
from pydock.errors import (
    APIError,
    BadRequest,
    Conflict,
    ContainerNotFound,
    ProtocolError,
    PullError,
    PullUnauthorized,
    PushError,
    PushUnauthorized,
    Unauthorized,
)
from tests.conftest import Engine, RegistryServer
from tests.support.hostile_engine import HostileEngine


def unique(prefix: str = "pydock-err") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


@pytest.fixture
async def names(async_client: pydock.AsyncClient) -> AsyncIterator[list[str]]:
    made: list[str] = []
    yield made
    for name in made:
        with contextlib.suppress(ContainerNotFound):
            await async_client._request(
                "DELETE", f"/containers/{name}", params={"force": True}, resource="container"
            )


# --------------------------------------------------------------------------- defect 12


@pytest.mark.anyio
async def test_name_conflict_is_conflict_on_both_engines(
    async_client: pydock.AsyncClient, engine: Engine, names: list[str]
) -> None:
    name = unique()
    names.append(name)
    await async_client.containers.create(engine.test_image, ["true"], name=name)
    with pytest.raises(Conflict) as caught:
        await async_client.containers.create(engine.test_image, ["true"], name=name)
    assert name in caught.value.message


@pytest.mark.anyio
async def test_bad_reference_is_bad_request_on_both_engines(
    async_client: pydock.AsyncClient,
) -> None:
    # pydock itself refuses the reference before any request...
    with pytest.raises(pydock.errors.InvalidReference):
        await async_client.containers.run("UPPER/bad::ref", ["true"], pull="never")
    # ...and when one reaches the engine anyway, both engines' refusals map alike.
    with pytest.raises(BadRequest) as caught:
        await async_client._json(
            "POST", "/containers/create", json={"Image": "UPPER/bad::ref", "Cmd": ["true"]}
        )
    assert "reference format" in caught.value.message


@pytest.mark.anyio
async def test_missing_command_is_bad_request_on_both_engines(
    async_client: pydock.AsyncClient, engine: Engine, names: list[str]
) -> None:
    name = unique()
    names.append(name)
    with pytest.raises(BadRequest) as caught:
        await async_client.containers.run(engine.test_image, ["/no-such-command"], name=name)
    assert "/no-such-command" in caught.value.message


@pytest.mark.anyio
async def test_state_conflict_is_conflict_on_both_engines(
    async_client: pydock.AsyncClient, engine: Engine, names: list[str]
) -> None:
    name = unique()
    names.append(name)
    container = await async_client.containers.create(engine.test_image, ["true"], name=name)
    with pytest.raises(Conflict):
        await container.pause()  # not running


@pytest.mark.anyio
async def test_wrong_password_on_pull_is_pull_error_and_unauthorized(
    async_client: pydock.AsyncClient, auth_registry: RegistryServer
) -> None:
    assert auth_registry.username is not None
    ref = f"{auth_registry.host}/pydock/{unique()}:1"
    with pytest.raises(PullUnauthorized) as caught:
        await async_client.images.pull(ref, auth=(auth_registry.username, "wrong-password"))
    assert isinstance(caught.value, PullError)
    assert isinstance(caught.value, Unauthorized)
    assert isinstance(caught.value, APIError)
    assert caught.value.status_code == 401
    assert "wrong-password" not in str(caught.value)


@pytest.mark.anyio
async def test_wrong_password_on_push_is_push_error_and_unauthorized(
    async_client: pydock.AsyncClient, engine: Engine, auth_registry: RegistryServer
) -> None:
    assert auth_registry.username is not None
    ref = f"{auth_registry.host}/pydock/{unique()}:1"
    await async_client.images.tag(engine.test_image, ref)
    try:
        with pytest.raises(PushUnauthorized) as caught:
            await async_client.images.push(ref, auth=(auth_registry.username, "wrong-password"))
    finally:
        await async_client.images.remove(ref)
    assert isinstance(caught.value, PushError)
    assert isinstance(caught.value, Unauthorized)
    assert caught.value.status_code == 401
    assert "wrong-password" not in str(caught.value)


# --------------------------------------------------------------------------- defect 8

BAD_NAMES = ["/x", "x/", "../containers/x", "x?y=1", "x#y", "..", ".", "x/../y", "%2e%2e", "a b"]


@pytest.mark.anyio
@pytest.mark.parametrize("bad", BAD_NAMES)
async def test_names_that_are_no_container_are_not_found(
    async_client: pydock.AsyncClient, bad: str
) -> None:
    with pytest.raises(ContainerNotFound):
        await async_client.containers.get(bad)
    assert await async_client.containers.exists(bad) is False


@pytest.mark.anyio
async def test_a_real_name_whose_prefix_is_used_in_a_bad_name_is_not_reached(
    async_client: pydock.AsyncClient, engine: Engine, names: list[str]
) -> None:
    name = unique()
    names.append(name)
    created = await async_client.containers.create(engine.test_image, ["true"], name=name)
    for bad in (f"{name}/", f"../containers/{name}", f"{name}?all=1", f"{name}#x"):
        with pytest.raises(ContainerNotFound):
            await async_client.containers.get(bad)
        assert await async_client.containers.exists(bad) is False
    # Docker's canonical form of a name, "/name", finds it on both engines.
    assert (await async_client.containers.get("/" + name)).id == created.id
    assert await async_client.containers.exists("/" + name) is True
    assert await async_client.containers.exists(name) is True


@pytest.mark.anyio
async def test_an_engine_redirect_is_an_error_not_an_empty_success(docker_engine: Engine) -> None:
    # Docker cleans a quoted "/x" to "x" with a 301 and an empty body.
    async with pydock.AsyncClient(docker_engine.url) as client:
        with pytest.raises(ProtocolError) as caught:
            await client._json("GET", "/containers/%2Fx/json", resource="container")
    assert "redirect" in caught.value.message
    assert caught.value.field == "status"


# --------------------------------------------------------------------------- defect 6


@pytest.fixture
def hostile() -> Iterator[HostileEngine]:
    server = HostileEngine()
    yield server
    server.close()


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("path", "payload", "call", "field"),
    [
        ("/containers/json", {"message": "not a list"}, "containers.list", None),
        ("/containers/json", [{"Id": "a", "Names": "notalist"}], "containers.list", "[0].Names"),
        ("/containers/json", [{"Id": "a"}, ["x", 1]], "containers.list", "[1]"),
        ("/containers/web/json", ["x", 1], "containers.get", None),
        ("/containers/web/json", {"Id": "a", "State": {"Pid": "x"}}, "containers.get", "State.Pid"),
        ("/images/json", [{"Id": 5}], "images.list", "[0].Id"),
        ("/images/busybox/json", {"Id": "sha256:a", "RepoTags": "x"}, "images.get", "RepoTags"),
        ("/images/busybox/history", {"message": "x"}, "images.history", None),
        ("/version", ["x", 1], "version", None),
        ("/info", {"NCPU": "two"}, "info", "NCPU"),
        ("/info", b"<html>not json</html>", "info", "body"),
    ],
)
async def test_a_hostile_engine_s_wrong_shapes_are_protocol_errors(
    hostile: HostileEngine, path: str, payload: object, call: str, field: str | None
) -> None:
    hostile.answers[path] = (200, payload)
    async with pydock.AsyncClient(hostile.url) as client:
        method: Any = client
        for part in call.split("."):
            method = getattr(method, part)
        args = ("web",) if call == "containers.get" else ("busybox",) if "images." in call else ()
        if call == "images.list":
            args = ()
        with pytest.raises(ProtocolError) as caught:
            await method(*args)
    assert caught.value.field == field


@pytest.mark.anyio
async def test_a_hostile_engine_s_redirect_is_not_success(hostile: HostileEngine) -> None:
    hostile.answers["/containers/web/json"] = (301, b"")
    async with pydock.AsyncClient(hostile.url) as client:
        with pytest.raises(ProtocolError) as caught:
            await client.containers.get("web")
        assert caught.value.field == "status"
        assert "/elsewhere" in caught.value.message
        with pytest.raises(ProtocolError):
            await client.containers.exists("web")  # not NotFound: it propagates


@pytest.mark.anyio
async def test_a_hostile_engine_s_wrong_shapes_after_a_good_inspect(hostile: HostileEngine) -> None:
    cid = "a" * 64
    hostile.answers["/containers/web/json"] = (200, {"Id": cid, "Name": "/web", "State": {}})
    hostile.answers[f"/containers/{cid}/top"] = (200, {"Titles": "PID", "Processes": []})
    hostile.answers[f"/containers/{cid}/changes"] = (200, {"message": "not a list"})
    hostile.answers[f"/containers/{cid}/stats"] = (200, {"cpu_stats": []})
    hostile.answers["/containers/prune"] = (200, {"ContainersDeleted": "abc"})
    hostile.answers["/images/prune"] = (200, {"ImagesDeleted": {"a": 1}})
    async with pydock.AsyncClient(hostile.url) as client:
        container = await client.containers.get("web")
        assert container.id == cid
        with pytest.raises(ProtocolError) as top:
            await container.top()
        assert top.value.field == "Titles"
        with pytest.raises(ProtocolError) as diff:
            await container.diff()
        assert diff.value.field is None
        with pytest.raises(ProtocolError) as stats:
            await container.stats()
        assert stats.value.field == "cpu_stats"
        with pytest.raises(ProtocolError) as pruned:
            await client.containers.prune()
        assert pruned.value.field == "ContainersDeleted"
        with pytest.raises(ProtocolError) as images_pruned:
            await client.images.prune()
        assert images_pruned.value.field == "ImagesDeleted"
