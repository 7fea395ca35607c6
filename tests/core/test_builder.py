"""The sans-I/O side of the daemonless builder: tars, gzip, configs, manifests, Dockerfile plans."""

from __future__ import annotations

import concurrent.futures
import datetime
import gzip
import hashlib
import io
import json
import os
import tarfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

import pydock
from pydock import errors
from pydock._core.archive import UnsafeArchiveError
from pydock._core.builder import (
    DOCKER_CONFIG_TYPE,
    DOCKER_LAYER_GZIP,
    GZIP_BLOCK,
    OCI_CONFIG_TYPE,
    OCI_LAYER,
    OCI_LAYER_GZIP,
    ConfigStep,
    ContextCopyStep,
    ContextFiles,
    FilesStep,
    GzipStream,
    ImagePlan,
    ImageState,
    LayerEntry,
    UnsupportedInstruction,
    choose_manifest_type,
    dockerfile_plan,
    expand_word,
    image_manifest,
    iter_layer,
    iter_layer_tar,
    layer_media_type,
    normalize_entries,
    plan_context_copy,
    plan_files,
)
from pydock._core.registry import DOCKER_MANIFEST, OCI_MANIFEST, Descriptor, Platform

AMD64 = Platform.parse("linux/amd64")


def state(base: Mapping[str, Any] | None = None, **kw: Any) -> ImageState:
    return ImageState(base, platform=AMD64, **kw)


def members(data: bytes) -> list[tarfile.TarInfo]:
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:") as tar:
        return tar.getmembers()


def read(data: bytes, name: str) -> bytes:
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:") as tar:
        f = tar.extractfile(name)
        assert f is not None
        return f.read()


def apply(steps: tuple[object, ...], st: ImageState) -> ImageState:
    for step in steps:
        if isinstance(step, ConfigStep):
            step.action(st)
            if step.created_by:
                st.add_history(step.created_by, step.comment, empty_layer=True)
    return st


def make_tree(root: Path) -> None:
    (root / "app" / "lib").mkdir(parents=True)
    (root / "app" / "run.sh").write_text("#!/bin/sh\necho run\n")
    (root / "app" / "run.sh").chmod(0o755)
    (root / "app" / "lib" / "data.txt").write_text("data\n")
    (root / "app" / "lib" / "data.txt").chmod(0o600)
    (root / "app" / "link").symlink_to("run.sh")
    os.link(root / "app" / "lib" / "data.txt", root / "app" / "z-hard.txt")


# --------------------------------------------------------------------------- gzip


def test_gzip_header_is_fixed_and_output_decompresses() -> None:
    payload = os.urandom(100_000) + b"a" * 300_000
    z = GzipStream(6)
    out = z.feed(payload[:1000]) + z.feed(payload[1000:]) + z.finish()
    assert out[:10] == b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"  # no name, mtime 0, OS unknown
    assert gzip.decompress(out) == payload
    again = GzipStream(6)
    assert again.feed(payload) + again.finish() == out
    assert GzipStream(9).finish()[8] == 2
    empty = GzipStream(1)
    assert gzip.decompress(empty.finish()) == b""
    with pytest.raises(ValueError, match="0 to 9"):
        GzipStream(10)


def test_parallel_gzip_gives_the_same_bytes() -> None:
    payload = os.urandom(3 * GZIP_BLOCK) + b"x" * (2 * GZIP_BLOCK + 17)
    serial = GzipStream(6)
    expected = serial.feed(payload[:5]) + serial.feed(payload[5:]) + serial.finish()
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        parallel = GzipStream(6, executor=pool, in_flight=2)
        pieces = [parallel.feed(payload[i : i + 300_000]) for i in range(0, len(payload), 300_000)]
        got = b"".join(pieces) + parallel.finish()
    assert got == expected
    assert gzip.decompress(got) == payload
    assert len(got) < len(payload) * 0.7


# --------------------------------------------------------------------------- tar entries


def test_normalize_sorts_dedups_and_adds_parents() -> None:
    entries = [
        LayerEntry("/b/x.txt", "file", source=b"x", size=1),
        LayerEntry("a/y", "file", source=b"old", size=3),
        LayerEntry("a/./y", "file", source=b"new", size=3),
        LayerEntry("/", "dir"),
    ]
    out = normalize_entries(entries, parents=True, mtime=7)
    assert [e.path for e in out] == ["a", "a/y", "b", "b/x.txt"]
    assert out[1].source == b"new"
    assert out[0].kind == "dir"
    assert out[0].mode == 0o755
    assert out[0].mtime == 7
    assert [e.path for e in normalize_entries(entries, parents=False)] == ["a/y", "b/x.txt"]


def test_tar_fields_are_fixed() -> None:
    long = "d/" + "n" * 150 + "/é.txt"
    entries = normalize_entries(
        [
            LayerEntry(
                "etc/app.conf",
                "file",
                mode=0o640,
                uid=1000,
                gid=2000,
                mtime=5,
                size=4,
                source=b"conf",
            ),
            LayerEntry(long, "file", size=2, source=b"hi"),
            LayerEntry("bin/sh", "symlink", mode=0o777, linkname="busybox"),
            LayerEntry("tmp", "dir", mode=0o1777),
        ],
        parents=True,
    )
    data = b"".join(iter_layer_tar(entries))
    assert len(data) % 512 == 0
    assert data.endswith(bytes(1024))
    infos = {m.name: m for m in members(data)}
    conf = infos["etc/app.conf"]
    assert (conf.mode, conf.uid, conf.gid, conf.mtime) == (0o640, 1000, 2000, 5)
    assert conf.uname == ""
    assert conf.gname == ""
    assert infos["tmp"].isdir()
    assert infos["tmp"].mode == 0o1777
    assert infos["bin/sh"].issym()
    assert infos["bin/sh"].linkname == "busybox"
    assert read(data, long) == b"hi"  # PAX record for the long, non-ASCII name
    assert list(infos) == sorted(infos, key=lambda n: n.encode())


def test_local_tree_keeps_modes_links_and_hardlinks(tmp_path: Path) -> None:
    make_tree(tmp_path)
    plan = ImagePlan().add_path(tmp_path / "app", "/opt/app", uid=10, gid=20)
    step = plan.steps[0]
    assert isinstance(step, FilesStep)
    entries = plan_files(step, state())  # from scratch: parents are added
    by_path = {e.path: e for e in entries}
    assert list(by_path) == [
        "opt", "opt/app", "opt/app/lib", "opt/app/lib/data.txt", "opt/app/link",
        "opt/app/run.sh", "opt/app/z-hard.txt",
    ]  # fmt: skip
    assert by_path["opt/app/run.sh"].mode == 0o755
    assert by_path["opt/app/lib/data.txt"].mode == 0o600
    assert by_path["opt/app/link"].kind == "symlink"
    assert by_path["opt/app/link"].linkname == "run.sh"
    hard = by_path["opt/app/z-hard.txt"]
    assert hard.kind == "hardlink"
    assert hard.linkname == "opt/app/lib/data.txt"
    assert all((e.uid, e.gid) == (10, 20) for e in entries if e.path.startswith("opt/app"))
    assert by_path["opt"].uid == 0
    data = b"".join(iter_layer_tar(entries))
    assert read(data, "opt/app/z-hard.txt") == b"data\n"
    # On a base image the parents are left to the base (and the engine).
    assert "opt" not in {e.path for e in plan_files(step, state({"config": {}}))}


def test_modes_overridden_and_file_into_folder(tmp_path: Path) -> None:
    (tmp_path / "tool").write_text("x")
    plan = ImagePlan().add_files(
        {"/usr/bin/": tmp_path / "tool", "/etc/motd": b"hi\n"}, file_mode=0o700, mtime=99
    )
    step = plan.steps[0]
    assert isinstance(step, FilesStep)
    entries = {e.path: e for e in plan_files(step, state())}
    assert entries["usr/bin/tool"].mode == 0o700
    assert entries["usr/bin/tool"].mtime == 99
    assert entries["etc/motd"].mode == 0o700
    assert entries["etc/motd"].source == b"hi\n"


def test_same_inputs_same_layer_bytes_whatever_the_local_metadata(tmp_path: Path) -> None:
    one, two = tmp_path / "one", tmp_path / "two"
    for root in (one, two):
        root.mkdir()
        make_tree(root)
    for path in two.rglob("*"):
        if not path.is_symlink():
            os.utime(path, (1_700_000_000, 1_700_000_000))

    def layer(root: Path) -> bytes:
        step = ImagePlan().add_path(root / "app", "/app").steps[0]
        assert isinstance(step, FilesStep)
        tar = b"".join(iter_layer_tar(plan_files(step, state())))
        z = GzipStream()
        return z.feed(tar) + z.finish()

    assert hashlib.sha256(layer(one)).digest() == hashlib.sha256(layer(two)).digest()
    (two / "app" / "run.sh").write_text("changed")
    assert layer(one) != layer(two)


def test_a_file_that_changes_size_is_an_error(tmp_path: Path) -> None:
    f = tmp_path / "grow"
    f.write_bytes(b"1234")
    entries = [LayerEntry("grow", "file", size=4, source=str(f))]
    stream = iter_layer_tar(entries)
    next(stream)
    f.write_bytes(b"123456")
    with pytest.raises(errors.PydockError, match="changed size"):
        list(stream)


def test_missing_local_source(tmp_path: Path) -> None:
    step = ImagePlan().add_path(tmp_path / "nope", "/x").steps[0]
    assert isinstance(step, FilesStep)
    with pytest.raises(FileNotFoundError):
        plan_files(step, state())


# --------------------------------------------------------------------------- the plan


def test_plan_is_immutable_and_validates() -> None:
    plan = ImagePlan()
    assert plan.env(A="1") is not plan
    assert plan.steps == ()
    with pytest.raises(ValueError, match="absolute"):
        plan.add_files({"relative/x": b""})
    with pytest.raises(ValueError, match="at least one"):
        plan.add_files({})
    with pytest.raises(TypeError, match="bytes or a path"):
        plan.add_files({"/x": 3})  # type: ignore[dict-item]
    with pytest.raises(ValueError, match="invalid port"):
        plan.expose("http")
    with pytest.raises(ValueError, match="protocol"):
        plan.expose("80/xyz")
    with pytest.raises(ValueError, match="compression_level"):
        ImagePlan(compression_level=11)
    with pytest.raises(ValueError, match="uid"):
        plan.add_files({"/x": b""}, uid=-1)
    with pytest.raises(ValueError, match="non-negative"):
        ImagePlan(timestamp=-5)
    when = datetime.datetime(2024, 1, 2, tzinfo=datetime.timezone.utc)
    assert ImagePlan(timestamp=when).timestamp == int(when.timestamp())


def test_config_changes_like_docker() -> None:
    base = {
        "architecture": "amd64",
        "os": "linux",
        "config": {"Env": ["PATH=/bin", "A=old"], "Cmd": ["sh"], "WorkingDir": ""},
        "rootfs": {"type": "layers", "diff_ids": ["sha256:" + "1" * 64]},
        "history": [{"created_by": "base"}],
        "docker_version": "kept",
    }
    plan = (
        ImagePlan()
        .env({"A": "new"}, B="2")
        .workdir("/srv")
        .workdir("app")
        .user(1000)
        .expose(80, "53/udp")
        .label({"k": "v"}, other="x")
        .volume("/data", "cache")
        .stop_signal("SIGINT")
        .entrypoint(["/bin/tini"], reset_cmd=True)
        .history("a note")
    )
    st = apply(plan.steps, state(base, timestamp=86400))
    run = st.config["config"]
    assert run["Env"] == ["PATH=/bin", "A=new", "B=2"]
    assert run["WorkingDir"] == "/srv/app"
    assert run["User"] == "1000"
    assert run["ExposedPorts"] == {"80/tcp": {}, "53/udp": {}}
    assert run["Labels"] == {"k": "v", "other": "x"}
    assert run["Volumes"] == {"/data": {}, "/srv/app/cache": {}}
    assert run["StopSignal"] == "SIGINT"
    assert run["Entrypoint"] == ["/bin/tini"]
    assert run["Cmd"] is None
    assert st.config["created"] == "1970-01-02T00:00:00Z"
    assert st.config["docker_version"] == "kept"
    assert st.config["history"][-1] == {
        "created": "1970-01-02T00:00:00Z",
        "created_by": "a note",
        "empty_layer": True,
    }
    st.add_layer("sha256:" + "2" * 64, "add")
    assert st.config["rootfs"]["diff_ids"][-1] == "sha256:" + "2" * 64
    assert json.loads(st.finish()) == st.config
    # CMD set in the same plan survives a later ENTRYPOINT with reset_cmd.
    st2 = apply(ImagePlan().cmd("echo hi").entrypoint(["x"], reset_cmd=True).steps, state(base))
    assert st2.config["config"]["Cmd"] == ["/bin/sh", "-c", "echo hi"]
    assert base["config"] == {"Env": ["PATH=/bin", "A=old"], "Cmd": ["sh"], "WorkingDir": ""}


def test_scratch_config_and_determinism() -> None:
    one = state(None, timestamp=0)
    assert one.config == {
        "architecture": "amd64",
        "os": "linux",
        "config": {},
        "rootfs": {"type": "layers", "diff_ids": []},
        "history": [],
        "created": "1970-01-01T00:00:00Z",
    }
    arm = ImageState(None, platform=Platform.parse("linux/arm/v7"))
    assert arm.config["variant"] == "v7"
    assert state(None).finish() == state(None).finish()


def test_manifests_and_media_types() -> None:
    config = Descriptor(OCI_CONFIG_TYPE, "sha256:" + "a" * 64, 10)
    docker_layer = Descriptor(DOCKER_LAYER_GZIP, "sha256:" + "b" * 64, 20)
    raw = image_manifest(OCI_MANIFEST, config, [docker_layer], annotations={"z": "1", "a": "2"})
    payload = json.loads(raw)
    assert payload["mediaType"] == OCI_MANIFEST
    assert payload["layers"][0]["mediaType"] == OCI_LAYER_GZIP
    assert list(payload["annotations"]) == ["a", "z"]
    docker_config = Descriptor(DOCKER_CONFIG_TYPE, config.digest, 10)
    raw = image_manifest(
        DOCKER_MANIFEST, docker_config, [Descriptor(OCI_LAYER_GZIP, "sha256:" + "b" * 64, 20)]
    )
    assert json.loads(raw)["layers"][0]["mediaType"] == DOCKER_LAYER_GZIP
    with pytest.raises(ValueError, match="annotations"):
        image_manifest(DOCKER_MANIFEST, docker_config, [], annotations={"a": "b"})
    assert layer_media_type(OCI_MANIFEST, compressed=False) == OCI_LAYER
    with pytest.raises(ValueError, match="gzip"):
        layer_media_type(DOCKER_MANIFEST, compressed=False)
    assert choose_manifest_type("auto", None) == OCI_MANIFEST
    assert choose_manifest_type("docker", None) == DOCKER_MANIFEST


# --------------------------------------------------------------------------- variables


@pytest.mark.parametrize(
    ("word", "quotes", "expected"),
    [
        ("$A/${B}", True, "1/two"),
        ("${UNSET:-dflt}", True, "dflt"),
        ("${A:+alt}", True, "alt"),
        ("${UNSET:+alt}", True, ""),
        ("${EMPTY-x}${EMPTY:-y}", True, "y"),
        ("'$A'", True, "$A"),
        ('"$A b"', True, "1 b"),
        ("\\$A", True, "$A"),
        ("\\$A", False, "$A"),
        ("a\\b", False, "a\\b"),
        ("cost $", True, "cost $"),
        ("$A$B", False, "1two"),
    ],
)
def test_expand_word(word: str, quotes: bool, expected: str) -> None:
    env = {"A": "1", "B": "two", "EMPTY": ""}
    assert expand_word(word, env, quotes=quotes) == expected


def test_expand_word_errors() -> None:
    with pytest.raises(ValueError, match="unterminated"):
        expand_word("'abc", {})
    with pytest.raises(ValueError, match="unterminated"):
        expand_word("${A", {})
    with pytest.raises(ValueError, match="substitution"):
        expand_word("${A?x}", {"A": "1"})


# --------------------------------------------------------------------------- Dockerfiles


def test_run_is_refused_naming_the_line(tmp_path: Path) -> None:
    text = "FROM scratch\n# a comment\nENV A=1 \\\n    B=2\nRUN echo hi\n"
    with pytest.raises(UnsupportedInstruction, match=r"line 5: 'RUN echo hi'") as info:
        dockerfile_plan(pydock.Dockerfile.parse(text), tmp_path, text=text)
    assert info.value.line == 5
    assert isinstance(info.value, ValueError)
    assert isinstance(info.value, errors.UnsupportedFeature)


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("FROM a\nFROM b\n", "multi-stage"),
        ("FROM a\nCOPY --from=x /a /b\n", "--from"),
        ("FROM a\nADD https://127.0.0.1/x /x\n", "URL"),
        ("FROM a\nCOPY --chown=app:app x /x\n", "numeric IDs"),
        ("FROM a\nCOPY --chmod=u+x x /x\n", "octal"),
        ("ENV A=1\nFROM a\n", "before FROM"),
    ],
)
def test_unsupported_instructions(tmp_path: Path, text: str, match: str) -> None:
    with pytest.raises(UnsupportedInstruction, match=match):
        dockerfile_plan(pydock.Dockerfile.parse(text), tmp_path, text=text)


def test_no_from(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="no FROM"):
        dockerfile_plan(pydock.Dockerfile.parse("ARG A=1\n"), tmp_path)


def test_dockerfile_config_semantics(tmp_path: Path) -> None:
    text = (
        "ARG REG=127.0.0.1:5000\n"
        "ARG TAG=1\n"
        "FROM --platform=linux/arm64 $REG/base:${TAG} AS app\n"
        "ARG GREETING=hello\n"
        'ENV PATH=/app/bin:$PATH MSG="$GREETING world" LIT=\\$HOME\n'
        "LABEL org.example.msg=$MSG\n"
        "WORKDIR /srv\n"
        "WORKDIR $GREETING\n"
        "USER 1000:1000\n"
        "EXPOSE 8080 53/udp\n"
        'VOLUME ["/data"]\n'
        "STOPSIGNAL SIGQUIT\n"
        "MAINTAINER me\n"
        "HEALTHCHECK --interval=30s --retries=3 CMD wget -q localhost\n"
        "ONBUILD COPY . /src\n"
        "ENTRYPOINT echo start\n"
        'SHELL ["/bin/ash", "-e", "-c"]\n'
        "CMD echo one\n"
    )
    base, platform, steps = dockerfile_plan(
        pydock.Dockerfile.parse(text), tmp_path, text=text, build_args={"TAG": "2"}
    )
    assert base == "127.0.0.1:5000/base:2"
    assert platform == "linux/arm64"
    base_config = {"config": {"Env": ["PATH=/bin"], "Cmd": ["sh"]}, "architecture": "arm64"}
    st = apply(steps, state(base_config, build_args={"GREETING": "hey"}))
    run = st.config["config"]
    assert run["Env"] == ["PATH=/app/bin:/bin", "MSG=hey world", "LIT=$HOME"]
    assert run["Labels"] == {"org.example.msg": "hey world"}
    assert run["WorkingDir"] == "/srv/hey"
    assert run["User"] == "1000:1000"
    assert run["ExposedPorts"] == {"8080/tcp": {}, "53/udp": {}}
    assert run["Volumes"] == {"/data": {}}
    assert run["StopSignal"] == "SIGQUIT"
    assert st.config["author"] == "me"
    assert run["Healthcheck"] == {
        "Test": ["CMD-SHELL", "wget -q localhost"],
        "Interval": 30_000_000_000,
        "Retries": 3,
    }
    assert run["OnBuild"] == ["COPY . /src"]
    assert run["Entrypoint"] == ["/bin/sh", "-c", "echo start"]
    assert run["Cmd"] == ["/bin/ash", "-e", "-c", "echo one"]
    created = [h["created_by"] for h in st.config["history"]]
    assert created[0].startswith("ENV PATH=")
    assert created[-1] == "CMD echo one"
    assert all(h["empty_layer"] for h in st.config["history"])
    # ENTRYPOINT drops an inherited CMD when the Dockerfile sets none.
    _, _, steps = dockerfile_plan(pydock.Dockerfile.parse('FROM a\nENTRYPOINT ["x"]\n'), tmp_path)
    assert apply(steps, state(base_config)).config["config"]["Cmd"] is None


def test_healthcheck_durations_are_read_as_docker_reads_them(tmp_path: Path) -> None:
    # Each part's fraction is scaled on its own, as Go's time.ParseDuration does:
    # 2.01ms is 2,010,000 ns, not 2,009,999 (2.01 * 1e6 in floating point).
    text = "FROM a\nHEALTHCHECK --interval=2.01ms --timeout=1m30.5s --start-period=0 CMD x\n"
    _, _, steps = dockerfile_plan(pydock.Dockerfile.parse(text), tmp_path, text=text)
    check = apply(steps, state()).config["config"]["Healthcheck"]
    assert check["Interval"] == 2_010_000
    assert check["Timeout"] == 90_500_000_000
    assert check["StartPeriod"] == 0


def context_tree(root: Path) -> None:
    (root / "src" / "node_modules").mkdir(parents=True)
    (root / "src" / "main.py").write_text("print(1)\n")
    (root / "src" / "secret.key").write_text("k")
    (root / "src" / "node_modules" / "m.js").write_text("m")
    (root / "a.txt").write_text("a")
    (root / "b.txt").write_text("b")
    (root / "c.md").write_text("c")
    (root / ".dockerignore").write_text("**/*.key\nsrc/node_modules\nc.md\n")
    with tarfile.open(root / "bundle.tar.gz", "w:gz") as tar:
        info = tarfile.TarInfo("pkg/hello.txt")
        info.size, info.mode, info.uid, info.mtime = 5, 0o640, 7, 1234
        tar.addfile(info, io.BytesIO(b"hello"))


def copy_layer(root: Path, line: str, st: ImageState) -> tuple[dict[str, tarfile.TarInfo], bytes]:
    text = f"FROM scratch\n{line}\n"
    _, _, steps = dockerfile_plan(pydock.Dockerfile.parse(text), root, text=text)
    step = steps[-1]
    assert isinstance(step, ContextCopyStep)
    entries, archives = plan_context_copy(step, st, ContextFiles(str(root)))
    data = b"".join(iter_layer(entries, archives))
    return {m.name.rstrip("/"): m for m in members(data)}, data


def test_copy_honours_dockerignore_globs_and_workdir(tmp_path: Path) -> None:
    context_tree(tmp_path)
    st = state(None)
    st.set_workdir("/work")
    got, _ = copy_layer(tmp_path, "COPY src ./app/", st)
    assert sorted(got) == ["work", "work/app", "work/app/main.py"]
    got, _ = copy_layer(tmp_path, "COPY --chown=1000:50 --chmod=600 *.txt c.md? /dst/", st)
    assert sorted(got) == ["dst", "dst/a.txt", "dst/b.txt"]
    assert {(m.uid, m.gid, m.mode) for n, m in got.items() if n.endswith(".txt")} == {
        (1000, 50, 0o600)
    }
    got, data = copy_layer(tmp_path, "COPY a.txt /renamed", st)
    assert read(data, "renamed") == b"a"
    with pytest.raises(FileNotFoundError, match=r"c\.md"):
        copy_layer(tmp_path, "COPY c.md /x", st)
    with pytest.raises(FileNotFoundError, match="missing"):
        copy_layer(tmp_path, "COPY missing /x", st)
    got, _ = copy_layer(tmp_path, "COPY .dockerignore /", st)  # always in the context
    assert "/.dockerignore" not in got
    assert ".dockerignore" in got


def test_add_extracts_local_archives(tmp_path: Path) -> None:
    context_tree(tmp_path)
    got, data = copy_layer(tmp_path, "ADD bundle.tar.gz /opt/", state(None))
    assert read(data, "opt/pkg/hello.txt") == b"hello"
    assert (got["opt/pkg/hello.txt"].uid, got["opt/pkg/hello.txt"].mtime) == (7, 1234)
    got, data = copy_layer(tmp_path, "COPY bundle.tar.gz /opt/", state(None))
    assert "opt/bundle.tar.gz" in got
    got, _ = copy_layer(tmp_path, "ADD --chown=5:6 bundle.tar.gz /opt", state(None))
    assert (got["opt/pkg/hello.txt"].uid, got["opt/pkg/hello.txt"].gid) == (5, 6)


def test_unsafe_archive_member(tmp_path: Path) -> None:
    with tarfile.open(tmp_path / "evil.tar", "w") as tar:
        info = tarfile.TarInfo("../escape")
        tar.addfile(info, io.BytesIO(b""))
    with pytest.raises(UnsafeArchiveError):
        b"".join(iter_layer([], [(str(tmp_path / "evil.tar"), "/x", None)]))
