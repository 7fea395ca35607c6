"""Bad arguments are typed errors naming the parameter, before any I/O (issue 13, defect 11)."""

from __future__ import annotations

import math
from typing import Any

import pytest

from pydock._core.containers import (
    build_create_body,
    check_host_ip,
    check_seconds,
    check_signal,
    check_wait_condition,
    environment_list,
    port_bindings,
)
from pydock._core.reference import ImageReference
from pydock.errors import InvalidConfiguration, InvalidReference

# --------------------------------------------------------------------------- seconds


@pytest.mark.parametrize("value", [-5, -1, -0.001, math.nan, math.inf, -math.inf])
def test_seconds_must_be_finite_and_not_negative(value: float) -> None:
    with pytest.raises(InvalidConfiguration, match=r"^timeout must be a finite number"):
        check_seconds(value, "timeout")


@pytest.mark.parametrize("value", ["10", True, [1], object()])
def test_seconds_must_be_a_number(value: object) -> None:
    with pytest.raises(InvalidConfiguration, match=r"^grace must be a number of seconds"):
        check_seconds(value, "grace")


@pytest.mark.parametrize(("value", "expected"), [(None, None), (0, 0.0), (2.5, 2.5), (10, 10.0)])
def test_seconds_that_are_fine_pass(value: float | None, expected: float | None) -> None:
    assert check_seconds(value, "timeout") == expected


def test_wait_condition_is_one_of_the_engines() -> None:
    for condition in ("not-running", "next-exit", "removed"):
        assert check_wait_condition(condition) == condition
    with pytest.raises(InvalidConfiguration, match=r"^condition must be one of .* not 'stopped'"):
        check_wait_condition("stopped")


# --------------------------------------------------------------------------- host IPs


@pytest.mark.parametrize("ip", ["999.1.1.1", "1.2.3", "localhost", "::g", "[::1", " 1.2.3.4"])
def test_a_host_ip_must_be_an_address(ip: str) -> None:
    with pytest.raises(InvalidConfiguration, match=r"^ports: .* is not a host IP address"):
        check_host_ip(ip)


@pytest.mark.parametrize(
    ("ip", "sent"),
    [
        ("", ""),
        ("0.0.0.0", "0.0.0.0"),
        ("127.0.0.1", "127.0.0.1"),
        ("::1", "::1"),
        ("[::1]", "::1"),
    ],
)
def test_host_ips_that_are_fine_pass(ip: str, sent: str) -> None:
    assert check_host_ip(ip) == sent


def test_port_bindings_check_the_host_ip() -> None:
    with pytest.raises(InvalidConfiguration, match=r"'999\.1\.1\.1' is not a host IP address"):
        port_bindings({80: ("999.1.1.1", 8080)})
    with pytest.raises(InvalidConfiguration, match="a host IP must be a string"):
        port_bindings({80: (1234, 8080)})
    assert port_bindings({80: ("127.0.0.1", 8080)})[1] == {
        "80/tcp": [{"HostIp": "127.0.0.1", "HostPort": "8080"}]
    }


# --------------------------------------------------------------------------- environment


@pytest.mark.parametrize(
    ("environment", "message"),
    [
        ({"A=B": 1}, r"^environment: 'A=B' is not a variable name"),
        ({"": "x"}, r"^environment: '' is not a variable name"),
        ({1: "x"}, r"^environment: a variable name must be a string, not 1"),
        ({"A": ["x"]}, r"^environment: the value of 'A' must be a string or a number"),
        ({"A": b"x"}, r"^environment: the value of 'A' must be a string or a number"),
        ({"A": True}, r"^environment: the value of 'A' must be a string or a number"),
        ({"A": "x\0y"}, r"^environment: the value of 'A' contains a NUL"),
        (["=x"], r"^environment: '' is not a variable name"),
        ([1], r"^environment: entries must be 'NAME=VALUE' strings, not 1"),
        ("A=1", r"^environment must be a mapping or a list of 'NAME=VALUE' strings"),
    ],
)
def test_bad_environments_are_refused(environment: Any, message: str) -> None:
    with pytest.raises(InvalidConfiguration, match=message):
        environment_list(environment)
    with pytest.raises(InvalidConfiguration, match=message):
        build_create_body("busybox", environment=environment)


def test_environments_that_are_fine_pass() -> None:
    assert environment_list({"A": "1", "B": 2, "C": None, "D": 1.5, "E": "x=y"}) == [
        "A=1",
        "B=2",
        "C=",
        "D=1.5",
        "E=x=y",
    ]
    assert environment_list(["A=1", "UNSET", "B="]) == ["A=1", "UNSET", "B="]


# --------------------------------------------------------------------------- references


@pytest.mark.parametrize("text", ["localhost:99999/x", "localhost:65536/x", "10.0.0.1:0/x"])
def test_a_registry_port_out_of_range_is_refused(text: str) -> None:
    with pytest.raises(InvalidReference, match=r"port .* is out of range"):
        ImageReference.parse(text)
    with pytest.raises(InvalidReference, match=r"port .* is out of range"):
        ImageReference.parse(text, normalize=False)
    with pytest.raises(InvalidReference, match=r"port .* is out of range"):
        ImageReference(text.split("/")[0], "x")


@pytest.mark.parametrize("text", ["localhost:65535/x", "localhost:1/x", "[::1]:5000/x"])
def test_registry_ports_in_range_pass(text: str) -> None:
    assert str(ImageReference.parse(text)) == text


# --------------------------------------------------------------------------- signals


@pytest.mark.parametrize(
    ("signal", "sent"),
    [
        ("SIGKILL", "SIGKILL"),
        ("TERM", "TERM"),
        ("SIGRTMIN+3", "SIGRTMIN+3"),
        (9, "9"),
        ("15", "15"),
    ],
)
def test_signals_that_are_fine_pass(signal: str | int, sent: str) -> None:
    assert check_signal(signal) == sent


@pytest.mark.parametrize("signal", [-1, 0, 65, True, "", "SIG KILL", "-9", "9x", None, 1.5])
def test_a_signal_must_be_a_name_or_a_number(signal: object) -> None:
    with pytest.raises(InvalidConfiguration, match=r"^signal must be a signal name"):
        check_signal(signal)
