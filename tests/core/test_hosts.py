"""One loopback rule: an engine pull's TLS default and ``Registry``'s plain-HTTP fallback agree."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pydock._core.hosts import is_loopback
from pydock._core.images import resolve_tls_verify
from pydock._core.registry import base_urls

CASES = [
    ("localhost", True),
    ("LocalHost", True),
    ("localhost:5000", True),
    ("foo.localhost", True),
    ("foo.localhost:5000", True),
    ("127.0.0.1:5000", True),
    ("127.0.0.2", True),
    ("127.3.4.5", True),
    ("[::1]", True),
    ("[::1]:5000", True),
    ("::1", True),
    ("10.0.0.1", False),
    ("10.0.0.1:5000", False),
    ("docker.io", False),
    ("registry.example:5000", False),
    ("localhost.example.com", False),
    ("notlocalhost", False),
    ("[::2]:5000", False),
]


@pytest.mark.parametrize(("host", "loopback"), CASES)
def test_is_loopback(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


@pytest.mark.parametrize(("host", "loopback"), CASES)
def test_engine_pull_tls_default_follows_the_rule(host: str, loopback: bool) -> None:
    # Podman is told tlsVerify; verification is off exactly for loopback registries.
    assert resolve_tls_verify(host, None, "podman") is not loopback


@pytest.mark.parametrize(("host", "loopback"), CASES)
def test_registry_plain_http_fallback_follows_the_rule(host: str, loopback: bool) -> None:
    urls = base_urls(host)
    assert urls[0] == f"https://{host}"
    assert (f"http://{host}" in urls) is loopback


@given(st.one_of(st.text(max_size=40), st.ip_addresses().map(str)))
def test_both_callers_agree_on_any_host(host: str) -> None:
    plain_http = len(base_urls(host)) == 2
    tls_off = not resolve_tls_verify(host, None, "podman")
    assert plain_http is tls_off is is_loopback(host)
