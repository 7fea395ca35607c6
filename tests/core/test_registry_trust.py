"""Issue 13 at the registry client's core: token realms, answer shapes, upload headers.

Bytes and headers in, decisions or typed errors out; no servers.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pydock import errors
from pydock._core.auth import RegistryAuth
from pydock._core.registry import (
    OCI_INDEX,
    OCI_MANIFEST,
    AuthState,
    ImageIndex,
    ImageManifest,
    Token,
    TokenRequest,
    compute_digest,
    parse_digest_header,
    parse_listing,
    parse_manifest,
    parse_range_end,
    realm_refusal,
    resolve_location,
)

DIGEST = compute_digest(b"x")
USER = RegistryAuth(username="u", password="p")


def _challenge(realm: str) -> str:
    return f'Bearer realm="{realm}",service="reg",scope="repository:a:pull"'


def _token_request(
    registry: str, realm: str, auth: RegistryAuth | None, *, plain_http_ok: bool
) -> TokenRequest | None:
    state = AuthState(auth)
    state.bind(registry, plain_http_ok=plain_http_ok)
    action = state.on_unauthorized(_challenge(realm), [], sent_authorization=None, now=0)
    return action.token_request


# --------------------------------------------------------------------------- token realms


@pytest.mark.parametrize(
    ("registry", "realm", "plain_http_ok"),
    [
        # the report: an HTTPS registry sending Basic credentials to a plain-HTTP realm elsewhere
        ("https://127.0.0.1:5001", "http://127.0.0.2:9000/token", False),
        # a downgrade on the same host
        ("https://127.0.0.1:5001", "http://127.0.0.1:9000/token", False),
        # a loopback plain-HTTP registry: another host over plain HTTP
        ("http://127.0.0.1:5000", "http://127.0.0.2:9000/token", True),
        # a plain-HTTP registry that is neither loopback nor insecure
        ("http://registry.example", "http://registry.example/token", False),
        # not HTTP at all
        ("https://registry.example", "file:///etc/passwd", False),
        ("https://registry.example", "ftp://registry.example/token", False),
    ],
)
@pytest.mark.parametrize(
    "auth", [USER, RegistryAuth(identitytoken="refresh")], ids=["password", "refresh-token"]
)
def test_credentials_never_go_to_an_unsafe_realm(
    registry: str, realm: str, plain_http_ok: bool, auth: RegistryAuth
) -> None:
    with pytest.raises(errors.RegistryError, match="refusing the token service") as caught:
        _token_request(registry, realm, auth, plain_http_ok=plain_http_ok)
    assert realm in str(caught.value)
    assert caught.value.code == "INSECURE_REALM"
    assert "p" not in str(caught.value).split(": ", 1)[0]  # no credentials in the message
    assert "refresh'" not in str(caught.value)


@pytest.mark.parametrize(
    ("registry", "realm", "plain_http_ok"),
    [
        ("https://127.0.0.1:5001", "https://localhost:9000/token", False),
        ("https://registry.example", "https://auth.example/token", False),
        # a loopback registry and its token service on the same host, another port
        ("http://127.0.0.1:5000", "http://127.0.0.1:9000/token", True),
        # an insecure registry and its token service on the same host
        ("http://registry.example", "http://registry.example:81/token", True),
        ("http://127.0.0.1:5000", "https://127.0.0.2:9000/token", True),
    ],
)
def test_credentials_go_to_a_safe_realm(registry: str, realm: str, plain_http_ok: bool) -> None:
    request = _token_request(registry, realm, USER, plain_http_ok=plain_http_ok)
    assert request is not None
    assert dict(request.headers)["Authorization"].startswith("Basic ")


def test_anonymous_token_requests_only_refuse_downgrades() -> None:
    request = _token_request(
        "http://127.0.0.1:5000", "http://127.0.0.2:9000/token", None, plain_http_ok=True
    )
    assert request is not None
    assert request.headers == ()
    with pytest.raises(errors.RegistryError, match="HTTPS too"):
        _token_request(
            "https://registry.example", "http://registry.example/token", None, plain_http_ok=False
        )


def test_realm_rules_as_a_function() -> None:
    assert (
        realm_refusal("http://a/t", "http://a:5000", plain_http_ok=True, sends_credentials=True)
        is None
    )
    assert (
        realm_refusal("http://b/t", "http://a:5000", plain_http_ok=True, sends_credentials=False)
        is None
    )
    assert "another host" in (
        realm_refusal("http://b/t", "http://a:5000", plain_http_ok=True, sends_credentials=True)
        or ""
    )


@pytest.mark.parametrize(
    "auth", [USER, RegistryAuth(registrytoken="RT")], ids=["password", "registry-token"]
)
def test_no_credentials_over_plain_http_to_a_registry_not_allowed_it(auth: RegistryAuth) -> None:
    state = AuthState(auth)
    state.bind("http://registry.example", plain_http_ok=False)
    state.on_unauthorized('Basic realm="r"', [], sent_authorization=None, now=0)
    with pytest.raises(errors.RegistryError, match=r"plain HTTP to http://registry\.example") as e:
        state.authorization([], now=0)
    assert e.value.code == "INSECURE_REGISTRY"
    allowed = AuthState(auth)
    allowed.bind("http://registry.example", plain_http_ok=True)  # insecure=True
    allowed.on_unauthorized('Basic realm="r"', [], sent_authorization=None, now=0)
    assert allowed.authorization([], now=0) is not None


# --------------------------------------------------------------------------- token answers


def _answered(body: Any) -> Token | TokenRequest:
    state = AuthState(USER)
    action = state.on_unauthorized(
        _challenge("https://auth.test/token"), [], sent_authorization=None, now=0
    )
    assert action.token_request is not None
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return state.on_token_response(action.token_request, 200, raw, now=0)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"token": 1}, "token"),
        ({"token": ["a"]}, "token"),
        ({"access_token": {"a": 1}}, "access_token"),
        ({"token": "a\r\nX-Injected: 1"}, "token"),
        ({"token": "ok", "expires_in": "300"}, "expires_in"),
        ({"token": "ok", "refresh_token": 5}, "refresh_token"),
        (["token", "x"], "token"),
        (b"not json", "token"),
    ],
)
def test_token_answers_of_the_wrong_shape(body: Any, field: str) -> None:
    with pytest.raises(errors.ProtocolError) as caught:
        _answered(body)
    assert caught.value.field == field


def test_a_good_token_answer_still_works() -> None:
    token = _answered({"token": "abc.def", "expires_in": 120, "refresh_token": "r"})
    assert isinstance(token, Token)
    assert token.value == "abc.def"


# --------------------------------------------------------------------------- manifests


def _descriptor(**over: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"mediaType": "a/b", "digest": DIGEST, "size": 1}
    out.update(over)
    return out


def _manifest(**over: Any) -> bytes:
    payload: dict[str, Any] = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": _descriptor(),
        "layers": [_descriptor()],
    }
    payload.update(over)
    return json.dumps(payload).encode()


def _index(*entries: Any) -> bytes:
    return json.dumps({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": list(entries)})\
        .encode()  # fmt: skip


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        (b'["x", 1]', "top level"),
        (b'"x"', "top level"),
        (_manifest(layers="notalist"), "layers"),
        (_manifest(layers=["x", 1]), "layers[0]"),
        (_manifest(layers=[_descriptor(), _descriptor(size="1")]), "layers[1].size"),
        (_manifest(layers=[_descriptor(size=True)]), "layers[0].size"),
        (_manifest(config="x"), "config"),
        (_manifest(config=_descriptor(digest=5)), "config.digest"),
        (_manifest(config=_descriptor(mediaType=["a"])), "config.mediaType"),
        (_manifest(layers=[_descriptor(annotations=["a"])]), "layers[0].annotations"),
        (_manifest(layers=[_descriptor(annotations={"k": 1})]), "layers[0].annotations.k"),
        (_manifest(layers=[_descriptor(urls="http://x")]), "layers[0].urls"),
        (_manifest(annotations="x"), "annotations"),
        (_manifest(mediaType=7), "mediaType"),
        (_manifest(subject="x"), "subject"),
        (_manifest(artifactType=1), "artifactType"),
        (_index("x"), "manifests[0]"),
        (_index(_descriptor(platform="linux/amd64")), "manifests[0].platform"),
        (_index(_descriptor(platform={"os": "linux", "architecture": 1})),
         "manifests[0].platform.architecture"),
        (_index(_descriptor(platform={"os": "linux", "architecture": "a", "os.features": "x"})),
         "manifests[0].platform.os.features"),
        (json.dumps({"mediaType": OCI_INDEX, "manifests": {"a": 1}}).encode(), "manifests"),
    ],
)  # fmt: skip
def test_manifests_of_the_wrong_shape_name_the_field(raw: bytes, field: str) -> None:
    with pytest.raises(errors.ProtocolError) as caught:
        parse_manifest(raw)
    assert caught.value.field == field
    assert isinstance(caught.value, errors.ManifestInvalid)  # still what it was


def _parse_or_error(raw: bytes) -> object:
    try:
        return parse_manifest(raw)
    except errors.ManifestInvalid as exc:
        return exc


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner),
    max_leaves=8,
)


@given(
    config=_JSON,
    layers=_JSON,
    manifests=_JSON,
    annotations=_JSON,
)
def test_any_json_is_a_manifest_or_a_typed_error(
    config: Any, layers: Any, manifests: Any, annotations: Any
) -> None:
    for payload in (
        {"config": config, "layers": layers, "annotations": annotations},
        {"mediaType": OCI_INDEX, "manifests": manifests},
        {"manifests": [{"digest": DIGEST, "size": 1, "platform": manifests}]},
        config,
    ):
        raw = json.dumps(payload).encode()
        outcome = _parse_or_error(raw)
        if isinstance(outcome, errors.ManifestInvalid):  # typed, and it says where
            assert isinstance(outcome, errors.ProtocolError)
            assert outcome.field
        else:
            assert isinstance(outcome, (ImageManifest, ImageIndex))
            assert outcome.raw == raw


# --------------------------------------------------------------------------- listings, headers


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (b'{"tags": "notalist"}', "tags"),
        (b'{"tags": ["a", 1]}', "tags[1]"),
        (b'{"tags": {"a": 1}}', "tags"),
        (b'["x", 1]', "tags"),
        (b'{"message": "hi"', "tags"),
    ],
)
def test_listings_of_the_wrong_shape(body: bytes, field: str) -> None:
    with pytest.raises(errors.ProtocolError) as caught:
        parse_listing(body, "tags")
    assert caught.value.field == field


def test_listings() -> None:
    assert parse_listing(b'{"name": "a", "tags": ["1", "2"]}', "tags") == ["1", "2"]
    assert parse_listing(b'{"name": "a", "tags": null}', "tags") == []
    assert parse_listing(b'{"repositories": []}', "repositories") == []


@pytest.mark.parametrize("value", ["junk", "5-10", "0-x", "0-99999999999999999999999", "-1"])
def test_bad_upload_ranges(value: str) -> None:
    with pytest.raises(errors.ProtocolError) as caught:
        parse_range_end(value)
    assert caught.value.field == "Range"


def test_upload_range_beyond_what_was_sent() -> None:
    assert parse_range_end("0-99", limit=100) == 100
    with pytest.raises(errors.ProtocolError, match="claims more"):
        parse_range_end("0-100", limit=100)


@pytest.mark.parametrize("location", ["", "  ", "javascript:alert(1)", "file:///etc/passwd"])
def test_bad_upload_locations(location: str) -> None:
    with pytest.raises(errors.ProtocolError) as caught:
        resolve_location("http://h/v2/a/blobs/uploads/", location)
    assert caught.value.field == "Location"


def test_digest_headers() -> None:
    assert parse_digest_header(DIGEST) == DIGEST
    assert parse_digest_header(None) is None
    with pytest.raises(errors.ProtocolError) as caught:
        parse_digest_header("sha256:nothex")
    assert caught.value.field == "Docker-Content-Digest"
