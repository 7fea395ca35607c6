"""Engine answers of the wrong shape raise ProtocolError naming the field (issue 13, defect 6).

Every decoder is fed crafted payloads (a list where an object belongs, a
string where a list belongs...) and, with Hypothesis, arbitrary JSON: the
only exception allowed out of a decoder is ProtocolError.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pydock._core.containers import (
    ContainerChange,
    ContainerEvent,
    ContainerState,
    ContainerStats,
    PruneReport,
    TopResult,
    container_fields_from_inspect,
    container_fields_from_list,
    created_id,
)
from pydock._core.images import (
    PullDecoder,
    PushDecoder,
    history_from_api,
    image_fields,
    prune_report_from_api,
    remove_report_from_api,
)
from pydock._core.models import EngineInfo, EngineVersion
from pydock._core.shapes import get_int, get_str_list, list_, object_
from pydock.errors import ProtocolError, PydockError, StreamError

DECODERS: dict[str, Callable[[Any], object]] = {
    "container list entry": container_fields_from_list,
    "container inspect": container_fields_from_inspect,
    "container state": ContainerState.from_api,
    "top": TopResult.from_api,
    "change": ContainerChange.from_api,
    "stats": ContainerStats.from_api,
    "event": ContainerEvent.from_api,
    "container prune": PruneReport.from_api,
    "image inspect": lambda p: image_fields(p, "docker"),
    "image history": lambda p: history_from_api(p, "podman", {}),
    "image remove": lambda p: remove_report_from_api(p, "docker"),
    "image prune": lambda p: prune_report_from_api(p, "docker"),
    "version": EngineVersion.from_api,
    "info": EngineInfo.from_api,
}


@pytest.mark.parametrize(
    ("decoder", "payload", "field"),
    [
        ("container list entry", ["x", 1], None),
        ("container list entry", {"Id": "a", "Names": "notalist"}, "Names"),
        ("container list entry", {"Id": 5}, "Id"),
        ("container list entry", {"Id": "a", "Ports": "80"}, "Ports"),
        (
            "container list entry",
            {"Id": "a", "Ports": [{"PrivatePort": "x"}]},
            "Ports[0].PrivatePort",
        ),
        ("container list entry", {"Id": "a", "Labels": ["a"]}, "Labels"),
        ("container inspect", {"message": "x", "Config": []}, "Config"),
        ("container inspect", {"Id": "a", "State": {"Pid": "x"}}, "State.Pid"),
        ("container inspect", {"Id": "a", "State": "running"}, "State"),
        (
            "container inspect",
            {"Id": "a", "NetworkSettings": {"Ports": {"80/tcp": "x"}}},
            "NetworkSettings.Ports.80/tcp",
        ),
        (
            "container inspect",
            {"Id": "a", "HostConfig": {"RestartPolicy": []}},
            "HostConfig.RestartPolicy",
        ),
        ("top", {"Titles": "PID", "Processes": []}, "Titles"),
        ("top", {"Titles": ["PID"], "Processes": [["1"], "2"]}, "Processes[1]"),
        ("change", {"Path": "/x", "Kind": "added"}, "Kind"),
        ("stats", {"cpu_stats": []}, "cpu_stats"),
        ("stats", {"memory_stats": {"usage": "big"}}, "memory_stats.usage"),
        ("event", {"Type": "container", "Actor": "x"}, "Actor"),
        ("container prune", {"ContainersDeleted": "abc"}, "ContainersDeleted"),
        ("image inspect", [], None),
        ("image inspect", {"Id": "sha256:a", "RepoTags": "busybox:1"}, "RepoTags"),
        ("image inspect", {"Id": "sha256:a", "Config": {"Env": "A=1"}}, "Config.Env"),
        ("image inspect", {"Id": "sha256:a", "Size": "1"}, "Size"),
        ("image history", {"message": "x"}, None),
        ("image history", [{"Id": "a"}, "x"], "[1]"),
        ("image remove", {"message": "x"}, None),
        ("image prune", {"ImagesDeleted": {"a": 1}}, "ImagesDeleted"),
        ("version", ["x", 1], None),
        ("version", {"Version": 1}, "Version"),
        ("version", {"Components": {"Name": "x"}}, "Components"),
        ("info", {"NCPU": "two"}, "NCPU"),
    ],
)
def test_wrong_shape_is_a_protocol_error_naming_the_field(
    decoder: str, payload: object, field: str | None
) -> None:
    with pytest.raises(ProtocolError) as caught:
        DECODERS[decoder](payload)
    assert caught.value.field == field
    assert "wrong shape" in caught.value.message


@pytest.mark.parametrize("bad", ["", "../containers/x", "x/kill", "x?y=1", 5])
def test_ids_that_could_leave_a_request_path_are_refused(bad: object) -> None:
    # Ids from create, exec create and inspect go into later request paths.
    with pytest.raises(ProtocolError) as caught:
        created_id({"Id": bad, "Warnings": []})
    assert caught.value.field == "Id"
    with pytest.raises(ProtocolError) as listed:
        container_fields_from_list({"Id": bad}, "[2]")
    assert listed.value.field == "[2].Id"


def test_names_that_are_a_string_do_not_become_a_letter() -> None:
    # Before: "notalist"[0] made the container's name "n".
    with pytest.raises(ProtocolError, match="Names is a string, not a list"):
        container_fields_from_list({"Id": "a", "Names": "notalist"})


def test_helpers_name_where_an_item_is_wrong() -> None:
    with pytest.raises(ProtocolError) as caught:
        get_str_list({"RepoTags": ["a", 3]}, "RepoTags", "[2]")
    assert caught.value.field == "[2].RepoTags[1]"
    assert get_int({"n": 3.0}, "n") == 3
    with pytest.raises(ProtocolError):
        get_int({"n": True}, "n")
    with pytest.raises(ProtocolError):
        get_int({"n": 1.5}, "n")
    with pytest.raises(ProtocolError):
        object_([], "")
    with pytest.raises(ProtocolError):
        list_({}, "")


def test_progress_streams_refuse_lines_that_are_not_objects() -> None:
    for decoder in (PullDecoder("docker", "x"), PushDecoder()):
        with pytest.raises(StreamError, match="expected a JSON object"):
            decoder.feed(b'["x", 1]\n')


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(
                [
                    "Id",
                    "Names",
                    "Name",
                    "Image",
                    "State",
                    "Status",
                    "Ports",
                    "Labels",
                    "Config",
                    "NetworkSettings",
                    "HostConfig",
                    "RestartPolicy",
                    "Pid",
                    "ExitCode",
                    "Created",
                    "Titles",
                    "Processes",
                    "Path",
                    "Kind",
                    "cpu_stats",
                    "precpu_stats",
                    "cpu_usage",
                    "total_usage",
                    "memory_stats",
                    "usage",
                    "stats",
                    "Actor",
                    "Attributes",
                    "RepoTags",
                    "RepoDigests",
                    "Size",
                    "Env",
                    "Cmd",
                    "ExposedPorts",
                    "Components",
                    "Version",
                    "ApiVersion",
                    "NCPU",
                    "ImagesDeleted",
                    "Untagged",
                    "Deleted",
                    "ContainersDeleted",
                    "SpaceReclaimed",
                    "PrivatePort",
                    "PublicPort",
                    "Health",
                    "80/tcp",
                    "HostPort",
                    "timeNano",
                    "Tags",
                    "Comment",
                    "CreatedBy",
                    "limit",
                    "pids_stats",
                    "current",
                    "online_cpus",
                    "percpu_usage",
                    "MaximumRetryCount",
                ]
            )
            | st.text(max_size=4),
            children,
            max_size=6,
        )
    ),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(name=st.sampled_from(sorted(DECODERS)), payload=json_values)
def test_arbitrary_json_gives_a_result_or_a_protocol_error(name: str, payload: object) -> None:
    with contextlib.suppress(ProtocolError):
        DECODERS[name](payload)


@settings(max_examples=200, deadline=None)
@given(lines=st.lists(json_values, max_size=4))
def test_arbitrary_progress_lines_give_events_or_pydock_errors(lines: list[object]) -> None:
    data = b"".join(json.dumps(line).encode() + b"\n" for line in lines)
    for decoder in (PullDecoder("docker", "x"), PullDecoder("podman", "x"), PushDecoder()):
        # PullError/PushError for an error line, StreamError for a line that is no object.
        with contextlib.suppress(PydockError):
            decoder.feed(data)
            decoder.flush()


@pytest.mark.parametrize("good", ["3f4c1a", "sha256:" + "ab" * 32, "my_exec-1.2"])
def test_real_ids_are_accepted(good: str) -> None:
    # Docker's commit answers a prefixed image id; containers and execs are plain hex.
    assert created_id({"Id": good}) == good
