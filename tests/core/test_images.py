"""pydock._core.images: answers recorded from Docker 20.10 and Podman 4.3.1, fed back in."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pydock._core.images import (
    ImageConfig,
    ImagePruneReport,
    Platform,
    PullDecoder,
    PullProgress,
    PushDecoder,
    SearchResult,
    build_filters,
    filter_by_reference,
    history_from_api,
    image_fields,
    image_path,
    import_id_from_docker,
    import_params,
    list_request,
    load_names_from_docker,
    normalize_id,
    normalize_name,
    prune_params,
    prune_report_from_api,
    pull_params,
    push_request,
    remove_report_from_api,
    resolve_tls_verify,
    search_domain,
    search_results_from_api,
    tag_params,
)
from pydock._core.reference import ImageReference
from pydock.errors import (
    ImageNotFound,
    InvalidReference,
    PullError,
    PullUnauthorized,
    PushError,
    PushUnauthorized,
    StreamError,
    Unauthorized,
    UnsupportedFeature,
)

HEX_A = "fcd9ae13c05e57df8406b8367c8c760bb4d251dfc1e4ef9da1ae87c3d34574aa"
HEX_P = "c0ff70f3a0d5c9c4a7c2b08c682ccbb2072efcb2c9807d3db56746a322190757"
DIGEST = "sha256:7649da165cabe56e2a018be88995097096c537fb337df6927908d16ea7e3b61c"

# GET /v1.41/images/pydock-test/busybox:1/json on Docker (GraphDriver trimmed).
DOCKER_INSPECT: dict[str, Any] = {
    "Id": f"sha256:{HEX_A}",
    "RepoTags": ["pydock-test/busybox:1"],
    "RepoDigests": [],
    "Parent": "",
    "Comment": "Imported from -",
    "Created": "2026-11-28T02:36:16.204151497Z",
    "Container": "",
    "DockerVersion": "20.10.24+dfsg1",
    "Author": "",
    "Config": {
        "Hostname": "",
        "User": "",
        "Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
        "Cmd": ["sh"],
        "Image": "",
        "Volumes": None,
        "WorkingDir": "",
        "Entrypoint": None,
        "OnBuild": None,
        "Labels": None,
    },
    "Architecture": "amd64",
    "Os": "linux",
    "Size": 1991411,
    "VirtualSize": 1991411,
    "RootFS": {
        "Type": "layers",
        "Layers": ["sha256:e10757ff3e30147d81afcc5f5cd8a6165affb31e18986c82eaa24e62e07c9843"],
    },
    "Metadata": {"LastTagTime": "2026-11-28T02:36:16.602439775Z"},
}

# GET /v4.3.1/libpod/images/pydock-test/busybox:1/json on Podman (GraphDriver trimmed).
LIBPOD_INSPECT: dict[str, Any] = {
    "Id": HEX_P,
    "Digest": DIGEST,
    "RepoTags": ["localhost/pydock-test/busybox:1"],
    "RepoDigests": [f"localhost/pydock-test/busybox@{DIGEST}"],
    "Parent": "",
    "Comment": "imported from tarball",
    "Created": "2026-11-28T02:36:16.274564573Z",
    "Config": {
        "Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
        "Cmd": ["sh"],
    },
    "Version": "",
    "Author": "",
    "Architecture": "amd64",
    "Os": "linux",
    "Size": 2243743,
    "VirtualSize": 2243743,
    "Labels": None,
    "Annotations": {},
    "ManifestType": "application/vnd.oci.image.manifest.v1+json",
    "User": "",
    "NamesHistory": ["localhost/pydock-test/busybox:1"],
}

DOCKER_PULL = b"""{"status":"Pulling from capture/rand","id":"1"}
{"status":"Pulling fs layer","progressDetail":{},"id":"8cde924cae83"}
{"status":"Downloading","progressDetail":{"current":36412,"total":3001190},"progress":"[>   ]  36.41kB/3.001MB","id":"8cde924cae83"}
{"status":"Verifying Checksum","progressDetail":{},"id":"8cde924cae83"}
{"status":"Download complete","progressDetail":{},"id":"8cde924cae83"}
{"status":"Extracting","progressDetail":{"current":32768,"total":3001190},"progress":"[>  ]  32.77kB/3.001MB","id":"8cde924cae83"}
{"status":"Extracting","progressDetail":{"current":3001190,"total":3001190},"progress":"[==>]  3.001MB/3.001MB","id":"8cde924cae83"}
{"status":"Pull complete","progressDetail":{},"id":"8cde924cae83"}
{"status":"Digest: sha256:a12ef60936c1da3e9608254e758638140f4dd793da7a8153af2b2c3bac20518f"}
{"status":"Status: Downloaded newer image for 127.0.0.1:5000/capture/rand:1"}
"""  # noqa: E501

LIBPOD_PULL = b"""{"stream":"Trying to pull 127.0.0.1:5000/capture/rand:1...\\n"}
{"stream":"Getting image source signatures\\n"}
{"stream":"Copying blob sha256:8cde924cae831a4fecc65b3623a647ee8e7d95808b88e6ba3a632804fca9de4a\\n"}
{"stream":"Copying config sha256:0c95716b3014172f1ea74080ca65fd4f610164b596c90d1291efcc112689a581\\n"}
{"stream":"Writing manifest to image destination\\n"}
{"stream":"Storing signatures\\n"}
{"images":["0c95716b3014172f1ea74080ca65fd4f610164b596c90d1291efcc112689a581"],"id":"0c95716b3014172f1ea74080ca65fd4f610164b596c90d1291efcc112689a581"}
"""  # noqa: E501

LIBPOD_PULL_HTTP_ERROR = b"""{"stream":"Trying to pull 127.0.0.1:5000/pydock-test/busybox:1...\\n"}
{"error":"initializing source docker://127.0.0.1:5000/pydock-test/busybox:1: pinging container registry 127.0.0.1:5000: Get \\"https://127.0.0.1:5000/v2/\\": http: server gave HTTP response to HTTPS client"}
"""  # noqa: E501

LIBPOD_PULL_MISSING = b"""{"stream":"Trying to pull 127.0.0.1:5000/capture/missing:1...\\n"}
{"error":"initializing source docker://127.0.0.1:5000/capture/missing:1: reading manifest 1 in 127.0.0.1:5000/capture/missing: manifest unknown: manifest unknown"}
"""  # noqa: E501

DOCKER_PUSH = b"""{"status":"The push refers to repository [127.0.0.1:5000/capture/rand]"}
{"status":"Preparing","progressDetail":{},"id":"884da4c1a4c3"}
{"status":"Pushing","progressDetail":{"current":33792,"total":3000000},"progress":"[>  ]  33.79kB/3MB","id":"884da4c1a4c3"}
{"status":"Pushing","progressDetail":{"current":3010560,"total":3000000},"progress":"[==>]  3.011MB","id":"884da4c1a4c3"}
{"status":"Pushed","progressDetail":{},"id":"884da4c1a4c3"}
{"status":"1: digest: sha256:a12ef60936c1da3e9608254e758638140f4dd793da7a8153af2b2c3bac20518f size: 527"}
{"progressDetail":{},"aux":{"Tag":"1","Digest":"sha256:a12ef60936c1da3e9608254e758638140f4dd793da7a8153af2b2c3bac20518f","Size":527}}
"""  # noqa: E501

PODMAN_COMPAT_PUSH = b"""{"status":"The push refers to repository [127.0.0.1:5000/capture/rand2:2]"}
{"status":"2: digest: sha256:0305af778504392a59833c2d10d75b98b616f59ec267018a3b0d79fb31263c56 size: 427"}
"""  # noqa: E501

DOCKER_PUSH_NO_AUTH = b"""{"status":"The push refers to repository [127.0.0.1:5001/capture/noauth]"}
{"status":"Preparing","progressDetail":{},"id":"e10757ff3e30"}
{"errorDetail":{"message":"no basic auth credentials"},"error":"no basic auth credentials"}
"""


def chunks(blob: bytes, size: int) -> list[bytes]:
    return [blob[i : i + size] for i in range(0, len(blob), size)]


# --------------------------------------------------------------------------- models


def test_docker_inspect_becomes_the_model() -> None:
    fields = image_fields(DOCKER_INSPECT, "docker")
    assert fields["id"] == f"sha256:{HEX_A}"
    assert fields["tags"] == ("pydock-test/busybox:1",)
    assert fields["digests"] == ()
    assert fields["created"] == datetime(2026, 11, 28, 2, 36, 16, 204151, tzinfo=timezone.utc)
    assert fields["size"] == 1991411
    assert fields["architecture"] == "amd64"
    assert fields["os"] == "linux"
    assert fields["labels"] == {}
    config = fields["config"]
    assert config.cmd == ("sh",)
    assert config.entrypoint is None
    assert config.environment["PATH"].startswith("/usr/local/sbin")
    assert fields["attrs"] is DOCKER_INSPECT


def test_libpod_inspect_is_normalized_like_docker() -> None:
    fields = image_fields(LIBPOD_INSPECT, "podman")
    assert fields["id"] == f"sha256:{HEX_P}"  # libpod leaves out "sha256:"
    assert fields["tags"] == ("pydock-test/busybox:1",)  # no "localhost/"
    assert fields["digests"] == (f"pydock-test/busybox@{DIGEST}",)
    assert fields["config"].cmd == ("sh",)
    assert fields["config"].workdir == ""


def test_image_config_reads_every_field() -> None:
    config = ImageConfig.from_api(
        {
            "Env": ["A=1", "B"],
            "Cmd": "sh",
            "Entrypoint": ["/bin/sh", "-c"],
            "WorkingDir": "/app",
            "User": "app",
            "ExposedPorts": {"80/tcp": {}, "53/udp": {}},
            "Volumes": {"/data": {}},
            "Labels": {"a": "b"},
            "StopSignal": "SIGTERM",
        }
    )
    assert config == ImageConfig(
        env=("A=1", "B"),
        cmd=("sh",),
        entrypoint=("/bin/sh", "-c"),
        workdir="/app",
        user="app",
        exposed_ports=("53/udp", "80/tcp"),
        volumes=("/data",),
        labels={"a": "b"},
        stop_signal="SIGTERM",
    )
    assert config.environment == {"A": "1", "B": ""}
    assert ImageConfig.from_api(None) == ImageConfig()


@pytest.mark.parametrize(
    ("name", "backend", "expected"),
    [
        ("pydock-test/busybox:1", "docker", "pydock-test/busybox:1"),
        ("localhost/pydock-test/busybox:1", "podman", "pydock-test/busybox:1"),
        ("localhost/demo:1", "docker", "localhost/demo:1"),
        ("docker.io/library/busybox:latest", "podman", "busybox:latest"),
        ("docker.io/capture/imp:latest", "podman", "capture/imp:latest"),
        ("127.0.0.1:5000/a/b:1", "podman", "127.0.0.1:5000/a/b:1"),
        ("<none>:<none>", "docker", None),
        ("<none>@<none>", "docker", None),
    ],
)
def test_names_are_familiar_on_both_engines(name: str, backend: Any, expected: str | None) -> None:
    assert normalize_name(name, backend) == expected


@given(st.from_regex(r"[0-9a-f]{64}", fullmatch=True))
def test_ids_always_carry_the_algorithm(hex_id: str) -> None:
    assert normalize_id(hex_id) == "sha256:" + hex_id
    assert normalize_id("sha256:" + hex_id) == "sha256:" + hex_id


def test_history_from_both_engines() -> None:
    docker = history_from_api(
        [
            {
                "Comment": "Imported from -",
                "Created": 1795834077,
                "CreatedBy": "",
                "Id": f"sha256:{HEX_A}",
                "Size": 3000000,
                "Tags": ["127.0.0.1:5000/capture/rand:1"],
            },
            {"Id": "<missing>", "Created": 1, "CreatedBy": "/bin/sh", "Size": 0, "Tags": None},
        ],
        "docker",
    )
    assert docker[0].id == f"sha256:{HEX_A}"
    assert docker[0].tags == ("127.0.0.1:5000/capture/rand:1",)
    assert docker[0].size == 3000000
    assert docker[1].id is None
    podman = history_from_api(
        [{"Id": HEX_P, "Created": 1795834077, "CreatedBy": "", "Tags": None, "Size": 3010560}],
        "podman",
        {f"sha256:{HEX_P}": ("demo:1",)},
    )
    assert podman[0].id == f"sha256:{HEX_P}"
    assert podman[0].tags == ("demo:1",)


def test_remove_and_prune_reports() -> None:
    report = remove_report_from_api(
        [
            {"Untagged": "127.0.0.1:5000/capture/rand:1"},
            {"Deleted": f"sha256:{HEX_A}"},
            {"Deleted": HEX_P},
            {"Untagged": "localhost/capture/imp2:1"},
        ],
        "podman",
    )
    assert report.untagged == ("127.0.0.1:5000/capture/rand:1", "capture/imp2:1")
    assert report.deleted == (f"sha256:{HEX_A}", f"sha256:{HEX_P}")
    docker = prune_report_from_api(
        {"ImagesDeleted": [{"Deleted": f"sha256:{HEX_A}"}], "SpaceReclaimed": 12}, "docker"
    )
    assert docker == ImagePruneReport(deleted=(f"sha256:{HEX_A}",), space_reclaimed=12)
    libpod = prune_report_from_api(
        [{"Id": HEX_P, "Size": 3011675}, {"Id": HEX_A, "Size": 5, "Err": "in use"}], "podman"
    )
    assert libpod == ImagePruneReport(deleted=(f"sha256:{HEX_P}",), space_reclaimed=3011675)
    assert prune_report_from_api(None, "docker") == ImagePruneReport()


def test_search_results_from_both_shapes() -> None:
    docker = search_results_from_api(
        [
            {
                "name": "demo/word",
                "description": "x",
                "star_count": 7,
                "is_official": True,
                "is_automated": False,
            }
        ]
    )
    assert docker == [SearchResult("demo/word", "x", 7, official=True, automated=False)]
    podman = search_results_from_api(
        [
            {
                "Index": "127.0.0.1:5000",
                "Name": "127.0.0.1:5000/capture/rand",
                "Description": "",
                "Stars": 0,
                "Official": "",
                "Automated": "",
                "Tag": "",
            },
            {"Name": "docker.io/library/busybox", "Stars": 3, "Official": "[OK]"},
        ]
    )
    assert podman == [
        SearchResult("127.0.0.1:5000/capture/rand"),
        SearchResult("docker.io/library/busybox", stars=3, official=True),
    ]


def test_search_domain() -> None:
    assert search_domain("127.0.0.1:5000/word") == "127.0.0.1:5000"
    assert search_domain("localhost/x") == "localhost"
    assert search_domain("busybox") is None
    assert search_domain("library/busybox") is None


def test_load_answers() -> None:
    assert load_names_from_docker("Loaded image: 127.0.0.1:5000/capture/rand:1\n") == [
        "127.0.0.1:5000/capture/rand:1"
    ]
    assert load_names_from_docker(f"Loaded image ID: sha256:{HEX_A}\n") == [f"sha256:{HEX_A}"]
    assert load_names_from_docker("Loaded image: a:1,b:2") == ["a:1", "b:2"]
    assert load_names_from_docker("something else") == []


def test_import_answer() -> None:
    objects = [{"status": f"sha256:{HEX_A}", "progressDetail": {}, "id": f"sha256:{HEX_A}"}]
    assert import_id_from_docker(objects) == f"sha256:{HEX_A}"
    with pytest.raises(StreamError, match="bad tar"):
        import_id_from_docker([{"error": "bad tar"}])


# --------------------------------------------------------------------------- TLS and requests


def test_tls_rule_is_dockers_on_both_engines() -> None:
    assert resolve_tls_verify("127.0.0.1:5000", None, "podman") is False
    assert resolve_tls_verify("registry.example.com", None, "podman") is True
    assert resolve_tls_verify("127.0.0.1:5000", True, "podman") is True
    assert resolve_tls_verify("127.0.0.1:5000", None, "docker") is False
    assert resolve_tls_verify("127.0.0.1:5000", False, "docker") is False
    with pytest.raises(UnsupportedFeature):
        resolve_tls_verify("127.0.0.1:5000", True, "docker")
    with pytest.raises(UnsupportedFeature):
        resolve_tls_verify("registry.example.com", False, "docker")


def test_pull_params_per_engine() -> None:
    ref = ImageReference.parse("127.0.0.1:5000/pydock-test/busybox")
    assert pull_params(ref, backend="docker", platform=None, tls_verify=False) == {
        "fromImage": "127.0.0.1:5000/pydock-test/busybox",
        "tag": "latest",
    }
    assert pull_params(
        ref, backend="podman", platform=Platform.parse("linux/arm/v7"), tls_verify=False
    ) == {
        "reference": "127.0.0.1:5000/pydock-test/busybox:latest",
        "tlsVerify": False,
        "policy": "always",
        "os": "linux",
        "arch": "arm",
        "variant": "v7",
    }
    by_digest = ref.with_digest("sha256:" + "a" * 64)
    assert pull_params(by_digest, backend="docker", platform=None, tls_verify=False)["tag"] == (
        "sha256:" + "a" * 64
    )
    assert pull_params(
        by_digest, backend="docker", platform=Platform.parse("linux/amd64"), tls_verify=False
    )["platform"] == ("linux/amd64")


def test_server_user_name_normalizes_to_one_pull() -> None:
    long = ImageReference.parse("docker.io/docker/whalesay")
    short = ImageReference.parse("docker/whalesay")
    for backend in ("docker", "podman"):
        assert pull_params(long, backend=backend, platform=None, tls_verify=True) == pull_params(
            short, backend=backend, platform=None, tls_verify=True
        )
    podman = pull_params(short, backend="podman", platform=None, tls_verify=True)
    assert podman["reference"] == "docker.io/docker/whalesay:latest"


def test_push_request() -> None:
    ref = ImageReference.parse("127.0.0.1:5000/demo/app")
    assert push_request(ref, backend="docker", tls_verify=False) == (
        "/images/127.0.0.1:5000/demo/app/push",
        {"tag": "latest"},
    )
    assert push_request(ref.with_tag("2"), backend="podman", tls_verify=False) == (
        "/images/127.0.0.1:5000/demo/app/push",
        {"tag": "2", "tlsVerify": False},
    )
    with pytest.raises(InvalidReference):
        push_request(ref.with_digest("sha256:" + "b" * 64), backend="docker", tls_verify=False)


def test_tag_and_import_params() -> None:
    assert tag_params("demo/app") == {"repo": "demo/app", "tag": "latest"}
    assert tag_params("127.0.0.1:5000/demo/app:2") == {
        "repo": "127.0.0.1:5000/demo/app",
        "tag": "2",
    }
    with pytest.raises(InvalidReference):
        tag_params("demo/app@sha256:" + "c" * 64)
    with pytest.raises(InvalidReference):
        tag_params("Bad Name")
    assert import_params(
        "demo/app:1", backend="docker", changes=["CMD sh"], message="m", platform=None
    ) == {"fromSrc": "-", "repo": "demo/app", "tag": "1", "changes": ["CMD sh"], "message": "m"}
    assert import_params(
        "demo/app", backend="podman", changes=None, message=None, platform=None
    ) == {"reference": "demo/app:latest"}
    assert import_params(None, backend="docker", changes=None, message=None, platform=None) == {
        "fromSrc": "-"
    }


def test_filters() -> None:
    assert build_filters({"dangling": True, "label": ["a=b", "c"], "before": "x:1"}) == {
        "dangling": ["true"],
        "label": ["a=b", "c"],
        "before": ["x:1"],
    }
    assert build_filters({"label": {"a": "b", "c": None}, "since": None}) == {"label": ["a=b", "c"]}
    params, patterns = list_request(
        all=True, filters={"reference": "demo/*", "dangling": False}, backend="docker"
    )
    assert params == {"all": True, "filters": '{"reference":["demo/*"],"dangling":["false"]}'}
    assert patterns == []
    params, patterns = list_request(
        all=False, filters={"reference": "demo/*", "dangling": False}, backend="podman"
    )
    assert json.loads(params["filters"]) == {"dangling": ["false"]}
    assert patterns == ["demo/*"]
    assert prune_params(dangling=False, filters={"label": "a=b"}, backend="docker") == {
        "filters": '{"label":["a=b"],"dangling":["false"]}'
    }
    assert prune_params(dangling=False, filters={"label": "a=b"}, backend="podman") == {
        "all": True,
        "filters": '{"label":["a=b"]}',
    }
    assert prune_params(dangling=True, filters=None, backend="podman") == {"all": False}


def test_reference_filter_matches_like_docker() -> None:
    assert filter_by_reference(["demo/app:1"], ["demo/*"])
    assert filter_by_reference(["demo/app:1"], ["demo/app:1"])
    assert not filter_by_reference(["demo/app:1"], ["demo/app:2"])
    assert not filter_by_reference(["127.0.0.1:5000/demo/app:1"], ["demo/*"])
    assert filter_by_reference(["busybox:latest"], ["busybox"])
    assert not filter_by_reference([], ["*"])


def test_platform() -> None:
    assert str(Platform.parse("linux/amd64")) == "linux/amd64"
    # one Platform type for the engine and the registry side, normalized like containerd
    assert Platform.parse("Linux/aarch64/v8") == Platform("linux", "arm64", None)
    assert str(Platform.parse("linux/armhf")) == "linux/arm/v7"
    for bad in ("linux/", "a/b/c/d", ""):
        with pytest.raises(ValueError):
            Platform.parse(bad)


# --------------------------------------------------------------------------- progress


@pytest.mark.parametrize("size", [1, 7, 64, 100_000])
def test_docker_pull_stream_gives_per_layer_bytes(size: int) -> None:
    decoder = PullDecoder("docker", "127.0.0.1:5000/capture/rand:1")
    events = [e for c in chunks(DOCKER_PULL, size) for e in decoder.feed(c)] + decoder.flush()
    assert len(events) == 10
    downloading = events[2]
    assert downloading == PullProgress(
        status="Downloading", layer="8cde924cae83", current=36412, total=3001190
    )
    assert downloading.fraction == pytest.approx(36412 / 3001190)
    assert events[1].current is None
    assert events[1].fraction is None
    assert (
        decoder.digest == "sha256:a12ef60936c1da3e9608254e758638140f4dd793da7a8153af2b2c3bac20518f"
    )
    assert decoder.image_id is None


@pytest.mark.parametrize("size", [1, 13, 100_000])
def test_libpod_pull_stream(size: int) -> None:
    decoder = PullDecoder("podman", "127.0.0.1:5000/capture/rand:1")
    events = [e for c in chunks(LIBPOD_PULL, size) for e in decoder.feed(c)] + decoder.flush()
    statuses = [e.status for e in events]
    assert statuses == [
        "Trying to pull 127.0.0.1:5000/capture/rand:1...",
        "Getting image source signatures",
        "Copying blob",
        "Copying config",
        "Writing manifest to image destination",
        "Storing signatures",
    ]
    assert events[2].layer == (
        "sha256:8cde924cae831a4fecc65b3623a647ee8e7d95808b88e6ba3a632804fca9de4a"
    )
    assert events[2].current is None
    assert decoder.image_id == (
        "sha256:0c95716b3014172f1ea74080ca65fd4f610164b596c90d1291efcc112689a581"
    )


def test_errors_inside_the_pull_stream() -> None:
    decoder = PullDecoder("podman", "127.0.0.1:5000/pydock-test/busybox:1")
    with pytest.raises(PullError, match="HTTP response to HTTPS client"):
        decoder.feed(LIBPOD_PULL_HTTP_ERROR)
    decoder = PullDecoder("podman", "127.0.0.1:5000/capture/missing:1")
    with pytest.raises(ImageNotFound, match="manifest unknown") as caught:
        decoder.feed(LIBPOD_PULL_MISSING)
    assert caught.value.status_code == 404
    decoder = PullDecoder("docker", "x")
    with pytest.raises(PullError, match="boom"):
        decoder.feed(b'{"errorDetail":{"message":"boom"},"error":"boom"}')


def test_cut_pull_stream_is_a_stream_error() -> None:
    decoder = PullDecoder("docker", "x")
    decoder.feed(DOCKER_PULL[:50])
    with pytest.raises(StreamError):
        decoder.flush()


def test_docker_push_stream() -> None:
    decoder = PushDecoder()
    events = decoder.feed(DOCKER_PUSH) + decoder.flush()
    assert [e.status for e in events] == [
        "The push refers to repository [127.0.0.1:5000/capture/rand]",
        "Preparing",
        "Pushing",
        "Pushing",
        "Pushed",
        "1: digest: sha256:a12ef60936c1da3e9608254e758638140f4dd793da7a8153af2b2c3bac20518f"
        " size: 527",
    ]
    assert events[2].current == 33792
    assert events[2].total == 3000000
    assert events[2].layer == "884da4c1a4c3"
    assert decoder.digest == (
        "sha256:a12ef60936c1da3e9608254e758638140f4dd793da7a8153af2b2c3bac20518f"
    )
    assert decoder.size == 527


def test_podman_compat_push_stream_reports_the_digest() -> None:
    decoder = PushDecoder()
    decoder.feed(PODMAN_COMPAT_PUSH)
    assert decoder.digest == (
        "sha256:0305af778504392a59833c2d10d75b98b616f59ec267018a3b0d79fb31263c56"
    )


def test_push_error_inside_the_stream() -> None:
    decoder = PushDecoder()
    with pytest.raises(PushError, match="no basic auth credentials"):
        decoder.feed(DOCKER_PUSH_NO_AUTH)


# --------------------------------------------------------------------------- paths and auth (8, 12)


@pytest.mark.parametrize(
    ("name", "path"),
    [
        ("busybox", "/images/busybox/json"),
        ("127.0.0.1:5000/a/b:1", "/images/127.0.0.1:5000/a/b:1/json"),
        ("a/b@sha256:" + "0" * 64, "/images/a/b@sha256:" + "0" * 64 + "/json"),
        ("sha256:abc", "/images/sha256:abc/json"),
        # Ids come from the engine: nothing in one can leave the path.
        ("../../containers/x", "/images/%2E%2E/%2E%2E/containers/x/json"),
        ("x?y=1#z", "/images/x%3Fy%3D1%23z/json"),
        ("a/./b", "/images/a/%2E/b/json"),
    ],
)
def test_image_path_quotes_all_but_name_separators(name: str, path: str) -> None:
    assert image_path(name, "/json") == path


def test_push_path_is_quoted_like_every_image_path() -> None:
    path, _ = push_request(
        ImageReference.parse("127.0.0.1:5000/a/b:1"), backend="docker", tls_verify=False
    )
    assert path == "/images/127.0.0.1:5000/a/b/push"


def test_refused_credentials_in_a_pull_stream_are_pull_unauthorized() -> None:
    decoder = PullDecoder("docker", "h/x:1")
    line = json.dumps({"errorDetail": {"message": "unauthorized: authentication required"}})
    with pytest.raises(PullUnauthorized) as caught:
        decoder.feed(line.encode() + b"\n")
    assert isinstance(caught.value, PullError)
    assert isinstance(caught.value, Unauthorized)
    assert caught.value.status_code == 401


def test_refused_credentials_in_a_push_stream_are_push_unauthorized() -> None:
    line = json.dumps({"error": "unauthorized: authentication required"})
    with pytest.raises(PushUnauthorized) as caught:
        PushDecoder().feed(line.encode() + b"\n")
    assert isinstance(caught.value, PushError)
    assert isinstance(caught.value, Unauthorized)
    other = json.dumps({"error": "blob upload invalid"})
    with pytest.raises(PushError) as plain:
        PushDecoder().feed(other.encode() + b"\n")
    assert not isinstance(plain.value, Unauthorized)
