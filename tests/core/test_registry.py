"""The registry client's sans-I/O decisions: fed data, no servers."""

from __future__ import annotations

import base64
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pydock import errors
from pydock._core.auth import RegistryAuth
from pydock._core.registry import (
    DOCKER_MANIFEST_LIST,
    OCI_MANIFEST,
    AuthState,
    Descriptor,
    Digester,
    ImageIndex,
    ImageManifest,
    Platform,
    Token,
    TokenRequest,
    base_urls,
    blob_path,
    chunk_size,
    compute_digest,
    content_range,
    is_loopback,
    merge_scopes,
    next_page_url,
    parse_manifest,
    parse_range_end,
    referrers_tag,
    same_origin,
    upload_finish_url,
)

DIGEST = compute_digest(b"x")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("linux/amd64", "linux/amd64"),
        ("linux/x86_64", "linux/amd64"),
        ("linux/aarch64", "linux/arm64"),
        ("linux/arm64/v8", "linux/arm64"),
        ("linux/armhf", "linux/arm/v7"),
        ("linux/armel", "linux/arm/v6"),
        ("linux/arm", "linux/arm/v7"),
        ("linux/arm/7", "linux/arm/v7"),
        ("arm64", "linux/arm64"),
        ("Linux/i386", "linux/386"),
    ],
)
def test_platforms_are_normalized(text: str, expected: str) -> None:
    assert str(Platform.parse(text)) == expected


def test_bad_platform() -> None:
    with pytest.raises(ValueError):
        Platform.parse("linux//x")


def _index() -> ImageIndex:
    entries = [
        {"os": "linux", "architecture": "amd64"},
        {"os": "unknown", "architecture": "unknown"},
        {"os": "linux", "architecture": "arm", "variant": "v6"},
        {"os": "linux", "architecture": "arm", "variant": "v7"},
        {"os": "linux", "architecture": "arm64", "variant": "v8"},
    ]
    raw = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": DOCKER_MANIFEST_LIST,
            "manifests": [
                {"mediaType": OCI_MANIFEST, "digest": compute_digest(str(i).encode()), "size": 1,
                 "platform": p}
                for i, p in enumerate(entries)
            ],
        }
    ).encode()  # fmt: skip
    index = parse_manifest(raw)
    assert isinstance(index, ImageIndex)
    return index


def test_index_platform_selection() -> None:
    index = _index()
    assert index.select("linux/aarch64") is index.manifests[4]
    assert index.select("linux/armhf") is index.manifests[3]
    assert index.select("linux/arm/v6") is index.manifests[2]
    assert index.select_all(["linux/arm64", "linux/amd64"]) == [
        index.manifests[0],
        index.manifests[4],
    ]
    with pytest.raises(errors.ManifestUnknown, match="available: linux/amd64"):
        index.select("windows/amd64")
    smaller = index.filtered(index.manifests[:1])
    assert smaller.digest == compute_digest(smaller.raw)
    assert len(json.loads(smaller.raw)["manifests"]) == 1


def test_parse_manifest_keeps_exact_bytes() -> None:
    raw = (
        b'{"schemaVersion":2,"config":{"mediaType":"c","digest":"'
        + DIGEST.encode()
        + b'","size":1},"layers":[]}'
    )
    manifest = parse_manifest(raw, "application/vnd.oci.image.manifest.v1+json; x=y")
    assert isinstance(manifest, ImageManifest)
    assert manifest.raw is raw
    assert manifest.digest == compute_digest(raw)
    assert manifest.media_type == OCI_MANIFEST
    assert manifest.blobs == (manifest.config,)


@pytest.mark.parametrize(
    "raw",
    [b"not json", b"[]", b'{"schemaVersion":1,"fsLayers":[]}', b'{"layers":[]}',
     b'{"config":{"digest":"sha256:x","size":1}}'],
)  # fmt: skip
def test_invalid_manifests(raw: bytes) -> None:
    with pytest.raises(errors.ManifestInvalid):
        parse_manifest(raw)


def test_descriptor_round_trip_keeps_unknown_members() -> None:
    desc = Descriptor.from_json({"mediaType": "a/b", "digest": DIGEST, "size": 1, "extra": 1})
    assert desc.to_json() == {"mediaType": "a/b", "digest": DIGEST, "size": 1, "extra": 1}


@given(st.binary(), st.integers(min_value=1, max_value=50))
def test_digester_matches_one_shot(data: bytes, step: int) -> None:
    digester = Digester(compute_digest(data))
    for i in range(0, len(data), step):
        digester.update(data[i : i + step])
    assert digester.verify() == compute_digest(data)
    assert digester.size == len(data)


def test_digest_mismatch() -> None:
    digester = Digester(DIGEST)
    digester.update(b"y")
    with pytest.raises(errors.DigestMismatch) as caught:
        digester.verify()
    assert caught.value.expected == DIGEST
    assert caught.value.actual == compute_digest(b"y")


def test_paths_and_tags_from_digests() -> None:
    hexpart = DIGEST.split(":")[1]
    assert blob_path(DIGEST) == f"blobs/sha256/{hexpart}"
    assert referrers_tag(DIGEST) == f"sha256-{hexpart}"
    with pytest.raises(errors.InvalidReference):
        blob_path("md5:abc")


def test_hosts_and_urls() -> None:
    assert is_loopback("127.0.0.1:5000")
    assert is_loopback("localhost")
    assert is_loopback("[::1]:5000")
    assert not is_loopback("registry.example:5000")
    assert base_urls("127.0.0.1:5000") == ["https://127.0.0.1:5000", "http://127.0.0.1:5000"]
    assert base_urls("example.com") == ["https://example.com"]
    assert base_urls("example.com", insecure=True)[1] == "http://example.com"
    assert base_urls("127.0.0.1:5001", tls=True) == ["https://127.0.0.1:5001"]
    assert base_urls("http://h:1/") == ["http://h:1"]
    assert same_origin("https://a/x", "https://a:443/y")
    assert not same_origin("https://a/x", "https://b/x")
    assert not same_origin("http://a:1/x", "http://a:2/x")


def test_upload_url_keeps_its_query() -> None:
    url = upload_finish_url("http://h/v2/r/blobs/uploads/u?_state=a%3D%3D&digest=old", DIGEST)
    assert (
        url == f"http://h/v2/r/blobs/uploads/u?_state=a%3D%3D&digest={DIGEST.replace(':', '%3A')}"
    )


def test_upload_ranges_and_chunks() -> None:
    assert content_range(0, 10) == "0-9"
    assert content_range(10, 5) == "10-14"
    assert parse_range_end("0-99") == 100
    assert parse_range_end("bytes=0-99") == 100
    assert parse_range_end("0-0") == 0
    assert parse_range_end("0--1") == 0
    with pytest.raises(errors.ProtocolError):
        parse_range_end("junk")
    assert parse_range_end(None) is None
    assert chunk_size(10, None) == 10
    assert chunk_size(10, "1000") == 1000
    assert chunk_size(10, "x") == 10


def test_link_paging() -> None:
    link = '</v2/_catalog?last=b&n=2>; rel="next"'
    assert next_page_url("http://h/v2/_catalog?n=2", link) == "http://h/v2/_catalog?last=b&n=2"
    assert next_page_url("http://h/v2/_catalog", None) is None


def test_scopes_merge_by_resource() -> None:
    assert merge_scopes(
        ["repository:a:push", "repository:a:pull"], ["repository:b:pull registry:catalog:*"]
    ) == ["registry:catalog:*", "repository:a:pull,push", "repository:b:pull"]


# --------------------------------------------------------------------------- auth state machine

BEARER = 'Bearer realm="https://auth.test/token",service="reg"'


def _token_body(value: str, expires_in: int = 300, **extra: str) -> bytes:
    return json.dumps({"token": value, "expires_in": expires_in, **extra}).encode()


def test_basic_challenge_retries_once_with_credentials() -> None:
    state = AuthState(RegistryAuth(username="u", password="p"))
    assert state.authorization([], now=0) is None
    action = state.on_unauthorized('Basic realm="x"', [], sent_authorization=None, now=0)
    assert action.kind == "retry"
    header = state.authorization([], now=0)
    assert header == "Basic " + base64.b64encode(b"u:p").decode()
    again = state.on_unauthorized('Basic realm="x"', [], sent_authorization=header, now=0)
    assert again.kind == "fail"


def test_basic_challenge_without_credentials_fails() -> None:
    state = AuthState(None)
    assert (
        state.on_unauthorized('Basic realm="x"', [], sent_authorization=None, now=0).kind == "fail"
    )


def test_bearer_flow_caches_per_scope_and_expires() -> None:
    state = AuthState(RegistryAuth(username="u", password="p"))
    pull = ["repository:a:pull"]
    action = state.on_unauthorized(BEARER, pull, sent_authorization=None, now=0)
    assert action.kind == "token"
    request = action.token_request
    assert request is not None
    assert request.method == "GET"
    assert ("scope", "repository:a:pull") in request.params
    assert ("service", "reg") in request.params
    assert dict(request.headers)["Authorization"].startswith("Basic ")
    token = state.on_token_response(request, 200, _token_body("T1", 60), now=0)
    assert isinstance(token, Token)
    assert state.authorization(pull, now=10) == "Bearer T1"
    assert state.token_request_for(pull, now=10) is None
    # A push needs a new token, asked for before sending.
    push = state.token_request_for(["repository:a:pull,push"], now=10)
    assert push is not None
    assert ("scope", "repository:a:pull,push") in push.params
    # Expired (with a margin): a new token is needed.
    assert state.authorization(pull, now=59) is None
    assert state.token_request_for(pull, now=59) is not None


def test_insufficient_scope_escalates_from_the_token_used() -> None:
    state = AuthState(None)
    action = state.on_unauthorized(BEARER, ["repository:a:pull"], sent_authorization=None, now=0)
    assert action.token_request is not None
    state.on_token_response(action.token_request, 200, _token_body("T1"), now=0)
    challenge = BEARER + ',scope="repository:a:push,pull",error="insufficient_scope"'
    again = state.on_unauthorized(
        challenge, ["repository:a:pull"], sent_authorization="Bearer T1", now=1
    )
    assert again.kind == "token"
    assert again.token_request is not None
    assert [v for k, v in again.token_request.params if k == "scope"] == ["repository:a:pull,push"]
    assert "Authorization" not in dict(again.token_request.headers)  # anonymous


def test_a_refused_fresh_token_fails_instead_of_looping() -> None:
    state = AuthState(None)
    action = state.on_unauthorized(BEARER, ["repository:a:pull"], sent_authorization=None, now=0)
    assert action.token_request is not None
    state.on_token_response(action.token_request, 200, _token_body("T1"), now=0)
    final = state.on_unauthorized(
        BEARER + ',scope="repository:a:pull"', ["repository:a:pull"],
        sent_authorization="Bearer T1", now=1,
    )  # fmt: skip
    assert final.kind == "fail"


def test_invalid_token_is_dropped_and_renewed() -> None:
    state = AuthState(None)
    action = state.on_unauthorized(BEARER, [], sent_authorization=None, now=0)
    assert action.token_request is not None
    state.on_token_response(action.token_request, 200, _token_body("T1"), now=0)
    renewed = state.on_unauthorized(
        BEARER + ',error="invalid_token"', [], sent_authorization="Bearer T1", now=1
    )
    assert renewed.kind == "token"
    assert state.authorization([], now=1) is None


def test_oauth2_refresh_token_post_then_get_fallback() -> None:
    state = AuthState(RegistryAuth(identitytoken="R"))
    action = state.on_unauthorized(
        BEARER, ["repository:a:pull", "repository:b:pull"], sent_authorization=None, now=0
    )
    request = action.token_request
    assert request is not None
    assert request.method == "POST"
    form = dict(request.form)
    assert form["grant_type"] == "refresh_token"
    assert form["refresh_token"] == "R"
    assert form["scope"] == "repository:a:pull repository:b:pull"
    fallback = state.on_token_response(request, 404, b"", now=0)
    assert isinstance(fallback, TokenRequest)
    assert fallback.method == "GET"
    assert (
        dict(fallback.headers)["Authorization"]
        == "Basic " + base64.b64encode(b"<token>:R").decode()
    )
    assert "Authorization" not in repr(fallback)


def test_token_answers() -> None:
    state = AuthState(None)
    action = state.on_unauthorized(BEARER, [], sent_authorization=None, now=0)
    request = action.token_request
    assert request is not None
    with pytest.raises(errors.RegistryUnauthorized):
        state.on_token_response(request, 401, b'{"errors":[{"code":"UNAUTHORIZED"}]}', now=0)
    with pytest.raises(errors.RegistryUnauthorized):
        state.on_token_response(request, 200, b"{}", now=0)
    token = state.on_token_response(
        request, 200, b'{"access_token":"A","refresh_token":"N"}', now=0
    )
    assert isinstance(token, Token)
    assert token.value == "A"
    assert token.expires_at == 55.0  # the spec's default lifetime, less the margin
    assert state.refresh_token == "N"
    assert "value" not in repr(token)


def test_registry_token_is_sent_as_is() -> None:
    state = AuthState(RegistryAuth(registrytoken="RT"))
    assert state.authorization(["repository:a:pull"], now=0) == "Bearer RT"
    assert state.on_unauthorized(BEARER, [], sent_authorization="Bearer RT", now=0).kind == "fail"
