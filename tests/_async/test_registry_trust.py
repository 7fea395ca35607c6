"""Issue 13 for the registry client, against hostile local registries and token services.

Each server records what it received, so the tests assert what never arrived:
credentials at a token service they must not reach, a token at another host,
the bytes of an answer past the size limit.
"""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Callable, Iterator

import pytest

from pydock import errors
from pydock._async._registry import AsyncRegistry
from pydock._core.auth import RegistryAuth
from pydock._core.registry import JSON_LIMIT, MANIFEST_LIMIT, OCI_MANIFEST, compute_digest
from pydock._core.retry import RetryPolicy
from tests.support.token_server import RecordingServer, Reply, Seen, endless, json_reply

CERTS = os.path.join(".engines", "certs")
CA = os.path.join(CERTS, "ca.pem")
CERT = os.path.join(CERTS, "server.pem")
KEY = os.path.join(CERTS, "server-key.pem")
NO_CONFIG = {"DOCKER_CONFIG": "/nonexistent/pydock-test"}
USER = ("user", "s3cret-password")
BASIC = "Basic " + base64.b64encode(b"user:s3cret-password").decode()
TOKEN = "tok-1234567890"
#: What loopback socket buffers may hold beyond what the client read (generous).
SLACK = 16 << 20


def token_service(seen_token: str = TOKEN) -> Callable[[Seen], Reply]:
    def app(request: Seen) -> Reply:
        return json_reply({"token": seen_token, "expires_in": 300})

    return app


def bearer_registry(
    realm: Callable[[], str], next_host: Callable[[], str] | None = None
) -> Callable[[Seen], Reply]:
    """A registry that wants ``Bearer TOKEN`` from the token service at ``realm()``."""

    def app(request: Seen) -> Reply:
        if request.authorization != f"Bearer {TOKEN}":
            challenge = f'Bearer realm="{realm()}",service="hostile",scope="repository:a/b:pull"'
            return json_reply({"errors": [{"code": "UNAUTHORIZED"}]}, 401, **{
                "WWW-Authenticate": challenge
            })  # fmt: skip
        if request.path == "/v2/":
            return json_reply({})
        if request.path.startswith("/v2/a/b/tags/list") and next_host is not None:
            link = f'<http://{next_host()}/v2/a/b/tags/list?last=1>; rel="next"'
            return json_reply({"name": "a/b", "tags": ["1"]}, Link=link)
        if request.method == "HEAD" and "/blobs/" in request.path:
            return Reply(404)
        if request.method == "POST" and next_host is not None:
            return Reply(202, {"Location": f"http://{next_host()}/upload/1"})
        return json_reply({"errors": [{"code": "UNSUPPORTED"}]}, 405)

    return app


@pytest.fixture
def elsewhere() -> Iterator[RecordingServer]:
    """A server on another loopback address (127.0.0.2) that takes anything."""

    def app(request: Seen) -> Reply:
        if request.method == "PUT":
            return Reply(201)
        return json_reply({"name": "a/b", "tags": ["2"], "token": TOKEN})

    with RecordingServer(app, host="127.0.0.2") as server:
        yield server


async def call(reg: AsyncRegistry, what: str) -> object:
    """Call the registry method a parametrized test names."""
    if what == "tags":
        return await reg.tags("a/b").collect()
    if what == "catalog":
        return await reg.catalog().collect()
    if what == "manifest":
        return await reg.manifest("a/b:1")
    if what == "resolve":
        return await reg.resolve("a/b:1")
    return await reg.upload_blob("a/b", b"data")


# --------------------------------------------------------------------------- defect 3


@pytest.mark.anyio
@pytest.mark.parametrize("realm_host", ["127.0.0.2", "127.0.0.1"], ids=["other-host", "same-host"])
@pytest.mark.parametrize(
    "auth", [USER, RegistryAuth(identitytoken="refresh-secret")], ids=["password", "refresh"]
)
async def test_https_registry_never_sends_credentials_to_a_plain_http_realm(
    realm_host: str, auth: tuple[str, str] | RegistryAuth
) -> None:
    realm = RecordingServer(token_service(), host=realm_host)
    registry = RecordingServer(
        bearer_registry(lambda: f"{realm.url}/token"), certfile=CERT, keyfile=KEY
    )
    with realm, registry:
        async with AsyncRegistry(registry.host, auth=auth, ca_cert=CA, env=NO_CONFIG) as reg:
            with pytest.raises(errors.RegistryError, match="refusing the token service") as e:
                await reg.tags("a/b").collect()
    assert f"{realm.url}/token" in str(e.value)
    assert realm.requests == []  # nothing reached it: no credentials, not even a request
    assert "s3cret" not in str(e.value)


@pytest.mark.anyio
async def test_loopback_registry_sends_no_credentials_to_a_plain_realm_on_another_host(
    elsewhere: RecordingServer,
) -> None:
    with RecordingServer(bearer_registry(lambda: f"{elsewhere.url}/token")) as registry:
        async with AsyncRegistry(registry.url, auth=USER, env=NO_CONFIG) as reg:
            with pytest.raises(errors.RegistryError, match="another host only over HTTPS"):
                await reg.tags("a/b").collect()
    assert elsewhere.requests == []
    assert all(r.authorization is None for r in registry.requests)


@pytest.mark.anyio
async def test_https_realm_elsewhere_gets_credentials_and_the_token_stays_home(
    elsewhere: RecordingServer,
) -> None:
    # "localhost" is another host than "127.0.0.1" (the rig's certificate names both).
    realm = RecordingServer(token_service(), certfile=CERT, keyfile=KEY, name="localhost")
    registry = RecordingServer(
        bearer_registry(lambda: f"{realm.url}/token", lambda: elsewhere.host),
        certfile=CERT,
        keyfile=KEY,
    )
    with realm, registry:
        async with AsyncRegistry(
            registry.host, auth=USER, ca_cert=CA, env=NO_CONFIG, retry=RetryPolicy.none()
        ) as reg:
            # The next page and the upload live on another host: it gets no token.
            assert await reg.tags("a/b").collect() == ["1", "2"]
            await reg.upload_blob("a/b", b"data")
    assert [r.authorization for r in realm.requests] == [BASIC, BASIC]  # pull, then push
    assert any(r.authorization == f"Bearer {TOKEN}" for r in registry.requests)
    assert [r.method for r in elsewhere.requests] == ["GET", "PUT"]
    assert [r.authorization for r in elsewhere.requests] == [None, None]


# --------------------------------------------------------------------------- defect 5


def _huge(declared: bool, status: int = 200, content_type: str = OCI_MANIFEST) -> Reply:
    total = 200 << 20
    body = endless(b'{"a":"' + b"x" * 65530, total)
    return Reply(status, {"Content-Type": content_type}, body, total if declared else None)


def huge_registry(where: str, declared: bool) -> Callable[[Seen], Reply]:
    def app(request: Seen) -> Reply:
        if request.path == "/v2/":
            return json_reply({})
        if where == "manifest" and "/manifests/" in request.path:
            return _huge(declared)
        if where == "tags" and "/tags/list" in request.path:
            return _huge(declared, content_type="application/json")
        if where == "error" and "/manifests/" in request.path:
            return _huge(declared, 404, "application/json")
        return json_reply({"errors": [{"code": "UNSUPPORTED"}]}, 405)

    return app


@pytest.mark.anyio
@pytest.mark.parametrize("declared", [True, False], ids=["content-length", "until-close"])
@pytest.mark.parametrize("where", ["manifest", "tags"])
async def test_huge_answers_stop_at_the_limit(where: str, declared: bool) -> None:
    limit = MANIFEST_LIMIT if where == "manifest" else JSON_LIMIT
    with RecordingServer(huge_registry(where, declared)) as server:
        async with AsyncRegistry(server.url, env=NO_CONFIG, retry=RetryPolicy.none()) as reg:
            with pytest.raises(errors.ResponseTooLarge) as caught:
                await call(reg, where)
    assert caught.value.limit == limit
    assert server.sent < limit + SLACK  # of 200 MiB offered


@pytest.mark.anyio
@pytest.mark.parametrize("declared", [True, False], ids=["content-length", "until-close"])
async def test_huge_error_bodies_are_cut_short(declared: bool) -> None:
    with RecordingServer(huge_registry("error", declared)) as server:
        async with AsyncRegistry(server.url, env=NO_CONFIG, retry=RetryPolicy.none()) as reg:
            with pytest.raises(errors.RegistryError) as caught:
                await reg.manifest("a/b:1")
    assert caught.value.status_code == 404
    assert server.sent < SLACK


@pytest.mark.anyio
async def test_huge_token_answer_stops_at_the_limit() -> None:
    def realm_app(request: Seen) -> Reply:
        return _huge(False, content_type="application/json")

    realm = RecordingServer(realm_app)
    registry = RecordingServer(bearer_registry(lambda: f"{realm.url}/token"))
    with realm, registry:
        async with AsyncRegistry(
            registry.url, auth=USER, env=NO_CONFIG, retry=RetryPolicy.none()
        ) as reg:
            with pytest.raises(errors.ResponseTooLarge):
                await reg.tags("a/b").collect()
    assert realm.sent < JSON_LIMIT + SLACK


# --------------------------------------------------------------------------- defect 6


def shaped_registry(answers: dict[str, Reply]) -> Callable[[Seen], Reply]:
    def app(request: Seen) -> Reply:
        if request.path == "/v2/":
            return json_reply({})
        for part, reply in answers.items():
            if part in request.path:
                return reply
        return json_reply({"errors": [{"code": "UNSUPPORTED"}]}, 405)

    return app


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("what", "answers", "field"),
    [
        ("tags", {"/tags/list": json_reply({"tags": "notalist"})}, "tags"),
        ("tags", {"/tags/list": json_reply(["x", 1])}, "tags"),
        ("catalog", {"/_catalog": json_reply({"repositories": [1]})}, "repositories[0]"),
        ("manifest", {"/manifests/": json_reply(["x", 1])}, "top level"),
        ("manifest", {"/manifests/": json_reply({"config": {"digest": 1}})}, "config.digest"),
        ("resolve", {"/manifests/": Reply(200, {"Docker-Content-Digest": "md5:abc"})},
         "Docker-Content-Digest"),
        ("upload", {"/blobs/sha": Reply(404), "/blobs/uploads/": Reply(202, {"Location": ""})},
         "Location"),
    ],
)  # fmt: skip
async def test_wrong_shapes_from_a_registry_name_the_field(
    what: str, answers: dict[str, Reply], field: str
) -> None:
    with RecordingServer(shaped_registry(answers)) as server:
        async with AsyncRegistry(server.url, env=NO_CONFIG, retry=RetryPolicy.none()) as reg:
            with pytest.raises(errors.ProtocolError) as caught:
                await call(reg, what)
    assert caught.value.field == field


# --------------------------------------------------------------------------- defect 11


@pytest.mark.parametrize(
    ("kwargs", "parameter"),
    [
        ({"host": ""}, "host"),
        ({"host": "   "}, "host"),
        ({"host": "https://"}, "host"),
        ({"host": "a b:5000"}, "host"),
        ({"host": "127.0.0.1:99999"}, "host"),
        ({"chunk_size": 0}, "chunk_size"),
        ({"chunk_size": -1}, "chunk_size"),
        ({"chunk_size": 1.5}, "chunk_size"),
        ({"concurrency": 0}, "concurrency"),
        ({"timeout": -1}, "timeout"),
        ({"timeout": 0}, "timeout"),
        ({"ca_cert": "/nonexistent/ca.pem"}, "ca_cert"),
    ],
)
def test_nonsense_constructor_values_are_refused(kwargs: dict[str, object], parameter: str) -> None:
    args: dict[str, object] = {"host": "127.0.0.1:5000", "env": NO_CONFIG, **kwargs}
    with pytest.raises(errors.InvalidConfiguration, match=parameter):
        AsyncRegistry(**args)  # type: ignore[arg-type]


@pytest.mark.anyio
async def test_a_redirect_loop_is_too_many_redirects() -> None:
    def app(request: Seen) -> Reply:
        if request.path == "/v2/":
            return json_reply({})
        return Reply(307, {"Location": request.path})

    with RecordingServer(app) as server:
        async with AsyncRegistry(server.url, env=NO_CONFIG, retry=RetryPolicy.none()) as reg:
            with pytest.raises(errors.RegistryError, match="too many redirects"):
                await reg.manifest("a/b:1")
    assert 5 <= len(server.requests) <= 30


@pytest.mark.anyio
async def test_a_digest_pinned_blob_check_still_works_after_the_limits() -> None:
    # A manifest just under the limit is read and verified as before.
    layer = {"mediaType": "a/b", "digest": compute_digest(b"x"), "size": 1}
    payload = {"schemaVersion": 2, "mediaType": OCI_MANIFEST, "config": layer, "layers": [layer]}
    payload["annotations"] = {"pad": "p" * (MANIFEST_LIMIT - 400)}
    raw = json.dumps(payload).encode()
    assert len(raw) <= MANIFEST_LIMIT
    digest = compute_digest(raw)

    def app(request: Seen) -> Reply:
        if request.path == "/v2/":
            return json_reply({})
        return Reply(200, {"Content-Type": OCI_MANIFEST}, raw)

    with RecordingServer(app) as server:
        async with AsyncRegistry(server.url, env=NO_CONFIG) as reg:
            found = await reg.manifest(f"a/b@{digest}")
    assert found.digest == digest
