""".dockerignore semantics checked against the real tools' own matchers.

For a tree of tricky names and patterns, the files a real build sees (listed by
``find`` in the built image) must equal what :class:`pydock.DockerIgnore` keeps:

* the docker CLI (classic builder) filters the context on the client side with
  Docker's own pattern matcher;
* Podman's builder (buildah) filters on the server side, so an unfiltered tar
  sent by pydock is filtered by buildah's copy of the matcher;
* and the context pydock itself sends gives the same files on both engines.
"""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import subprocess
import tarfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

import pydock
from tests.conftest import Engine

BASE = os.environ.get("PYDOCK_TEST_IMAGE", "pydock-test/busybox:1")

PATTERNS = """\
# comments and blank lines are skipped

*.key
!keep.key
**/tmp
/root-only.txt
x[0-9].txt
logs
!logs/keep.log
build/**/*.o
.hidden   \n\
dir with space/file?one.txt
unicod\u00e9/*.bin
sub/*/deep?
"""

FILES = [
    "a.key",
    "keep.key",
    "sub/b.key",
    "sub/keep.key",
    "sub/root-only.txt",
    "sub/x/deep1",
    "sub/x/deeper",
    "root-only.txt",
    "dir with space/file one.txt",
    "dir with space/file  one.txt",
    "unicod\u00e9/\u00fc.txt",
    "unicod\u00e9/data.bin",
    ".hidden",
    ".hidden2",
    "logs/2024/x.log",
    "logs/keep.log",
    "tmp/a",
    "deep/er/tmp/b",
    "x1.txt",
    "x2.txt",
    "xa.txt",
    "build/out/o.o",
    "build/out/o.c",
    "build/README",
    "[brackets].txt",
]

DOCKERFILE = f'FROM {BASE}\nCOPY . /ctx\nCMD ["sh", "-c", "cd /ctx && find . ! -type d"]\n'


def make_context(root: Path) -> set[str]:
    """Write the tree; return the files DockerIgnore keeps (folders left out)."""
    (root / "Dockerfile").write_text(DOCKERFILE)
    (root / ".dockerignore").write_text(PATTERNS)
    for name in FILES:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(name)
    ignore = pydock.DockerIgnore.from_text(PATTERNS)
    return {p for p in ignore.walk(root) if not (root / p).is_dir()}


def unfiltered_tar(root: Path) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for path in sorted(root.rglob("*")):
            tar.add(path, arcname=path.relative_to(root).as_posix(), recursive=False)
    return buffer.getvalue()


def seen_by_build(client: pydock.Client, image: str) -> set[str]:
    out = client.containers.run(image, remove=True).stdout.decode()
    return {line[2:] for line in out.splitlines() if line.startswith("./")}


@pytest.fixture
def tags(sync_client: pydock.Client) -> Iterator[list[str]]:
    made: list[str] = []
    yield made
    for tag in made:
        with contextlib.suppress(pydock.errors.NotFound, pydock.errors.Conflict):
            sync_client.images.remove(tag, force=True)


def test_pydock_context_gives_what_dockerignore_keeps(
    sync_client: pydock.Client, tags: list[str], tmp_path: Path
) -> None:
    kept = make_context(tmp_path)
    tag = f"pydock-ignore/{uuid.uuid4().hex[:12]}:1"
    tags.append(tag)
    image = sync_client.build(tmp_path, tag=tag)
    assert seen_by_build(sync_client, image.id) == kept
    # sanity: the patterns did exclude and re-include things
    assert "a.key" not in kept
    assert "keep.key" in kept
    assert "logs/keep.log" in kept
    assert "logs/2024/x.log" not in kept


def test_buildah_filtering_the_raw_context_agrees(podman_engine: Engine, tmp_path: Path) -> None:
    kept = make_context(tmp_path)
    tag = f"pydock-ignore/{uuid.uuid4().hex[:12]}:1"
    with pydock.Client(podman_engine.url) as client:
        image = client.build(unfiltered_tar(tmp_path), tag=tag)
        try:
            assert seen_by_build(client, image.id) == kept
        finally:
            client.images.remove(image.id, force=True)


def test_docker_cli_filtering_agrees(docker_engine: Engine, tmp_path: Path) -> None:
    cli = shutil.which("docker")
    if cli is None:
        pytest.fail("the docker CLI is not installed (scripts/engines up installs it)")
    kept = make_context(tmp_path)
    tag = f"pydock-ignore/{uuid.uuid4().hex[:12]}:1"
    env = {**os.environ, "DOCKER_BUILDKIT": "0", "DOCKER_HOST": docker_engine.url}
    subprocess.run(
        [cli, "build", "-q", "-t", tag, str(tmp_path)],
        env=env,
        check=True,
        capture_output=True,
        timeout=300,
    )
    with pydock.Client(docker_engine.url) as client:
        try:
            assert seen_by_build(client, tag) == kept
        finally:
            client.images.remove(tag, force=True)
