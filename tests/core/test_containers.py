"""The sans-I/O container core: create bodies, option parsing, models, log lines."""

from __future__ import annotations

import json
import urllib.parse
from datetime import datetime, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pydock._core.containers import (
    ContainerChange,
    ContainerStats,
    Healthcheck,
    LogAssembler,
    LogLine,
    PortBinding,
    PruneReport,
    RestartPolicy,
    TopResult,
    build_create_body,
    container_fields_from_inspect,
    container_fields_from_list,
    container_path,
    docker_since,
    encode_filters,
    normalize_port,
    parse_memory,
    parse_ports,
)
from pydock._core.dialect import quote_path
from pydock._core.streams import STDERR, STDOUT, Frame


@pytest.mark.parametrize(
    ("text", "policy"),
    [
        ("no", RestartPolicy.no()),
        ("", RestartPolicy.no()),
        ("always", RestartPolicy.always()),
        ("unless-stopped", RestartPolicy.unless_stopped()),
        ("on-failure", RestartPolicy.on_failure()),
        ("on-failure:3", RestartPolicy.on_failure(3)),
    ],
)
def test_restart_policy_parses_cli_strings(text: str, policy: RestartPolicy) -> None:
    assert RestartPolicy.parse(text) == policy
    assert RestartPolicy.parse(str(policy)) == policy
    assert RestartPolicy.from_api(policy.to_api()) == policy


@pytest.mark.parametrize("bad", ["sometimes", "always:3", "on-failure:x", "on-failure:-1"])
def test_restart_policy_rejects_garbage(bad: str) -> None:
    with pytest.raises(ValueError):
        RestartPolicy.parse(bad)


def test_restart_policy_api_shape() -> None:
    assert RestartPolicy.on_failure(2).to_api() == {"Name": "on-failure", "MaximumRetryCount": 2}
    assert RestartPolicy.coerce({"Name": "always"}) == RestartPolicy.always()
    assert RestartPolicy.from_api(None) == RestartPolicy.no()


@pytest.mark.parametrize(
    ("key", "port"),
    [(80, "80/tcp"), ("80", "80/tcp"), ("53/udp", "53/udp"), ("8080/TCP", "8080/tcp")],
)
def test_normalize_port(key: int | str, port: str) -> None:
    assert normalize_port(key) == port


@pytest.mark.parametrize("bad", ["http", "0", "70000", "80/icmp", "80:80"])
def test_normalize_port_rejects(bad: str) -> None:
    with pytest.raises(ValueError):
        normalize_port(bad)


def test_create_body_ports_fixed_bound_and_any() -> None:
    body = build_create_body(
        "img",
        ports={80: 8080, "443/tcp": ("127.0.0.1", 8443), "53/udp": None, 9000: [("::1",), 9001]},
    )
    assert set(body["ExposedPorts"]) == {"80/tcp", "443/tcp", "53/udp", "9000/tcp"}
    assert body["HostConfig"]["PortBindings"] == {
        "80/tcp": [{"HostIp": "", "HostPort": "8080"}],
        "443/tcp": [{"HostIp": "127.0.0.1", "HostPort": "8443"}],
        "53/udp": [{"HostIp": "", "HostPort": ""}],
        "9000/tcp": [{"HostIp": "::1", "HostPort": ""}, {"HostIp": "", "HostPort": "9001"}],
    }


def test_create_body_everything() -> None:
    body = build_create_body(
        "img",
        "sh -c 'echo hi'",
        name="ignored-in-body",
        restart="on-failure:3",
        environment={"A": "1", "B": None},
        volumes={"/host": {"bind": "/ctr", "mode": "ro"}, "named": "/data"},
        user="app",
        workdir="/w",
        entrypoint=["/bin/sh"],
        tty=True,
        stdin_open=True,
        labels={"k": "v"},
        hostname="h",
        network_mode="none",
        mem_limit="64m",
        cpus=1.5,
        healthcheck=Healthcheck("true", interval=1.5, retries=2),
    )
    assert body["Cmd"] == ["sh", "-c", "echo hi"]
    assert body["Entrypoint"] == ["/bin/sh"]
    assert body["Env"] == ["A=1", "B="]
    assert body["User"] == "app"
    assert body["WorkingDir"] == "/w"
    assert body["Hostname"] == "h"
    assert body["Tty"] is True
    assert body["OpenStdin"] is True
    assert body["Labels"] == {"k": "v"}
    assert body["Healthcheck"] == {
        "Test": ["CMD-SHELL", "true"],
        "Interval": 1_500_000_000,
        "Retries": 2,
    }
    host = body["HostConfig"]
    assert host["Binds"] == ["/host:/ctr:ro", "named:/data"]
    assert host["RestartPolicy"] == {"Name": "on-failure", "MaximumRetryCount": 3}
    assert host["NetworkMode"] == "none"
    assert host["Memory"] == 64 * 1024**2
    assert host["NanoCpus"] == 1_500_000_000
    assert "ignored-in-body" not in json.dumps(body)


def test_create_body_minimal_and_conflicts() -> None:
    assert build_create_body("img") == {"Image": "img", "Tty": False}
    with pytest.raises(ValueError):
        build_create_body("img", auto_remove=True, restart="always")
    with pytest.raises(ValueError):
        build_create_body("img", cpus=1, nano_cpus=10)
    with pytest.raises(ValueError):
        build_create_body("img", volumes=["relative-without-target"])


@pytest.mark.parametrize(
    ("text", "size"),
    [("64m", 64 * 1024**2), ("1g", 1024**3), ("512k", 524288), ("100", 100), (7, 7)],
)
def test_parse_memory(text: str | int, size: int) -> None:
    assert parse_memory(text) == size


def test_parse_ports_both_shapes() -> None:
    inspect = {"80/tcp": [{"HostIp": "127.0.0.1", "HostPort": "32768"}], "443/tcp": None}
    assert parse_ports(inspect) == {
        "80/tcp": [PortBinding("127.0.0.1", 32768)],
        "443/tcp": [],
    }
    listed = [
        {"IP": "127.0.0.1", "PrivatePort": 80, "PublicPort": 32768, "Type": "tcp"},
        {"PrivatePort": 443, "Type": "tcp"},
    ]
    assert parse_ports(listed) == {"80/tcp": [PortBinding("127.0.0.1", 32768)], "443/tcp": []}


def test_filters_encoding() -> None:
    encoded = encode_filters(
        {"label": {"a": "b", "c": None}, "status": "exited", "name": ["x", "y"]}
    )
    assert encoded is not None
    assert json.loads(encoded) == {"label": ["a=b", "c"], "status": ["exited"], "name": ["x", "y"]}
    assert encode_filters(None) is None


INSPECT = {
    "Id": "abc123",
    "Name": "/web",
    "Created": "2026-11-28T02:47:09.286207691Z",
    "Image": "sha256:fcd9",
    "RestartCount": 2,
    "Config": {"Image": "busybox:1", "Labels": {"a": "b"}, "Tty": True},
    "HostConfig": {"RestartPolicy": {"Name": "on-failure", "MaximumRetryCount": 2}},
    "State": {
        "Status": "exited",
        "Running": False,
        "ExitCode": 1,
        "StartedAt": "2026-11-28T02:47:09.888757328Z",
        "FinishedAt": "0001-01-01T00:00:00Z",
        "Health": {"Status": "healthy"},
    },
    "NetworkSettings": {"Ports": {"80/tcp": [{"HostIp": "", "HostPort": "8080"}]}},
}


def test_container_fields_from_inspect() -> None:
    fields = container_fields_from_inspect(INSPECT)
    assert fields["id"] == "abc123"
    assert fields["name"] == "web"
    assert fields["image"] == "busybox:1"
    assert fields["image_id"] == "sha256:fcd9"
    assert fields["status"] == "exited"
    assert fields["restart_count"] == 2
    assert fields["restart_policy"] == RestartPolicy.on_failure(2)
    assert fields["tty"] is True
    assert fields["created"] == datetime(2026, 11, 28, 2, 47, 9, 286207, tzinfo=timezone.utc)
    state = fields["state"]
    assert state.exit_code == 1
    assert state.finished_at is None
    assert state.health == "healthy"
    assert fields["ports"] == {"80/tcp": [PortBinding("", 8080)]}


def test_container_fields_from_list() -> None:
    fields = container_fields_from_list(
        {"Id": "x", "Names": ["/n"], "Image": "img", "State": "running", "Created": 1795834029}
    )
    assert fields["name"] == "n"
    assert fields["status"] == "running"
    assert fields["restart_count"] is None
    assert fields["state"] is None
    assert fields["created"] is not None
    assert fields["created"].year == 2026


def test_small_models() -> None:
    report = PruneReport.from_api({"ContainersDeleted": ["a"], "SpaceReclaimed": 5})
    assert report == PruneReport(["a"], 5)
    assert PruneReport.from_api({"ContainersDeleted": None}) == PruneReport([], 0)
    assert ContainerChange.from_api({"Path": "/x", "Kind": 2}).kind == "deleted"
    podman = TopResult.from_api(
        {"Titles": ["PID   USER     COMMAND"], "Processes": [["1 root sleep 30"]]}
    )
    assert podman.titles == ["PID", "USER", "COMMAND"]
    assert podman.processes == [["1", "root", "sleep 30"]]
    stats = ContainerStats.from_api(
        {
            "cpu_stats": {
                "cpu_usage": {"total_usage": 300},
                "system_cpu_usage": 2000,
                "online_cpus": 2,
            },
            "precpu_stats": {"cpu_usage": {"total_usage": 100}, "system_cpu_usage": 1000},
            "memory_stats": {"usage": 1000, "limit": 4000, "stats": {"inactive_file": 200}},
            "pids_stats": {"current": 3},
        }
    )
    assert stats.cpu_percent == pytest.approx(40.0)
    assert (stats.memory_usage, stats.memory_limit, stats.pids) == (800, 4000, 3)


def test_log_assembler_splits_per_stream_and_parses_timestamps() -> None:
    asm = LogAssembler(timestamps=True)
    lines = asm.feed(
        [
            Frame(STDOUT, b"2026-11-28T02:47:19.836700667Z hel"),
            Frame(STDERR, b"2026-11-28T02:47:25Z err\n"),
            Frame(STDOUT, b"lo\n"),
        ]
    )
    assert [(x.stream, x.data) for x in lines] == [("stderr", b"err\n"), ("stdout", b"hello\n")]
    assert lines[1].timestamp == datetime(2026, 11, 28, 2, 47, 19, 836700, tzinfo=timezone.utc)
    assert asm.flush() == []


@given(st.lists(st.binary(max_size=50), max_size=20), st.integers(min_value=1, max_value=16))
def test_log_assembler_keeps_every_byte_and_bounds_lines(chunks: list[bytes], limit: int) -> None:
    asm = LogAssembler(max_line=limit)
    out: list[LogLine] = []
    for chunk in chunks:
        out += asm.feed([Frame(STDOUT, chunk)] if chunk else [])
    out += asm.flush()
    assert b"".join(x.data for x in out) == b"".join(chunks)
    for line in out:
        assert len(line.data) <= limit + 1 or line.data.count(b"\n") == 1


def test_docker_since() -> None:
    assert docker_since(None) is None
    assert docker_since(1700000000) == "1700000000"
    assert docker_since(1.5) == "1.5"
    assert docker_since(datetime(2023, 11, 14, 22, 13, 20, tzinfo=timezone.utc)) == "1700000000"
    assert docker_since("10m") == "10m"


# --------------------------------------------------------------------------- paths (defect 8)


@pytest.mark.parametrize(
    ("name", "path"),
    [
        ("web", "/containers/web/json"),
        ("/web", "/containers/web/json"),
        ("a1b2c3", "/containers/a1b2c3/json"),
        ("my_app.v1-2", "/containers/my_app.v1-2/json"),
    ],
)
def test_container_path_for_names_and_ids(name: str, path: str) -> None:
    assert container_path(name, "/json") == path


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "/",
        "x/",
        "//x",
        "../containers/x",
        "x?y=1",
        "x#y",
        ".",
        "..",
        "x/../y",
        "%2e",
        "a b",
        ".x",
        "-x",
        "x\n",
        "é",
    ],
)
def test_container_path_refuses_what_no_container_can_be_called(bad: str) -> None:
    assert container_path(bad, "/json") is None


@given(st.text(max_size=30))
def test_container_path_never_leaves_its_segment(name: str) -> None:
    path = container_path(name, "/json")
    if path is not None:
        segment = path.removeprefix("/containers/").removesuffix("/json")
        assert not {"/", "?", "#"} & set(segment)
        assert segment not in (".", "..")


@given(st.text(max_size=30))
def test_quote_path_keeps_every_value_in_one_segment(value: str) -> None:
    quoted = quote_path(value)
    assert not {"/", "?", "#"} & set(quoted)
    assert quoted not in (".", "..")
    assert urllib.parse.unquote(quoted) == value
