"""Issue 13, defect 4 for the registry: a request that reached the registry is never resent blindly.

A fault proxy in front of the real registry (127.0.0.1:5000) forwards the
request whole, lets the registry act on it, then drops the client's connection
without an answer. The client must find out what happened instead of replaying.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from pydock._async._registry import AsyncRegistry
from pydock._core.registry import compute_digest
from tests.conftest import RegistryServer
from tests.support.fault_proxy import FaultProxy

NO_CONFIG = {"DOCKER_CONFIG": "/nonexistent/pydock-test"}
CHUNK = 64 * 1024


def unique(prefix: str = "pydock-it") -> str:
    return f"{prefix}/{uuid.uuid4().hex[:12]}"


@pytest.fixture
def proxy(registry: RegistryServer) -> Iterator[FaultProxy]:
    server = FaultProxy(registry.host)
    yield server
    server.close()


def _session(path: str) -> str:
    """The upload session a request went to (its UUID)."""
    return path.split("/blobs/uploads/")[1].split("?")[0]


async def _downloaded(reg: AsyncRegistry, repo: str, digest: str, folder: Path) -> bytes:
    return (await reg.download_blob(repo, digest, folder / "blob")).read_bytes()


@pytest.mark.anyio
@pytest.mark.parametrize("from_file", [False, True], ids=["bytes", "file"])
async def test_a_patch_that_arrived_is_not_resent(
    proxy: FaultProxy, tmp_path: Path, from_file: bool
) -> None:
    repo, data = unique(), os.urandom(5 * CHUNK + 123)
    source: bytes | Path = data
    if from_file:
        source = tmp_path / "blob.bin"
        source.write_bytes(data)
    async with AsyncRegistry(proxy.url, chunk_size=CHUNK, env=NO_CONFIG) as reg:
        proxy.drop_after_request = {"PATCH": 2}  # the first two chunks' answers are lost
        descriptor = await reg.upload_blob(repo, source)
        assert descriptor.digest == compute_digest(data)
        assert await _downloaded(reg, repo, descriptor.digest, tmp_path) == data
    assert [m for m, _ in proxy.dropped] == ["PATCH", "PATCH"]
    status_checks = [p for m, p, _ in proxy.forwarded if m == "GET" and "/blobs/uploads/" in p]
    assert len(status_checks) == 2  # asked where the upload stood after each lost answer
    # Each upload session got each byte at most once; the one committed, all of them once.
    # (Registry 2.8 cannot tell an upload's offset without the URL the lost answer carried:
    # the client then starts a new session rather than resend into the old one.)
    patched: dict[str, int] = {}
    for method, path, length in proxy.forwarded:
        if method == "PATCH":
            patched[_session(path)] = patched.get(_session(path), 0) + length
    assert all(total <= len(data) for total in patched.values())
    committed = [_session(p) for m, p, _ in proxy.forwarded if m == "PUT"]
    assert [patched[s] for s in committed] == [len(data)]


@pytest.mark.anyio
async def test_a_final_put_that_arrived_is_not_an_error(proxy: FaultProxy, tmp_path: Path) -> None:
    repo, data = unique(), os.urandom(3000)
    async with AsyncRegistry(proxy.url, env=NO_CONFIG) as reg:
        proxy.drop_after_request = {"PUT": 1}  # the registry committed it; the answer is lost
        descriptor = await reg.upload_blob(repo, data)
        assert await _downloaded(reg, repo, descriptor.digest, tmp_path) == data
    puts = [n for m, p, n in proxy.forwarded if m == "PUT" and "/blobs/uploads/" in p]
    assert puts[0] == len(data)  # it arrived whole; the registry committed it
    # A content-addressed PUT may be sent again (once); the upload it closed is then gone
    # (404), and the client asks whether the blob is there instead of failing.
    assert len(puts) <= 2
    heads = [p for m, p, _ in proxy.forwarded if m == "HEAD" and "/blobs/sha256:" in p]
    assert len(heads) >= 2  # before the upload, and after the lost answer
    assert [s for m, p, s in proxy.answers if m == "DELETE"] == []  # nothing cancelled


@pytest.mark.anyio
async def test_an_upload_start_is_retried(proxy: FaultProxy, tmp_path: Path) -> None:
    repo, data = unique(), os.urandom(3000)
    async with AsyncRegistry(proxy.url, env=NO_CONFIG) as reg:
        proxy.drop_after_request = {"POST": 1}  # only opens a session: safe to send again
        descriptor = await reg.upload_blob(repo, data)
        assert await _downloaded(reg, repo, descriptor.digest, tmp_path) == data
    assert [m for m, p, _ in proxy.forwarded if m == "POST"] == ["POST", "POST"]
