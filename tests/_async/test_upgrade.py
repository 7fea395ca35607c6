"""Upgraded (hijacked) connections against the real engines: a raw attach to `sh`."""

from __future__ import annotations

import pytest

import pydock
from pydock._async._upgrade import AsyncRawStream
from tests.conftest import Engine


async def _create_sh(client: pydock.AsyncClient, image: str, *, tty: bool) -> str:
    created = await client._json(
        "POST",
        "/containers/create",
        json={
            "Image": image,
            "Cmd": ["sh"],
            "OpenStdin": True,
            "StdinOnce": True,
            "AttachStdin": True,
            "AttachStdout": True,
            "AttachStderr": True,
            "Tty": tty,
        },
    )
    return str(created["Id"])


async def _read_until(stream: AsyncRawStream, needle: bytes) -> bytes:
    seen = b""
    while needle not in seen:
        chunk = await stream.recv(timeout=20)
        if not chunk:
            break
        seen += chunk
    return seen


@pytest.mark.anyio
@pytest.mark.parametrize("tty", [False, True])
async def test_raw_attach_to_sh(
    async_client: pydock.AsyncClient, engine: Engine, tty: bool
) -> None:
    cid = await _create_sh(async_client, engine.test_image, tty=tty)
    try:
        stream = await async_client._upgrade(
            "POST",
            f"/containers/{cid}/attach",
            params={"stream": True, "stdin": True, "stdout": True, "stderr": True},
            tty=tty,
        )
        async with stream:
            await async_client._request("POST", f"/containers/{cid}/start")
            await stream.send(b"echo hello-$((6*7))\n")
            seen = await _read_until(stream, b"hello-42")
            assert b"hello-42" in seen
            await stream.send(b"exit 3\n")
            if not tty:
                await stream.close_stdin()
            while await stream.recv(timeout=20):
                pass
        waited = await async_client._json(
            "POST", f"/containers/{cid}/wait", timeout=30, idempotent=True
        )
        assert waited["StatusCode"] == 3
    finally:
        await async_client._request(
            "DELETE", f"/containers/{cid}", params={"force": True}, resource="container"
        )


@pytest.mark.anyio
async def test_attach_keeps_stdout_and_stderr_apart(
    async_client: pydock.AsyncClient, engine: Engine
) -> None:
    cid = await _create_sh(async_client, engine.test_image, tty=False)
    try:
        stream = await async_client._upgrade(
            "POST",
            f"/containers/{cid}/attach",
            params={"stream": True, "stdin": True, "stdout": True, "stderr": True},
            tty=False,
        )
        async with stream:
            await async_client._request("POST", f"/containers/{cid}/start")
            await stream.send(b"echo to-out; echo to-err >&2; exit 0\n")
            frames = []
            while batch := await stream.recv_frames(timeout=20):
                frames.extend(batch)
        out = b"".join(f.data for f in frames if f.stream == 1)
        err = b"".join(f.data for f in frames if f.stream == 2)
        assert out == b"to-out\n"
        assert err == b"to-err\n"
    finally:
        await async_client._request(
            "DELETE", f"/containers/{cid}", params={"force": True}, resource="container"
        )
