"""Go duration strings, as HEALTHCHECK flags and the daemonless builder read them."""

from __future__ import annotations

import datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pydock._core.dockerfile import Healthcheck, parse_duration_ns


@pytest.mark.parametrize(
    ("text", "nanoseconds"),
    [
        ("0", 0),
        ("0s", 0),
        ("30s", 30_000_000_000),
        ("1m30s", 90_000_000_000),
        ("1.5h", 5_400_000_000_000),
        ("1h2m3.5s", 3_723_500_000_000),
        (".5s", 500_000_000),
        ("1.s", 1_000_000_000),
        ("300ms", 300_000_000),
        ("10us", 10_000),
        ("10\u00b5s", 10_000),
        ("10\u03bcs", 10_000),
        ("7ns", 7),
        # Go scales a part's fraction in floating point and cuts it to whole ns.
        ("0.3333333333s", 333_333_333),
        ("1.0000000005s", 1_000_000_000),
    ],
)
def test_parse_duration_ns_reads_as_go_does(text: str, nanoseconds: int) -> None:
    assert parse_duration_ns(text) == nanoseconds


@pytest.mark.parametrize("text", ["", "1", "-1s", "1d", "s", "1 s", ".s", "1h 2m", "+1s"])
def test_parse_duration_ns_refuses_what_docker_refuses(text: str) -> None:
    with pytest.raises(ValueError, match="not a duration"):
        parse_duration_ns(text)


@given(st.timedeltas(min_value=datetime.timedelta(0)))
def test_a_timedelta_reads_back_to_the_microsecond(delta: datetime.timedelta) -> None:
    written = Healthcheck(["true"], interval=delta).interval
    assert written is not None
    assert parse_duration_ns(written) == delta // datetime.timedelta(microseconds=1) * 1000
