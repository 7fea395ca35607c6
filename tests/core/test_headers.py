"""Tests for pydock._core.headers: WWW-Authenticate, Link, Retry-After, redaction."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pydock._core.headers import (
    Challenge,
    parse_link_next,
    parse_retry_after,
    parse_www_authenticate,
    redact_headers,
)

# --------------------------------------------------------------------------- WWW-Authenticate


def test_docker_hub_challenge() -> None:
    value = (
        'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",'
        'scope="repository:library/alpine:pull"'
    )
    assert parse_www_authenticate(value) == [
        Challenge(
            "bearer",
            {
                "realm": "https://auth.docker.io/token",
                "service": "registry.docker.io",
                "scope": "repository:library/alpine:pull",
            },
            scopes=("repository:library/alpine:pull",),
        )
    ]


def test_insufficient_scope_challenge() -> None:
    value = (
        'Bearer realm="https://auth.example/token",service="registry",'
        'scope="repository:a/b:pull,push",error="insufficient_scope"'
    )
    [challenge] = parse_www_authenticate(value)
    assert challenge.scheme == "bearer"
    assert challenge.realm == "https://auth.example/token"
    assert challenge.service == "registry"
    assert challenge.params["scope"] == "repository:a/b:pull,push"
    assert challenge.params["error"] == "insufficient_scope"
    assert challenge.scopes == ("repository:a/b:pull,push",)
    assert challenge.token68 is None


def test_basic_challenge() -> None:
    assert parse_www_authenticate('Basic realm="Registry Realm"') == [
        Challenge("basic", {"realm": "Registry Realm"})
    ]


def test_ecr_style_basic_challenge() -> None:
    value = 'Basic realm="https://123.dkr.ecr.us-east-1.amazonaws.com/",service="ecr.amazonaws.com"'
    [challenge] = parse_www_authenticate(value)
    assert challenge.scheme == "basic"
    assert challenge.service == "ecr.amazonaws.com"


def test_repeated_scope_params_are_all_kept() -> None:
    value = (
        'Bearer realm="https://ghcr.io/token",service="ghcr.io",'
        'scope="repository:a:pull" , scope="repository:b:pull"'
    )
    [challenge] = parse_www_authenticate(value)
    assert challenge.params["scope"] == "repository:b:pull"  # the last one
    assert challenge.scopes == ("repository:a:pull", "repository:b:pull")


def test_space_separated_scopes_are_split() -> None:
    value = 'Bearer realm="r",scope="repository:a:pull repository:b:pull,push  repository:a:pull"'
    [challenge] = parse_www_authenticate(value)
    assert challenge.scopes == ("repository:a:pull", "repository:b:pull,push")


def test_several_challenges_in_one_header() -> None:
    value = 'Basic realm="basic realm", Bearer realm="https://t/token",service="s", Negotiate'
    assert parse_www_authenticate(value) == [
        Challenge("basic", {"realm": "basic realm"}),
        Challenge("bearer", {"realm": "https://t/token", "service": "s"}),
        Challenge("negotiate", {}),
    ]


def test_scheme_and_param_names_are_case_insensitive() -> None:
    [challenge] = parse_www_authenticate('BEARER Realm="https://t", SERVICE=reg, Scope="x:y:pull"')
    assert challenge.scheme == "bearer"
    assert challenge.params == {"realm": "https://t", "service": "reg", "scope": "x:y:pull"}
    assert challenge.scopes == ("x:y:pull",)


def test_quoted_strings_with_escapes_and_commas() -> None:
    value = r'Basic realm="a \"quoted\" realm, with a comma\\", charset="UTF-8"'
    assert parse_www_authenticate(value) == [
        Challenge("basic", {"realm": 'a "quoted" realm, with a comma\\', "charset": "UTF-8"})
    ]


def test_whitespace_around_equals_and_commas() -> None:
    value = 'Bearer  realm = "https://t" ,service= reg ,  scope ="a:b:pull"'
    [challenge] = parse_www_authenticate(value)
    assert challenge.params == {"realm": "https://t", "service": "reg", "scope": "a:b:pull"}


def test_token68() -> None:
    assert parse_www_authenticate("Negotiate YIIB+/==, Basic realm=x") == [
        Challenge("negotiate", {}, token68="YIIB+/=="),
        Challenge("basic", {"realm": "x"}),
    ]


def test_scheme_without_params_followed_by_another() -> None:
    assert parse_www_authenticate("Basic, Bearer realm=x") == [
        Challenge("basic", {}),
        Challenge("bearer", {"realm": "x"}),
    ]


@pytest.mark.parametrize("value", ["", " ", ",,, ,", '=,"', "=x", '"unterminated'])
def test_garbage_gives_no_challenge(value: str) -> None:
    assert parse_www_authenticate(value) == []


def test_unterminated_quote_runs_to_the_end() -> None:
    assert parse_www_authenticate('Bearer realm="https://t, service=x') == [
        Challenge("bearer", {"realm": "https://t, service=x"})
    ]


def test_malformed_param_is_skipped() -> None:
    [challenge] = parse_www_authenticate('Bearer realm="r" junk, bad=, service="s"')
    assert challenge.params == {"realm": "r", "service": "s"}


@given(st.text())
def test_www_authenticate_never_raises(value: str) -> None:
    for challenge in parse_www_authenticate(value):
        assert challenge.scheme == challenge.scheme.lower()
        assert all(name == name.lower() for name in challenge.params)


def test_challenge_is_frozen() -> None:
    challenge = Challenge("basic")
    with pytest.raises(AttributeError):
        challenge.scheme = "bearer"  # type: ignore[misc]


# --------------------------------------------------------------------------- Link


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ('</v2/_catalog?last=x&n=100>; rel="next"', "/v2/_catalog?last=x&n=100"),
        ("</v2/a/tags/list?last=v1&n=50>; rel=next", "/v2/a/tags/list?last=v1&n=50"),
        ('</v2/_catalog?n=1&last=b>;rel="NEXT"', "/v2/_catalog?n=1&last=b"),
        (
            '<https://r.example/v2/_catalog?last=z>; rel="next"',
            "https://r.example/v2/_catalog?last=z",
        ),
        ('</first>; rel="first", </next>; rel="next"', "/next"),
        ('</p>; rel="prev", </n>; title="a, b; rel=next"; rel="last next"', "/n"),
        ('</a,b;c>; rel="next"', "/a,b;c"),
        ('< /spaced >  ;  rel = "next"', "/spaced"),
        ('</x>; type="text/html"; rel=next; anchor="#a"', "/x"),
        ('</a>; rel="nextish", </b>; rel="next"', "/b"),
    ],
)
def test_link_next(value: str, expected: str) -> None:
    assert parse_link_next(value) == expected


@pytest.mark.parametrize(
    "value",
    [
        None,
        "",
        '</prev>; rel="prev"',
        "</x>",
        "</x>; rel",
        '</unterminated; rel="next"',
        'rel="next"',
        "garbage, more garbage",
    ],
)
def test_link_without_next(value: str | None) -> None:
    assert parse_link_next(value) is None


@given(st.text())
def test_link_never_raises(value: str) -> None:
    parse_link_next(value)


# --------------------------------------------------------------------------- Retry-After

NOW = datetime(1994, 11, 6, 8, 49, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("120", 120.0),
        ("0", 0.0),
        (" 7 ", 7.0),
        ("1.5", 1.5),
        ("-3", 0.0),
        ("Sun, 06 Nov 1994 08:49:37 GMT", 37.0),
        ("Sunday, 06-Nov-94 08:49:37 GMT", 37.0),
        ("Sun Nov  6 08:49:37 1994", 37.0),
        ("Sun Nov 16 08:49:00 1994", 10 * 86400.0),
        ("Sun, 06 Nov 1994 08:48:00 GMT", 0.0),
        ("Sat, 05 Nov 1994 08:49:37 GMT", 0.0),
    ],
)
def test_retry_after(value: str, expected: float) -> None:
    assert parse_retry_after(value, now=NOW) == expected


@pytest.mark.parametrize(
    "value",
    [
        None,
        "",
        "soon",
        "1e3",
        "12 seconds",
        "Sun, 06 Nov 1994 08:49:37 PST",
        "Sun, 31 Feb 1994 08:49:37 GMT",
        "Sun, 06 Foo 1994 08:49:37 GMT",
        "Sun, 06 Nov 1994 25:49:37 GMT",
        "06 Nov 1994 08:49:37 GMT",
    ],
)
def test_retry_after_garbage(value: str | None) -> None:
    assert parse_retry_after(value, now=NOW) is None


def test_retry_after_naive_now_is_utc() -> None:
    naive = datetime(1994, 11, 6, 8, 49, 0)
    assert parse_retry_after("Sun, 06 Nov 1994 08:49:30 GMT", now=naive) == 30.0


def test_retry_after_other_timezone_now() -> None:
    paris = timezone(timedelta(hours=1))
    now = datetime(1994, 11, 6, 9, 49, 0, tzinfo=paris)  # 08:49 UTC
    assert parse_retry_after("Sun, 06 Nov 1994 08:50:00 GMT", now=now) == 60.0


def test_retry_after_rfc850_two_digit_year() -> None:
    now = datetime(2049, 12, 31, 23, 59, 0, tzinfo=timezone.utc)
    # "49" is 2049, this very year.
    assert parse_retry_after("Friday, 31-Dec-49 23:59:30 GMT", now=now) == 30.0
    now = datetime(2060, 1, 1, tzinfo=timezone.utc)
    # "99" would be 2099 (39 years ahead), which is within 50 years.
    assert parse_retry_after("Thursday, 01-Jan-99 00:00:00 GMT", now=now) == pytest.approx(
        (datetime(2099, 1, 1, tzinfo=timezone.utc) - now).total_seconds()
    )
    now = datetime(2024, 1, 1, tzinfo=timezone.utc)
    # "99" would be 2099 (75 years ahead): it means 1999, in the past.
    assert parse_retry_after("Friday, 01-Jan-99 00:00:00 GMT", now=now) == 0.0


@given(st.text())
def test_retry_after_never_raises(value: str) -> None:
    result = parse_retry_after(value, now=NOW)
    assert result is None or result >= 0.0


# --------------------------------------------------------------------------- redaction


def test_redact_headers() -> None:
    headers = [
        ("Authorization", "Bearer abc"),
        ("proxy-authorization", "Basic dXNlcjpwYXNz"),
        ("X-Registry-Auth", "eyJ1c2VybmFtZSI6InUifQ=="),
        ("x-registry-config", "e30="),
        ("Content-Type", "application/json"),
        ("X-Authorization-Hint", "kept"),
    ]
    assert redact_headers(headers) == [
        ("Authorization", "[redacted]"),
        ("proxy-authorization", "[redacted]"),
        ("X-Registry-Auth", "[redacted]"),
        ("x-registry-config", "[redacted]"),
        ("Content-Type", "application/json"),
        ("X-Authorization-Hint", "kept"),
    ]


def test_redact_headers_accepts_any_iterable() -> None:
    assert redact_headers(iter([("AUTHORIZATION", "x")])) == [("AUTHORIZATION", "[redacted]")]
    assert redact_headers([]) == []
