"""Credentials from docker's config.json and the credential helper protocol, fed data."""

from __future__ import annotations

import base64
import json
import stat
from pathlib import Path

import pytest

from pydock._core.auth import RegistryAuth
from pydock._core.credentials import (
    DOCKER_HUB_CONFIG_KEY,
    HelperRef,
    check_helper_result,
    config_key,
    helper_store_input,
    lookup_credentials,
    parse_helper_get,
    parse_helper_list,
    save_docker_config,
    storage_helper,
    store_credentials,
)
from pydock.errors import InvalidConfiguration, PydockError


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def test_auths_entries_by_any_spelling() -> None:
    config = {
        "auths": {
            "https://index.docker.io/v1/": {"auth": b64("hub:pw")},
            "http://127.0.0.1:5000": {"username": "u", "password": "p"},
            "example.com": {"identitytoken": "tok"},
            "empty.example": {},
        }
    }
    hub = lookup_credentials(config, "docker.io")
    assert isinstance(hub, RegistryAuth)
    assert (hub.username, hub.password) == ("hub", "pw")
    local = lookup_credentials(config, "127.0.0.1:5000")
    assert isinstance(local, RegistryAuth)
    assert local.username == "u"
    token = lookup_credentials(config, "example.com")
    assert isinstance(token, RegistryAuth)
    assert token.identitytoken == "tok"
    assert lookup_credentials(config, "empty.example") is None
    assert lookup_credentials(config, "other.example") is None


def test_password_with_colons() -> None:
    found = lookup_credentials({"auths": {"h": {"auth": b64("u:a:b")}}}, "h")
    assert isinstance(found, RegistryAuth)
    assert found.password == "a:b"


def test_broken_auth_entry() -> None:
    with pytest.raises(InvalidConfiguration, match="'h'"):
        lookup_credentials({"auths": {"h": {"auth": b64("nocolon")}}}, "h")


def test_helpers_win_over_inline_auths() -> None:
    config = {
        "auths": {"h1": {"auth": b64("u:p")}},
        "credsStore": "desktop",
        "credHelpers": {"h2": "gcloud"},
    }
    assert lookup_credentials(config, "h2") == HelperRef("gcloud", "h2")
    assert lookup_credentials(config, "h1") == HelperRef("desktop", "h1")
    assert lookup_credentials(config, "docker.io") == HelperRef("desktop", DOCKER_HUB_CONFIG_KEY)
    assert HelperRef("x", "h").program == "docker-credential-x"
    assert storage_helper(config, "h2") == HelperRef("gcloud", "h2")
    assert storage_helper({"auths": {}}, "h") is None


def test_helper_protocol() -> None:
    ref = HelperRef("t", "h")
    found = parse_helper_get(ref, 0, b'{"ServerURL":"h","Username":"u","Secret":"s"}', b"")
    assert found == RegistryAuth(username="u", password="s", serveraddress="h")
    token = parse_helper_get(ref, 0, b'{"ServerURL":"h","Username":"<token>","Secret":"T"}', b"")
    assert token is not None
    assert token.identitytoken == "T"
    assert parse_helper_get(ref, 1, b"credentials not found in native keychain\n", b"") is None
    with pytest.raises(PydockError, match="docker-credential-t get failed: boom"):
        parse_helper_get(ref, 1, b"", b"boom")
    with pytest.raises(PydockError, match="not JSON"):
        parse_helper_get(ref, 0, b"garbage", b"")
    assert parse_helper_list(ref, 0, b'{"h":"u"}', b"") == {"h": "u"}
    with pytest.raises(PydockError):
        check_helper_result(ref, "store", 2, b"", b"no")
    stored = json.loads(helper_store_input("h", RegistryAuth(username="u", password="p")))
    assert stored == {"ServerURL": "h", "Username": "u", "Secret": "p"}
    stored = json.loads(helper_store_input("h", RegistryAuth(identitytoken="T")))
    assert stored["Username"] == "<token>"
    with pytest.raises(ValueError):
        helper_store_input("h", RegistryAuth())


def test_store_like_docker_login() -> None:
    config = {"auths": {"https://h": {"auth": "old"}}, "credsStore": ""}
    inline = store_credentials(
        config, "h", RegistryAuth(username="u", password="p"), in_helper=False
    )
    assert inline["auths"] == {"h": {"auth": b64("u:p")}}
    in_helper = store_credentials(config, "docker.io", RegistryAuth(username="u", password="p"),
                                  in_helper=True)  # fmt: skip
    assert in_helper["auths"][DOCKER_HUB_CONFIG_KEY] == {}
    removed = store_credentials(inline, "h", None, in_helper=False)
    assert removed["auths"] == {}
    assert config_key("registry-1.docker.io") == DOCKER_HUB_CONFIG_KEY


def test_save_docker_config_is_private(tmp_path: Path) -> None:
    env = {"DOCKER_CONFIG": str(tmp_path / "cfg")}
    path = save_docker_config({"auths": {}}, env)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert json.loads(path.read_text()) == {"auths": {}}
    assert [p.name for p in path.parent.iterdir()] == ["config.json"]
