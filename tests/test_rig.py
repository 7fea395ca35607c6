"""The test rig itself: both registries answer as the real CNCF registry does.

(The engines are covered by tests/_async/test_client.py and its generated twin.)
"""

from __future__ import annotations

import ssl

import httpx
import pytest

from tests.conftest import RegistryServer


def test_plain_registry_answers_the_distribution_api(registry: RegistryServer) -> None:
    answer = httpx.get(f"{registry.url}/v2/")
    assert answer.status_code == 200
    assert answer.headers["Docker-Distribution-Api-Version"] == "registry/2.0"
    catalog = httpx.get(f"{registry.url}/v2/_catalog", params={"n": 1}).json()
    assert len(catalog["repositories"]) == 1  # paged: other tests push many repositories
    tags = httpx.get(f"{registry.url}/v2/pydock-test/busybox/tags/list").json()
    assert tags == {"name": "pydock-test/busybox", "tags": ["1"]}


def test_auth_registry_needs_credentials_over_tls(auth_registry: RegistryServer) -> None:
    assert auth_registry.ca_cert is not None
    ctx = ssl.create_default_context(cafile=auth_registry.ca_cert)
    anonymous = httpx.get(f"{auth_registry.url}/v2/", verify=ctx)
    assert anonymous.status_code == 401
    assert anonymous.headers["WWW-Authenticate"].startswith("Basic realm=")
    assert auth_registry.username is not None
    assert auth_registry.password is not None
    creds = (auth_registry.username, auth_registry.password)
    answer = httpx.get(f"{auth_registry.url}/v2/", verify=ctx, auth=creds)
    assert answer.status_code == 200
    tags = httpx.get(
        f"{auth_registry.url}/v2/pydock-test/busybox/tags/list", verify=ctx, auth=creds
    ).json()
    assert tags["tags"] == ["1"]
    wrong = httpx.get(f"{auth_registry.url}/v2/", verify=ctx, auth=(creds[0], "wrong"))
    assert wrong.status_code == 401


def test_auth_registry_certificate_is_not_publicly_trusted(auth_registry: RegistryServer) -> None:
    with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
        httpx.get(f"{auth_registry.url}/v2/")
