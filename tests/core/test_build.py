"""The sans-I/O build pieces: context tar streams, request parameters, the progress decoder."""

from __future__ import annotations

import gzip
import io
import json
import os
import tarfile
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pydock import BuildEvent, Dockerfile, DockerIgnore
from pydock._core.auth import RegistryAuth, encode_x_registry_config
from pydock._core.build import BuildDecoder, folder_context, gzip_chunks, memory_context
from pydock._core.build_options import BuildOptions, build_params, check_options, check_tags
from pydock._core.registry import Platform
from pydock.errors import BuildError, InvalidReference, StreamError


def members(chunks: Iterable[bytes]) -> dict[str, tarfile.TarInfo]:
    data = b"".join(chunks)
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        return {m.name: m for m in tar.getmembers()}


def read(chunks: Iterable[bytes], name: str) -> bytes:
    data = b"".join(chunks)
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        extracted = tar.extractfile(name)
        assert extracted is not None
        return extracted.read()


# --------------------------------------------------------------------------- contexts


def make_tree(root: Path) -> None:
    (root / "Dockerfile").write_text("FROM scratch\n")
    (root / ".dockerignore").write_text("*.key\n!keep.key\nbuild\nDockerfile\n.dockerignore\n")
    (root / "a.key").write_text("secret")
    (root / "keep.key").write_text("public")
    (root / "build").mkdir()
    (root / "build" / "out.o").write_text("obj")
    (root / "src").mkdir()
    (root / "src" / "run.sh").write_text("#!/bin/sh\n")
    os.chmod(root / "src" / "run.sh", 0o755)
    os.symlink("run.sh", root / "src" / "link")


def test_folder_context_honours_dockerignore_and_always_sends_the_dockerfile(
    tmp_path: Path,
) -> None:
    make_tree(tmp_path)
    found = members(folder_context(tmp_path))
    assert sorted(found) == [
        ".dockerignore",
        "Dockerfile",
        "keep.key",
        "src",
        "src/link",
        "src/run.sh",
    ]
    assert found["src/run.sh"].mode == 0o755
    assert found["src/link"].issym()
    assert found["src/link"].linkname == "run.sh"
    assert all(m.uid == 0 and m.gid == 0 for m in found.values())
    # exactly the paths DockerIgnore.walk keeps
    walked = DockerIgnore.from_text((tmp_path / ".dockerignore").read_text()).walk(tmp_path)
    assert sorted(walked) == sorted(found)


def test_folder_context_with_an_explicit_ignore_and_extra_files(tmp_path: Path) -> None:
    make_tree(tmp_path)
    chunks = folder_context(
        tmp_path,
        ignore=DockerIgnore(["src"]),
        extra={"generated/config.json": b"{}", "text.txt": "caf\u00e9"},
    )
    found = members(chunks)
    assert "src/run.sh" not in found
    assert "a.key" in found
    assert "build/out.o" in found
    assert found["generated/config.json"].mode == 0o644
    assert read(folder_context(tmp_path, extra={"t": "caf\u00e9"}), "t") == "caf\u00e9".encode()


def test_folder_context_checks_its_arguments_at_once(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="is not a folder"):
        folder_context(tmp_path / "missing")
    with pytest.raises(FileNotFoundError, match="no Dockerfile 'Dockerfile'"):
        folder_context(tmp_path)
    (tmp_path / "Dockerfile").write_text("FROM scratch\n")
    for bad in ("/etc/passwd", "../x", "a/../../x", ""):
        with pytest.raises(ValueError, match="inside the build context"):
            folder_context(tmp_path, dockerfile=bad or ".")
        with pytest.raises(ValueError, match="inside the build context"):
            folder_context(tmp_path, extra={bad: b""})
    with pytest.raises(FileNotFoundError, match="does not exist"):
        folder_context(tmp_path, extra={"x": tmp_path / "nope"})
    with pytest.raises(TypeError, match="bytes, text or a path"):
        folder_context(tmp_path, extra={"x": 3})  # type: ignore[dict-item]


def test_folder_context_reads_files_in_bounded_chunks(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text("FROM scratch\n")
    (tmp_path / "big.bin").write_bytes(os.urandom(300_000))
    chunks = list(folder_context(tmp_path, chunk=65536))
    assert max(len(c) for c in chunks) <= 65536
    assert read(chunks, "big.bin") == (tmp_path / "big.bin").read_bytes()


def test_memory_context_holds_the_dockerfile_and_files(tmp_path: Path) -> None:
    local = tmp_path / "tree"
    local.mkdir()
    (local / "f.txt").write_text("local")
    df = Dockerfile().from_("busybox").copy("app.sh", "/app.sh")
    chunks = list(memory_context(df, {"app.sh": b"echo hi\n", "dir": local}))
    found = members(chunks)
    assert sorted(found) == ["Dockerfile", "app.sh", "dir", "dir/f.txt"]
    assert read(chunks, "Dockerfile").decode() == str(df)
    assert read(chunks, "dir/f.txt") == b"local"


def test_gzip_chunks_round_trip(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text("FROM scratch\n")
    plain = b"".join(folder_context(tmp_path))
    assert gzip.decompress(b"".join(gzip_chunks(folder_context(tmp_path)))) == plain


# --------------------------------------------------------------------------- parameters


def test_build_params_per_backend() -> None:
    common: BuildOptions = {
        "tag": ["demo/app:1", "demo/app:latest"],
        "dockerfile": "docker/Dockerfile",
        "buildargs": {"A": "1"},
        "target": "final",
        "labels": {"k": "v"},
        "platform": Platform.parse("linux/arm64"),
        "nocache": True,
        "pull": True,
        "network_mode": "host",
        "extra_hosts": {"db": "10.0.0.2"},
        "cache_from": ["demo/app:cache"],
        "shm_size": 1 << 20,
        "memory": 1 << 28,
    }
    docker = build_params("docker", common)
    assert docker["t"] == ["demo/app:1", "demo/app:latest"]
    assert json.loads(docker["buildargs"]) == {"A": "1"}
    assert json.loads(docker["labels"]) == {"k": "v"}
    assert docker["platform"] == "linux/arm64"
    assert docker["extrahosts"] == ["db:10.0.0.2"]
    assert json.loads(docker["cachefrom"]) == ["demo/app:cache"]
    assert docker["rm"] is True
    assert docker["forcerm"] is True
    assert docker["nocache"] is True
    assert docker["pull"] is True
    assert docker["networkmode"] == "host"
    assert docker["shmsize"] == 1 << 20
    assert docker["memory"] == 1 << 28
    podman = build_params("podman", common)
    assert json.loads(podman["extrahosts"]) == ["db:10.0.0.2"]
    assert podman["outputformat"] == "application/vnd.docker.distribution.manifest.v2+json"
    assert "outputformat" not in docker
    oci = build_params("podman", {"image_format": "oci"})
    assert oci["outputformat"] == "application/vnd.oci.image.manifest.v1+json"
    minimal = build_params("docker", {})
    assert minimal == {"dockerfile": "Dockerfile", "rm": True, "forcerm": True}


def test_build_params_defaults_and_spellings() -> None:
    # The documented defaults, whether an option is left out or given as the default.
    defaults: BuildOptions = {
        "tag": None,
        "dockerfile": None,
        "buildargs": None,
        "target": None,
        "labels": None,
        "platform": None,
        "nocache": False,
        "pull": False,
        "network_mode": None,
        "extra_hosts": None,
        "cache_from": None,
        "rm": True,
        "forcerm": True,
        "squash": False,
        "shm_size": None,
        "memory": None,
        "image_format": "docker",
    }
    for backend in ("docker", "podman"):
        assert build_params(backend, defaults) == build_params(backend, {})
    # Options that shape the request elsewhere do not reach the query.
    elsewhere: BuildOptions = {
        "files": {"a": b"x"},
        "gzip": True,
        "auth": {"r:5000": ("u", "p")},
        "tls_verify": False,
        "progress": print,
    }
    assert build_params("docker", elsewhere) == build_params("docker", {})
    # A platform may be given as text (normalized as Platform.parse does); a tag as a string.
    params = build_params(
        "docker", {"platform": "linux/arm64/v8", "tag": "a/b:1", "rm": False, "squash": True}
    )
    assert params["platform"] == "linux/arm64"
    assert params["t"] == ["a/b:1"]
    assert params["rm"] is False
    assert params["squash"] is True
    with pytest.raises(InvalidReference):
        build_params("docker", {"tag": "NOT OK"})
    with pytest.raises(TypeError, match="name"):
        build_params("docker", {"dockerfile": Dockerfile().from_("alpine")})


def test_every_build_option_is_known_and_no_other() -> None:
    check_options(dict.fromkeys(BuildOptions.__optional_keys__))
    assert len(BuildOptions.__optional_keys__) == 22
    with pytest.raises(TypeError, match="'quiet'"):
        check_options({"tag": "a:1", "quiet": True})


def test_tags_are_checked() -> None:
    assert check_tags(None) == []
    assert check_tags("a/b:1") == ["a/b:1"]
    with pytest.raises(InvalidReference):
        check_tags(["ok:1", "NOT OK"])
    with pytest.raises(InvalidReference, match="digest"):
        check_tags("a@sha256:" + "a" * 64)


def test_registry_config_header() -> None:
    value = encode_x_registry_config({"r:5000": RegistryAuth(username="u", password="p")})
    padded = value + "=" * (-len(value) % 4)
    import base64

    assert json.loads(base64.urlsafe_b64decode(padded)) == {
        "r:5000": {"username": "u", "password": "p"}
    }


# --------------------------------------------------------------------------- progress

DOCKER_STREAM: list[dict[str, Any]] = [
    {"stream": "Step 1/3 : FROM busybox"},
    {"stream": "\n"},
    {"stream": " ---\u003e fcd9ae13c05e\n"},
    {"stream": "Step 2/3 : RUN echo hello \u0026\u0026 echo err \u003e\u00262"},
    {"stream": "\n"},
    {"stream": " ---\u003e Running in 7c01fc2e45bc\n"},
    {"stream": "hello\n"},
    {"stream": "\u001b[91merr\n\u001b[0m"},
    {"stream": "Removing intermediate container 7c01fc2e45bc\n"},
    {"stream": " ---\u003e f6e6d750249c\n"},
    {"stream": 'Step 3/3 : CMD ["sh"]'},
    {"stream": "\n"},
    {"stream": " ---\u003e b2ed6488a2ca\n"},
    {"aux": {"ID": "sha256:" + "b" * 64}},
    {"stream": "Successfully built b2ed6488a2ca\n"},
    {"stream": "Successfully tagged demo:1\n"},
]

PODMAN_STREAM: list[dict[str, Any]] = [
    {"stream": "[1/2] STEP 1/2: FROM busybox AS base\n"},
    {"stream": "[1/2] STEP 2/2: RUN echo one\n"},
    {"stream": "one\n"},
    {"stream": "--\u003e 3226d38f7d3\n"},
    {"stream": "[2/2] STEP 1/2: FROM 3226d38f7d36\n"},
    {"stream": '[2/2] STEP 2/2: CMD ["sh"]\n'},
    {"stream": "COMMIT demo:1\n"},
    {"stream": "Successfully tagged localhost/demo:1\n"},
    {"stream": "c" * 64 + "\n"},
]


def encode(objects: Sequence[Mapping[str, Any]]) -> bytes:
    return b"".join(json.dumps(o).encode() + b"\r\n" for o in objects)


def decode_all(
    decoder: BuildDecoder, data: bytes, sizes: list[int] | None = None
) -> list[BuildEvent]:
    events: list[BuildEvent] = []
    pos = 0
    for size in sizes or []:
        events += decoder.feed(data[pos : pos + size])
        pos += size
    events += decoder.feed(data[pos:])
    events += decoder.flush()
    return events


def test_docker_stream_decodes_steps_output_and_image() -> None:
    decoder = BuildDecoder("docker")
    events = decode_all(decoder, encode(DOCKER_STREAM))
    kinds = [(e.kind, e.message) for e in events]
    assert kinds[0] == ("step", "Step 1/3 : FROM busybox")
    steps = [e for e in events if e.kind == "step"]
    assert [(e.step, e.total_steps, e.instruction) for e in steps] == [
        (1, 3, "FROM busybox"),
        (2, 3, "RUN echo hello && echo err >&2"),
        (3, 3, 'CMD ["sh"]'),
    ]
    out = [(e.message, e.stream, e.step) for e in events if e.kind == "output"]
    assert out == [("hello", "stdout", 2), ("err", "stderr", 2)]
    assert decoder.image_id == "sha256:" + "b" * 64
    assert decoder.tags == ["demo:1"]
    assert "err" in decoder.log
    assert "Successfully tagged demo:1" in decoder.log


def test_podman_stream_decodes_stages_and_final_id() -> None:
    decoder = BuildDecoder("podman")
    events = decode_all(decoder, encode(PODMAN_STREAM))
    steps = [(e.stage, e.total_stages, e.step, e.instruction) for e in events if e.kind == "step"]
    assert steps == [
        (1, 2, 1, "FROM busybox AS base"),
        (1, 2, 2, "RUN echo one"),
        (2, 2, 1, "FROM 3226d38f7d36"),
        (2, 2, 2, 'CMD ["sh"]'),
    ]
    assert [e.message for e in events if e.kind == "output"] == ["one"]
    assert events[-1].kind == "image"
    assert decoder.image_id == "sha256:" + "c" * 64
    assert decoder.tags == ["localhost/demo:1"]


@given(st.lists(st.integers(min_value=1, max_value=40), max_size=30))
def test_any_chunking_gives_the_same_events(sizes: list[int]) -> None:
    data = encode(DOCKER_STREAM)
    whole = decode_all(BuildDecoder("docker"), data)
    assert decode_all(BuildDecoder("docker"), data, sizes) == whole


def test_error_in_stream_raises_with_step_and_log() -> None:
    decoder = BuildDecoder("docker")
    data = encode(
        [
            {"stream": "Step 1/1 : RUN false"},
            {"stream": "\n"},
            {"stream": "partial line without newline"},
            {"errorDetail": {"code": 1, "message": "returned a non-zero code: 1"}, "error": "x"},
        ]
    )
    with pytest.raises(BuildError) as info:
        decoder.feed(data)
    assert info.value.step == "RUN false"
    assert info.value.log == [
        "Step 1/1 : RUN false",
        "partial line without newline",
        "returned a non-zero code: 1",
    ]
    assert "non-zero" in str(info.value)


def test_cut_stream_raises() -> None:
    decoder = BuildDecoder("podman")
    decoder.feed(b'{"stream": "STEP 1/1: FROM')
    with pytest.raises(StreamError):
        decoder.flush()
