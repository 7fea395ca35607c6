"""The registry client against a real token-auth registry (CNCF registry + a test token service).

Scopes, expiry, ``invalid_token`` and ``insufficient_scope`` escalation are
exercised for real: the registry checks every JWT the service signs.
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator

import pytest

from pydock import errors
from pydock._async._backend import sleep
from pydock._async._registry import AsyncRegistry
from pydock._core.auth import RegistryAuth
from pydock._core.registry import repository_scope
from tests.conftest import RegistryServer
from tests.support.token_server import TokenRegistry, start_token_registry

BASE = "pydock-test/busybox:1"
ADMIN = ("admin", "admin-secret")
NO_CONFIG = {"DOCKER_CONFIG": "/nonexistent/pydock-test"}


@pytest.fixture(scope="module")
def token_registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TokenRegistry]:
    if shutil.which("docker-registry") is None or shutil.which("openssl") is None:
        pytest.skip("docker-registry and openssl are needed for the token-auth registry")
    with start_token_registry(tmp_path_factory.mktemp("token-registry")) as server:
        yield server


@pytest.fixture
def tokens(token_registry: TokenRegistry) -> TokenRegistry:
    token_registry.tokens.reset()
    return token_registry


def unique(prefix: str = "pydock-it") -> str:
    return f"{prefix}/{uuid.uuid4().hex[:12]}"


async def seed(registry: RegistryServer, tokens: TokenRegistry, ref: str) -> str:
    """Copy the base image from the plain registry into the token registry."""
    async with (
        AsyncRegistry(registry.host) as plain,
        AsyncRegistry(tokens.host, auth=ADMIN, env=NO_CONFIG) as target,
    ):
        return await plain.copy(BASE, f"{tokens.host}/{ref}", target=target)


@pytest.mark.anyio
async def test_push_pull_and_catalog_with_scoped_tokens(
    registry: RegistryServer, tokens: TokenRegistry
) -> None:
    repo = unique()
    digest = await seed(registry, tokens, f"{repo}:1")
    scopes = [s for r in tokens.tokens.requests for s in r.scopes]
    assert repository_scope(repo, "pull", "push") in scopes
    async with AsyncRegistry(tokens.host, auth=ADMIN, env=NO_CONFIG) as reg:
        assert await reg.resolve(f"{repo}:1") == digest
        assert repo in await reg.catalog().collect()
        await reg.delete(f"{repo}:1")
        with pytest.raises(errors.ManifestUnknown):
            await reg.resolve(f"{repo}:1")
    asked = [s for r in tokens.tokens.requests for s in r.scopes]
    assert "registry:catalog:*" in asked
    assert repository_scope(repo, "delete") in asked
    assert all(r.user == "admin" for r in tokens.tokens.requests)


@pytest.mark.anyio
async def test_tokens_are_cached_per_scope(registry: RegistryServer, tokens: TokenRegistry) -> None:
    repo = unique()
    await seed(registry, tokens, f"{repo}:1")
    tokens.tokens.requests.clear()
    async with AsyncRegistry(tokens.host, auth=ADMIN, env=NO_CONFIG) as reg:
        for _ in range(3):
            await reg.resolve(f"{repo}:1")
            await reg.manifest(f"{repo}:1")
    assert len(tokens.tokens.requests) == 1


@pytest.mark.anyio
async def test_reader_can_pull_but_not_push(
    registry: RegistryServer, tokens: TokenRegistry
) -> None:
    repo = unique()
    await seed(registry, tokens, f"{repo}:1")
    async with AsyncRegistry(tokens.host, auth=("reader", "reader-secret"), env=NO_CONFIG) as reg:
        assert (await reg.resolve(f"{repo}:1")).startswith("sha256:")
        with pytest.raises(errors.Unauthorized):
            await reg.upload_blob(repo, b"not allowed")
        with pytest.raises(errors.Unauthorized):
            await reg.delete(f"{repo}:1")


@pytest.mark.anyio
async def test_anonymous_tokens(registry: RegistryServer, tokens: TokenRegistry) -> None:
    public, private = unique("public"), unique()
    await seed(registry, tokens, f"{public}:1")
    await seed(registry, tokens, f"{private}:1")
    async with AsyncRegistry(tokens.host, env=NO_CONFIG) as reg:
        assert (await reg.resolve(f"{public}:1")).startswith("sha256:")
        with pytest.raises(errors.Unauthorized):
            await reg.resolve(f"{private}:1")
    assert any(r.user is None for r in tokens.tokens.requests)


@pytest.mark.anyio
async def test_login_checks_credentials_with_the_token_service(tokens: TokenRegistry) -> None:
    async with AsyncRegistry(tokens.host, env=NO_CONFIG) as reg:
        with pytest.raises(errors.RegistryUnauthorized) as caught:
            await reg.login("admin", "wrong")
        assert "wrong" not in str(caught.value)
        await reg.login(*ADMIN)


@pytest.mark.anyio
async def test_expired_tokens_are_renewed(registry: RegistryServer, tokens: TokenRegistry) -> None:
    repo = unique()
    await seed(registry, tokens, f"{repo}:1")
    tokens.tokens.requests.clear()
    tokens.tokens.expires_in = 1  # the client must not use it after a second
    async with AsyncRegistry(tokens.host, auth=ADMIN, env=NO_CONFIG) as reg:
        await reg.resolve(f"{repo}:1")
        await sleep(1.1)
        await reg.resolve(f"{repo}:1")
    assert len(tokens.tokens.requests) == 2


@pytest.mark.anyio
async def test_invalid_token_is_replaced(registry: RegistryServer, tokens: TokenRegistry) -> None:
    repo = unique()
    await seed(registry, tokens, f"{repo}:1")
    tokens.tokens.requests.clear()
    tokens.tokens.expired_tokens = 1  # the registry answers error="invalid_token"
    async with AsyncRegistry(tokens.host, auth=ADMIN, env=NO_CONFIG) as reg:
        assert (await reg.resolve(f"{repo}:1")).startswith("sha256:")
    assert len(tokens.tokens.requests) == 2


@pytest.mark.anyio
async def test_insufficient_scope_escalates(
    registry: RegistryServer, tokens: TokenRegistry
) -> None:
    repo = unique()
    await seed(registry, tokens, f"{repo}:1")
    tokens.tokens.requests.clear()
    async with AsyncRegistry(tokens.host, auth=ADMIN, env=NO_CONFIG) as reg:
        await reg.resolve(f"{repo}:1")  # a pull token
        # Declare only pull for a push: the registry asks for more, the client escalates.
        response = await reg._request(
            "POST",
            f"/v2/{repo}/blobs/uploads/",
            scopes=(repository_scope(repo, "pull"),),
            content=b"",
        )
        assert response.status_code == 202
        await reg._cancel_upload(repo, response.headers["location"])
    assert [r.scopes for r in tokens.tokens.requests][:2] == [
        [repository_scope(repo, "pull")],
        [repository_scope(repo, "pull", "push")],
    ]


@pytest.mark.anyio
async def test_oauth2_refresh_token_and_get_fallback(
    registry: RegistryServer, tokens: TokenRegistry
) -> None:
    repo = unique()
    await seed(registry, tokens, f"{repo}:1")
    tokens.tokens.requests.clear()
    auth = RegistryAuth(identitytoken="refresh-admin")
    async with AsyncRegistry(tokens.host, auth=auth, env=NO_CONFIG) as reg:
        assert (await reg.resolve(f"{repo}:1")).startswith("sha256:")
    assert [(r.method, r.grant_type) for r in tokens.tokens.requests] == [("POST", "refresh_token")]
    tokens.tokens.requests.clear()
    tokens.tokens.oauth = False  # POST answers 404: fall back to GET
    async with AsyncRegistry(tokens.host, auth=auth, env=NO_CONFIG) as reg:
        assert (await reg.resolve(f"{repo}:1")).startswith("sha256:")
    assert [(r.method, r.user) for r in tokens.tokens.requests] == [("GET", "admin")]
