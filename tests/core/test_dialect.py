"""Backend detection, version negotiation and endpoint paths, from real /version answers."""

from __future__ import annotations

from typing import Any

import pytest

from pydock._core.dialect import Session, facts_from_ping, facts_from_version, parse_version
from pydock.errors import InvalidConfiguration, UnsupportedFeature

# Shapes as the real engines answer /version (trimmed).
DOCKER_VERSION: dict[str, Any] = {
    "Platform": {"Name": ""},
    "Components": [
        {"Name": "Engine", "Version": "20.10.24+dfsg1", "Details": {"ApiVersion": "1.41"}},
        {"Name": "containerd", "Version": "1.6.20~ds1"},
    ],
    "Version": "20.10.24+dfsg1",
    "ApiVersion": "1.41",
    "MinAPIVersion": "1.12",
    "Os": "linux",
}
PODMAN_VERSION: dict[str, Any] = {
    "Platform": {"Name": "linux/amd64/debian-12"},
    "Components": [
        {
            "Name": "Podman Engine",
            "Version": "4.3.1",
            "Details": {"APIVersion": "4.3.1", "MinAPIVersion": "4.0.0"},
        },
        {"Name": "Conmon", "Version": "conmon version 2.1.6"},
    ],
    "Version": "4.3.1",
    "ApiVersion": "1.41",
    "MinAPIVersion": "1.24",
    "Os": "linux",
}


def test_docker_is_detected() -> None:
    facts = facts_from_version(DOCKER_VERSION)
    assert facts.backend == "docker"
    assert facts.api_version == (1, 41)
    assert facts.libpod_version is None


def test_podman_is_detected_from_its_component() -> None:
    facts = facts_from_version(PODMAN_VERSION)
    assert facts.backend == "podman"
    assert facts.api_version == (1, 41)
    assert facts.libpod_version == (4, 3, 1)


def test_paths_per_dialect() -> None:
    docker = Session()
    docker.apply(facts_from_version(DOCKER_VERSION))
    assert docker.path("/containers/json", "/containers/json") == "/v1.41/containers/json"
    podman = Session()
    podman.apply(facts_from_version(PODMAN_VERSION))
    assert podman.path("/containers/json", "/containers/json") == "/v4.3.1/libpod/containers/json"
    assert podman.path("/info") == "/v1.41/info"


def test_negotiation_takes_the_lower_version() -> None:
    newer = dict(DOCKER_VERSION, ApiVersion="1.99")
    session = Session()
    session.apply(facts_from_version(newer))
    assert session.docker_prefix() == "/v1.45"


def test_explicit_version_wins() -> None:
    session = Session(api_version_choice="1.30")
    session.apply(facts_from_version(DOCKER_VERSION))
    assert session.docker_prefix() == "/v1.30"


def test_forced_backend_wins() -> None:
    session = Session(backend_choice="docker")
    session.apply(facts_from_version(PODMAN_VERSION))
    assert session.backend == "docker"
    assert session.path("/containers/json", "/containers/json") == "/v1.41/containers/json"


def test_unsupported_feature_is_raised_before_sending() -> None:
    session = Session(api_version_choice="1.24")
    session.apply(facts_from_version(DOCKER_VERSION))
    with pytest.raises(UnsupportedFeature, match=r"platform .* needs API 1\.32"):
        session.require("platform")
    session.require("unknown-feature")  # unknown features are not gated


def test_bad_backend_and_version() -> None:
    with pytest.raises(InvalidConfiguration, match="backend must be"):
        Session(backend_choice="kubernetes")  # type: ignore[arg-type]
    with pytest.raises(InvalidConfiguration, match="not an API version"):
        parse_version("one.two")
    with pytest.raises(InvalidConfiguration, match="no ApiVersion"):
        facts_from_version({"Version": "x"})


def test_facts_from_ping_headers_as_the_engines_send_them() -> None:
    docker = facts_from_ping(
        {"Api-Version": "1.41", "Ostype": "linux", "Server": "Docker/20.10.24+dfsg1 (linux)"}
    )
    assert docker is not None
    assert (docker.backend, docker.api_version, docker.libpod_version) == ("docker", (1, 41), None)
    assert docker.version == "20.10.24+dfsg1"
    podman = facts_from_ping(
        {
            "api-version": "1.41",
            "libpod-api-version": "4.3.1",
            "server": "Libpod/4.3.1 (linux)",
        }
    )
    assert podman is not None
    assert (podman.backend, podman.api_version, podman.libpod_version) == (
        "podman",
        (1, 41),
        (4, 3, 1),
    )
    assert facts_from_ping({"Server": "Docker/1.12"}) is None  # too old to say: ask /version
    assert facts_from_ping({"Api-Version": "garbage"}) is None
