"""Side-by-side benchmarks: pydock and its peers, same engines, same run, interleaved.

    python bench/run.py                          # every section
    python bench/run.py --sections latency --rounds 7 --calls 200
    nox -s bench                                 # installs the peers first

Sections: import (interpreter start minus `pass`), latency (warm client, per
call: ping, version, container inspect; Docker and Podman; sync and async),
concurrency (1000 inspects at 50 in flight, async). Each measurement is
repeated in rounds that interleave the contenders; medians are reported with
min-max, and ratios pydock/peer (below 1.0 means pydock is faster).
Results go to bench/results/latest.json and a markdown table to stdout.
"""

from __future__ import annotations

import argparse
import faulthandler
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import anyio
import httpx

import pydock

ROOT = Path(__file__).resolve().parent
DOCKER_SOCK = os.environ.get("PYDOCK_DOCKER_HOST", "unix:///var/run/docker.sock")[len("unix://") :]
PODMAN_SOCK = os.environ.get("PYDOCK_PODMAN_HOST", "unix:///run/podman/podman.sock")[
    len("unix://") :
]
IMAGE = os.environ.get("PYDOCK_TEST_IMAGE", "pydock-test/busybox:1")

Sync = Callable[[], object]
Async = Callable[[], Awaitable[object]]


def summarize(samples: list[float]) -> dict[str, float]:
    return {
        "median": statistics.median(samples),
        "min": min(samples),
        "max": max(samples),
        "n": len(samples),
    }


# -- import time --------------------------------------------------------------


def bench_import(rounds: int) -> dict[str, Any]:
    modules = [
        "pass",
        "import pydock",
        "import pydock; pydock.Client",  # what it takes to get a usable client
        "import pydock; pydock.Client; pydock.AsyncRegistry; pydock.Dockerfile",
        "import docker",
        "import aiodocker",
        "import podman",
        "import httpx",
    ]
    samples: dict[str, list[float]] = {m: [] for m in modules}
    for stmt in modules:  # unmeasured: a fresh venv compiles its .pyc files on first import
        subprocess.run([sys.executable, "-c", stmt], check=True)
    for _ in range(rounds):
        for stmt in modules:
            start = time.perf_counter()
            subprocess.run([sys.executable, "-c", stmt], check=True)
            samples[stmt].append(time.perf_counter() - start)
    base = statistics.median(samples["pass"])
    out = {}
    for stmt in modules[1:]:
        out[stmt] = summarize([(s - base) * 1000 for s in samples[stmt]])
    return out


# -- latency --------------------------------------------------------------------


def _make_container(sock: str) -> str:
    with pydock.Client(f"unix://{sock}") as client:
        created = client._json(
            "POST",
            "/containers/create",
            json={"Image": IMAGE, "Cmd": ["sleep", "3600"], "Labels": {"pydock-bench": "1"}},
        )
        cid = str(created["Id"])
        client._request("POST", f"/containers/{cid}/start")
        return cid


def _remove_container(sock: str, cid: str) -> None:
    with pydock.Client(f"unix://{sock}") as client:
        client._request("DELETE", f"/containers/{cid}", params={"force": True})


def sync_contenders(
    engine: str, sock: str, cid: str
) -> tuple[dict[str, dict[str, Sync]], list[Any]]:
    import docker

    closers: list[Any] = []
    pd = pydock.Client(f"unix://{sock}")
    pd.connect()
    closers.append(pd.close)
    hx = httpx.Client(transport=httpx.HTTPTransport(uds=sock), base_url="http://localhost")
    closers.append(hx.close)
    dp = docker.APIClient(base_url=f"unix://{sock}", version="1.41")
    closers.append(dp.close)
    prefix = "/v1.41"
    ops: dict[str, dict[str, Sync]] = {
        "pydock sync": {
            "ping": pd.ping,
            "version": pd.version,
            "inspect": lambda: pd._json("GET", f"/containers/{cid}/json"),
        },
        "httpx.Client": {
            "ping": lambda: hx.get("/_ping").text,
            "version": lambda: hx.get("/version").json(),
            "inspect": lambda: hx.get(f"{prefix}/containers/{cid}/json").json(),
        },
        "docker-py": {
            "ping": dp.ping,
            "version": dp.version,
            "inspect": lambda: dp.inspect_container(cid),
        },
    }
    if engine == "podman":
        import podman

        pm = podman.PodmanClient(base_url=f"unix://{sock}")
        closers.append(pm.close)
        ops["podman-py"] = {
            "ping": pm.ping,
            "version": pm.version,
            "inspect": lambda: pm.containers.get(cid),
        }
    return ops, closers


def _calls_for(op: str, calls: int) -> int:
    # Podman answers /version in ~350 ms (server-bound): fewer calls keep the run short.
    return max(5, calls // 20) if op == "version" else calls


def run_sync(fn: Sync, calls: int) -> float:
    fn()  # warm
    start = time.perf_counter()
    for _ in range(calls):
        fn()
    return (time.perf_counter() - start) / calls * 1000


async def async_contenders(
    engine: str, sock: str, cid: str
) -> tuple[dict[str, dict[str, Async]], list[Callable[[], Awaitable[object]]]]:
    import aiodocker

    closers: list[Callable[[], Awaitable[object]]] = []
    pd = pydock.AsyncClient(f"unix://{sock}")
    await pd.connect()
    closers.append(pd.aclose)
    hx = httpx.AsyncClient(
        transport=httpx.AsyncHTTPTransport(uds=sock), base_url="http://localhost"
    )
    closers.append(hx.aclose)
    ad = aiodocker.Docker(url=f"unix://{sock}", api_version="v1.41")
    closers.append(ad.close)

    async def hx_ping() -> object:
        return (await hx.get("/_ping")).text

    async def hx_version() -> object:
        return (await hx.get("/version")).json()

    async def hx_inspect() -> object:
        return (await hx.get(f"/v1.41/containers/{cid}/json")).json()

    async def pd_inspect() -> object:
        return await pd._json("GET", f"/containers/{cid}/json")

    async def ad_inspect() -> object:
        return await ad.containers.container(cid).show()

    ops: dict[str, dict[str, Async]] = {
        "pydock async": {"ping": pd.ping, "version": pd.version, "inspect": pd_inspect},
        "httpx.AsyncClient": {"ping": hx_ping, "version": hx_version, "inspect": hx_inspect},
        "aiodocker": {"version": ad.version, "inspect": ad_inspect},
    }
    return ops, closers


async def run_async(fn: Async, calls: int) -> float:
    await fn()
    start = time.perf_counter()
    for _ in range(calls):
        await fn()
    return (time.perf_counter() - start) / calls * 1000


def bench_latency(rounds: int, calls: int) -> dict[str, Any]:
    results: dict[str, Any] = {}
    for engine, sock in (("docker", DOCKER_SOCK), ("podman", PODMAN_SOCK)):
        if not os.path.exists(sock):
            print(f"skipping {engine}: no socket at {sock}", file=sys.stderr)
            continue
        cid = _make_container(sock)
        try:
            samples: dict[str, dict[str, list[float]]] = {}
            ops, closers = sync_contenders(engine, sock, cid)

            async def main(
                engine: str = engine,
                sock: str = sock,
                cid: str = cid,
                ops: dict[str, dict[str, Sync]] = ops,
                samples: dict[str, dict[str, list[float]]] = samples,
            ) -> None:
                aops, aclosers = await async_contenders(engine, sock, cid)
                try:
                    for _ in range(rounds):
                        for name, table in ops.items():
                            for op, fn in table.items():
                                samples.setdefault(name, {}).setdefault(op, []).append(
                                    run_sync(fn, _calls_for(op, calls))
                                )
                        for name, atable in aops.items():
                            for op, afn in atable.items():
                                samples.setdefault(name, {}).setdefault(op, []).append(
                                    await run_async(afn, _calls_for(op, calls))
                                )
                finally:
                    for aclose in aclosers:
                        await aclose()

            anyio.run(main)
            for close in closers:
                close()
            results[engine] = {
                name: {op: summarize(v) for op, v in table.items()}
                for name, table in samples.items()
            }
        finally:
            _remove_container(sock, cid)
    return results


# -- concurrency ------------------------------------------------------------------


def bench_concurrency(rounds: int, total: int = 1000, in_flight: int = 50) -> dict[str, Any]:
    import aiodocker

    sock = DOCKER_SOCK
    cid = _make_container(sock)
    samples: dict[str, list[float]] = {}

    async def main() -> None:
        pd = pydock.AsyncClient(f"unix://{sock}")
        await pd.connect()
        hx = httpx.AsyncClient(
            transport=httpx.AsyncHTTPTransport(uds=sock),
            base_url="http://localhost",
            limits=httpx.Limits(max_connections=in_flight),
        )
        ad = aiodocker.Docker(url=f"unix://{sock}", api_version="v1.41")

        async def pd_one() -> object:
            return await pd._json("GET", f"/containers/{cid}/json")

        async def hx_one() -> object:
            return (await hx.get(f"/v1.41/containers/{cid}/json")).json()

        async def ad_one() -> object:
            return await ad.containers.container(cid).show()

        contenders = {"pydock async": pd_one, "httpx.AsyncClient": hx_one, "aiodocker": ad_one}
        try:
            for _ in range(rounds):
                for name, one in contenders.items():
                    limiter = anyio.Semaphore(in_flight)

                    async def call(one: Async = one, limiter: anyio.Semaphore = limiter) -> None:
                        async with limiter:
                            await one()

                    start = time.perf_counter()
                    async with anyio.create_task_group() as tg:
                        for _ in range(total):
                            tg.start_soon(call)
                    samples.setdefault(name, []).append(total / (time.perf_counter() - start))
        finally:
            await pd.aclose()
            await hx.aclose()
            await ad.close()

    try:
        anyio.run(main)
    finally:
        _remove_container(sock, cid)
    return {name: summarize(v) for name, v in samples.items()}


# -- save: an image with a 512 MiB layer to a file -------------------------------------

_SAVE_PYDOCK = """
import sys, time, pydock
t = time.perf_counter()
with pydock.Client(sys.argv[1]) as c:
    n = c.images.save(sys.argv[2], sys.argv[3])
print(time.perf_counter() - t, n)
"""
_SAVE_DOCKERPY = """
import sys, time, docker
t = time.perf_counter()
c = docker.APIClient(base_url=sys.argv[1], version="1.41")
n = 0
with open(sys.argv[3], "wb") as f:
    for chunk in c.get_image(sys.argv[2]):
        n += f.write(chunk)
print(time.perf_counter() - t, n)
"""


def _timed_child(code: str, *args: str) -> tuple[float, int, int]:
    """Run ``code`` in a fresh interpreter under GNU time: (seconds, bytes, peak KiB)."""
    done = subprocess.run(
        ["/usr/bin/time", "-f", "%M", sys.executable, "-c", code, *args],
        capture_output=True,
        text=True,
        check=True,
    )
    seconds, nbytes = done.stdout.split()
    peak_kib = int(done.stderr.strip().splitlines()[-1])
    return float(seconds), int(nbytes), peak_kib


def bench_save(rounds: int, layer_mib: int = 512) -> dict[str, Any]:
    import shutil
    import tarfile
    import tempfile

    url = f"unix://{DOCKER_SOCK}"
    ref = "pydock-bench/big:1"
    work = Path(tempfile.mkdtemp(prefix="pydock-bench-", dir=os.environ.get("TMPDIR")))
    try:
        with pydock.Client(url) as client:
            if not client.images.exists(ref):
                rootfs = work / "rootfs.tar"
                blob = work / "random.bin"
                with open(blob, "wb") as f:
                    for _ in range(layer_mib):
                        f.write(os.urandom(1 << 20))
                with tarfile.open(rootfs, "w") as tar:
                    tar.add("/bin/busybox", arcname="bin/busybox")
                    tar.add(blob, arcname="data/random.bin")
                blob.unlink()
                client.images.import_(rootfs, ref)
                rootfs.unlink()
        samples: dict[str, dict[str, list[float]]] = {}
        contenders = [("pydock", _SAVE_PYDOCK), ("docker-py", _SAVE_DOCKERPY)]
        for r in range(rounds * 2):  # each order as often as the other
            for name, code in contenders if r % 2 == 0 else contenders[::-1]:
                out = work / f"{name}.tar"
                seconds, nbytes, peak = _timed_child(code, url, ref, str(out))
                out.unlink()
                entry = samples.setdefault(name, {"s": [], "MB/s": [], "peak MiB": []})
                entry["s"].append(seconds)
                entry["MB/s"].append(nbytes / seconds / 1e6)
                entry["peak MiB"].append(peak / 1024)
        return {
            "layer MiB": layer_mib,
            "results": {n: {k: summarize(v) for k, v in m.items()} for n, m in samples.items()},
        }
    finally:
        shutil.rmtree(work, ignore_errors=True)


# -- build: a 500 MiB context, half of it excluded by .dockerignore ------------------

_BUILD_PYDOCK = """
import sys, time, pydock
t = time.perf_counter()
with pydock.Client(sys.argv[1]) as c:
    image = c.build(sys.argv[2], tag=sys.argv[3], nocache=True)
print(time.perf_counter() - t, 0)
"""
_BUILD_DOCKERPY = """
import sys, time, docker
t = time.perf_counter()
c = docker.APIClient(base_url=sys.argv[1], version="1.41")
for _ in c.build(path=sys.argv[2], tag=sys.argv[3], nocache=True, rm=True, decode=True):
    pass
print(time.perf_counter() - t, 0)
"""

_BUILD_CURL = """
import subprocess, sys, time
sock = sys.argv[1][len("unix://"):]
t = time.perf_counter()
subprocess.run(
    ["curl", "-sf", "--unix-socket", sock, "-X", "POST", "-H", "Content-Type: application/x-tar",
     "-T", sys.argv[2], "-o", "/dev/null", f"http://d/v1.41/build?t={sys.argv[3]}&nocache=1"],
    check=True,
)
print(time.perf_counter() - t, 0)
"""


def bench_build(rounds: int, context_mib: int = 500) -> dict[str, Any]:
    """docker build of a context of ``context_mib`` MiB, half excluded by .dockerignore."""
    import shutil
    import tempfile

    url = f"unix://{DOCKER_SOCK}"
    work = Path(tempfile.mkdtemp(prefix="pydock-bench-build-", dir=os.environ.get("TMPDIR")))
    try:
        half = context_mib // 2
        for folder, files in (("kept", half // 5), ("excluded", half // 5)):
            (work / folder).mkdir()
            for i in range(files):
                (work / folder / f"f{i:03}.bin").write_bytes(os.urandom(5 << 20))
        (work / ".dockerignore").write_text("excluded\n")
        (work / "Dockerfile").write_text(f"FROM {IMAGE}\nENV CONTEXT=sent\n")
        # The engine's own limit: curl streaming the same (already made) tar.
        import tarfile

        ready = Path(tempfile.mkdtemp(prefix="pydock-bench-tar-")) / "context.tar"
        with tarfile.open(ready, "w") as tar:
            for name in ("Dockerfile", ".dockerignore", "kept"):
                tar.add(work / name, arcname=name)
        samples: dict[str, dict[str, list[float]]] = {}
        contenders = [
            ("pydock", _BUILD_PYDOCK),
            ("docker-py", _BUILD_DOCKERPY),
            ("curl -T (tar made beforehand)", _BUILD_CURL),
        ]
        tag = "pydock-bench/build:1"
        for r in range(rounds * 2):  # each order as often as the other
            for name, code in contenders if r % 2 == 0 else contenders[::-1]:
                source = str(ready) if code is _BUILD_CURL else str(work)
                seconds, _, peak = _timed_child(code, url, source, tag)
                entry = samples.setdefault(name, {"s": [], "MB/s": [], "peak MiB": []})
                entry["s"].append(seconds)
                entry["MB/s"].append(half * (1 << 20) / seconds / 1e6)
                entry["peak MiB"].append(peak / 1024)
        with pydock.Client(url) as client:
            client.images.remove(tag, force=True)
        return {
            "context MiB": context_mib,
            "sent MiB": half,
            "results": {n: {k: summarize(v) for k, v in m.items()} for n, m in samples.items()},
        }
    finally:
        shutil.rmtree(work, ignore_errors=True)
        if "ready" in locals():
            shutil.rmtree(ready.parent, ignore_errors=True)


# -- container churn ----------------------------------------------------------------


def bench_churn(rounds: int, per_round: int = 15, in_flight: int = 8) -> dict[str, Any]:
    """create, start, wait, remove of a `true` container, ms each; Docker."""
    import shutil

    import aiodocker
    import docker

    url = f"unix://{DOCKER_SOCK}"
    samples: dict[str, list[float]] = {}
    pd = pydock.Client(url)
    dp = docker.APIClient(base_url=url, version="1.41")
    cli = shutil.which("docker")

    def pd_one() -> None:
        c = pd.containers.create(IMAGE, ["true"])
        c.start()
        c.wait()
        c.remove()

    def dp_one() -> None:
        cid = dp.create_container(IMAGE, ["true"])["Id"]
        dp.start(cid)
        dp.wait(cid)
        dp.remove_container(cid)

    def cli_one() -> None:
        subprocess.run(
            [cli or "docker", "run", "--rm", IMAGE, "true"], check=True, stdout=subprocess.DEVNULL
        )

    async def run_async(concurrency: int) -> dict[str, float]:
        apd = pydock.AsyncClient(url)
        ad = aiodocker.Docker(url=url, api_version="v1.41")

        async def apd_one() -> None:
            c = await apd.containers.create(IMAGE, ["true"])
            await c.start()
            await c.wait()
            await c.remove()

        async def ad_one() -> None:
            c = await ad.containers.create(config={"Image": IMAGE, "Cmd": ["true"]})
            await c.start()
            await c.wait()
            await c.delete()

        out: dict[str, float] = {}
        try:
            for name, one in (("pydock async", apd_one), ("aiodocker", ad_one)):
                limiter = anyio.Semaphore(concurrency)

                async def call(one: Async = one, limiter: anyio.Semaphore = limiter) -> None:
                    async with limiter:
                        await one()

                start = time.perf_counter()
                async with anyio.create_task_group() as tg:
                    for _ in range(per_round):
                        tg.start_soon(call)
                out[name] = (time.perf_counter() - start) / per_round * 1000
        finally:
            await apd.aclose()
            await ad.close()
        return out

    try:
        for _ in range(rounds):
            for name, fn in (
                ("pydock sync", pd_one),
                ("docker-py", dp_one),
                ("docker CLI", cli_one),
            ):
                if name == "docker CLI" and cli is None:
                    continue
                start = time.perf_counter()
                for _ in range(per_round):
                    fn()
                samples.setdefault(name, []).append(
                    (time.perf_counter() - start) / per_round * 1000
                )
            for name, ms in anyio.run(run_async, 1).items():
                samples.setdefault(name, []).append(ms)
            for name, ms in anyio.run(run_async, in_flight).items():
                samples.setdefault(f"{name}, {in_flight} in flight", []).append(ms)
    finally:
        pd.close()
        dp.close()
    return {name: summarize(v) for name, v in samples.items()}


# -- log throughput -------------------------------------------------------------------

_LOGS_PYDOCK = """
import sys, time, pydock
c = pydock.Client(sys.argv[1]).containers.get(sys.argv[2])
t = time.perf_counter(); n = 0
with c.stream_logs(follow=True) as lines:  # following: ends when the (exited) container does
    for line in lines:
        n += len(line.data)
print(time.perf_counter() - t, n)
"""
_LOGS_DOCKERPY = """
import sys, time, docker
api = docker.APIClient(base_url=sys.argv[1], version="1.41")
t = time.perf_counter(); n = 0
for chunk in api.logs(sys.argv[2], stream=True, follow=True):
    n += len(chunk)
print(time.perf_counter() - t, n)
"""
_LOGS_AIODOCKER = """
import asyncio, sys, time, aiodocker
async def main():
    d = aiodocker.Docker(url=sys.argv[1], api_version="v1.41")
    c = d.containers.container(sys.argv[2])
    t = time.perf_counter(); n = 0
    async for piece in c.log(stdout=True, stderr=True, follow=True):
        n += len(piece)
    await d.close()
    print(time.perf_counter() - t, n)
asyncio.run(main())
"""


def bench_logs(rounds: int, mib: int = 256) -> dict[str, Any]:
    """Read 256 MiB of 1 KiB log lines from an exited container; Docker."""
    url = f"unix://{DOCKER_SOCK}"
    line = "x" * 1023
    script = f'yes "{line}" | head -c {mib * 2**20}'
    with pydock.Client(url) as client:
        c = client.containers.run(
            IMAGE, ["sh", "-c", script], detach=True, labels={"pydock-bench": "1"}
        )
        c.wait(timeout=600)
    samples: dict[str, dict[str, list[float]]] = {}
    contenders = [
        ("pydock", _LOGS_PYDOCK),
        ("docker-py", _LOGS_DOCKERPY),
        ("aiodocker", _LOGS_AIODOCKER),
    ]
    try:
        for r in range(rounds):
            for name, code in contenders if r % 2 == 0 else contenders[::-1]:
                seconds, nbytes, peak = _timed_child(code, url, c.id)
                entry = samples.setdefault(name, {"MB/s": [], "peak MiB": []})
                entry["MB/s"].append(nbytes / seconds / 1e6)
                entry["peak MiB"].append(peak / 1024)
    finally:
        with pydock.Client(url) as client:
            client.containers.get(c.id).remove(force=True)
    return {
        "MiB": mib,
        "results": {n: {k: summarize(v) for k, v in m.items()} for n, m in samples.items()},
    }


# -- registry pull and push -------------------------------------------------------------

_REG_PULL_PYDOCK = """
import sys, time, pydock
Registry = pydock.Registry  # imported before the clock starts, like a running program
t = time.perf_counter()
with Registry(sys.argv[1]) as reg:
    reg.pull_layout(sys.argv[2], sys.argv[3])
print(time.perf_counter() - t, 0)
"""
_REG_PUSH_PYDOCK = """
import sys, time, pydock
Registry = pydock.Registry  # imported before the clock starts, like a running program
t = time.perf_counter()
with Registry(sys.argv[1]) as reg:
    reg.push_layout(sys.argv[3], sys.argv[2])
print(time.perf_counter() - t, 0)
"""
# skopeo and podman remember where blobs live and mount them instead of
# uploading: forget (the cache only saves work, losing it is harmless).
_BLOB_CACHE = "/var/lib/containers/cache/blob-info-cache-v1.boltdb"
_CLI = """
import os, subprocess, sys, time
if os.path.exists(sys.argv[1]):
    os.unlink(sys.argv[1])
t = time.perf_counter()
subprocess.run(sys.argv[2:], check=True, stdout=subprocess.DEVNULL)
print(time.perf_counter() - t, 0)
"""


def _pid_of(name: str) -> int | None:
    done = subprocess.run(["pgrep", "-o", "-x", name], capture_output=True, text=True)
    return int(done.stdout.split()[0]) if done.returncode == 0 and done.stdout.strip() else None


def _daemon_peak(pids: list[int], reset: bool) -> float:
    """Peak RSS (MiB) of the engine daemons doing the work for the docker CLI.

    ``clear_refs`` 5 resets a process's peak RSS (VmHWM) without touching anything else.
    """
    total = 0.0
    for pid in pids:
        if reset:
            Path(f"/proc/{pid}/clear_refs").write_text("5")
            continue
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                total += int(line.split()[1]) / 1024
    return total


def _registry_case(host: str, mib: int, rounds: int, work: Path) -> dict[str, Any]:
    """One image with one random ``mib`` MiB layer: pulls and pushes, all contenders."""
    import contextlib
    import hashlib
    import shutil
    import tarfile

    from pydock._core.registry import blob_path

    url = f"unix://{DOCKER_SOCK}"
    repo = f"pydock-bench/layer{mib}"
    ref = f"{repo}:1"
    tagged = f"{host}/{ref}"
    with pydock.Client(url) as client:  # the image: one random layer, pushed by Docker
        rootfs = work / "rootfs.tar"
        blob = work / "random.bin"
        with open(blob, "wb") as f:
            for _ in range(mib):
                f.write(os.urandom(1 << 20))
        with tarfile.open(rootfs, "w") as tar:
            tar.add(blob, arcname="random.bin")
        blob.unlink()
        client.images.import_(rootfs, tagged)
        rootfs.unlink()
        client.images.push(tagged)
        client.images.remove(tagged, force=True)
    with pydock.Registry(host) as reg:
        manifest = reg.manifest(ref)
    layer = manifest.layers[0]  # type: ignore[union-attr]
    size = layer.size
    data = os.urandom(256 << 20)  # machine limits: sha256 on one core, curl download
    t = time.perf_counter()
    hashlib.sha256(data).digest()
    sha_mbs = len(data) / (time.perf_counter() - t) / 1e6
    del data
    curl = []
    for _ in range(3):
        t = time.perf_counter()
        blob_url = f"http://{host}/v2/{repo}/blobs/{layer.digest}"
        subprocess.run(["curl", "-s", "-o", "/dev/null", blob_url], check=True)
        curl.append(size / (time.perf_counter() - t) / 1e6)
    daemons = [p for p in (_pid_of("dockerd"), _pid_of("containerd")) if p is not None]
    samples: dict[str, dict[str, list[float]]] = {}

    def record(name: str, seconds: float, peak_mib: float) -> None:
        entry = samples.setdefault(name, {"MB/s": [], "peak MiB": []})
        entry["MB/s"].append(size / seconds / 1e6)
        entry["peak MiB"].append(peak_mib)

    def child(name: str, code: str, *args: str) -> None:
        os.sync()  # the writes of the one before must not slow this one down
        seconds, _, peak = _timed_child(code, *args)
        record(name, seconds, peak / 1024)

    def docker_cli(name: str, *argv: str) -> None:
        os.sync()
        _daemon_peak(daemons, reset=True)
        seconds, _, _ = _timed_child(_CLI, "/nonexistent", "docker", *argv)
        record(name, seconds, _daemon_peak(daemons, reset=False))

    def forget_docker_blob(reg: pydock.Registry, repos: list[str]) -> None:
        # dockerd remembers which repositories have the blob and mounts from them:
        # unlink it there so that `docker push` uploads (pydock-bench/pd-* keep it).
        for name in repos:
            with contextlib.suppress(pydock.errors.PydockError):
                reg.delete_blob(name, layer.digest)

    with pydock.Registry(host) as reg:
        for r in range(rounds):
            layout = work / f"layout-{r}"
            oci = work / f"oci-{r}"
            dk, pm = f"pydock-bench/dk-{mib}-{r}:1", f"pydock-bench/pm-{mib}-{r}:1"
            skopeo = ("skopeo", "copy", "--quiet", "--src-tls-verify=false")
            skopeo_push = ("skopeo", "copy", "--quiet", "--dest-tls-verify=false")
            docker = "pull: docker (dockerd+containerd peak)"
            pulls: list[tuple[str, str, tuple[str, ...]]] = [
                ("pull: pydock", _REG_PULL_PYDOCK, (host, ref, str(layout))),
                (
                    "pull: skopeo",
                    _CLI,
                    (_BLOB_CACHE, *skopeo, f"docker://{tagged}", f"oci:{oci}:1"),
                ),
                (docker, "", ("pull", "-q", tagged)),
                (
                    "pull: podman",
                    _CLI,
                    (_BLOB_CACHE, "podman", "pull", "-q", "--tls-verify=false", tagged),
                ),
            ]
            sk_dst = f"docker://{host}/pydock-bench/sk-{mib}-{r}:1"
            pushes: list[tuple[str, str, tuple[str, ...]]] = [
                (
                    "push: pydock",
                    _REG_PUSH_PYDOCK,
                    (host, f"pydock-bench/pd-{mib}-{r}:1", str(layout)),
                ),
                ("push: skopeo", _CLI, (_BLOB_CACHE, *skopeo_push, f"oci:{oci}:1", sk_dst)),
                ("push: docker (dockerd+containerd peak)", "", ("push", f"{host}/{dk}")),
                (
                    "push: podman",
                    _CLI,
                    (
                        _BLOB_CACHE,
                        "podman",
                        "push",
                        "-q",
                        "--tls-verify=false",
                        tagged,
                        f"{host}/{pm}",
                    ),
                ),
            ]
            for name, code, args in pulls if r % 2 == 0 else pulls[::-1]:
                if code:
                    child(name, code, *args)
                else:
                    docker_cli(name, *args)
            subprocess.run(["docker", "tag", tagged, f"{host}/{dk}"], check=True)
            known = [repo] + [f"pydock-bench/dk-{mib}-{i}" for i in range(r)]
            for name, code, args in pushes if r % 2 == 0 else pushes[::-1]:
                if code:
                    child(name, code, *args)
                    continue
                forget_docker_blob(reg, known)
                docker_cli(name, *args)
                reg.upload_blob(  # give the source repository its blob back
                    repo,
                    layout / blob_path(layer.digest),
                    digest=layer.digest,
                    mount_from=dk.split(":")[0],
                )
            subprocess.run(["docker", "rmi", "-f", tagged, f"{host}/{dk}"], capture_output=True)
            subprocess.run(["podman", "rmi", "-f", tagged], check=False, capture_output=True)
            shutil.rmtree(layout, ignore_errors=True)
            shutil.rmtree(oci, ignore_errors=True)
    return {
        "layer MiB": size / 2**20,
        "sha256 MB/s": sha_mbs,
        "curl MB/s": statistics.median(curl),
        "results": {n: {k: summarize(v) for k, v in m.items()} for n, m in samples.items()},
    }


def bench_registry(rounds: int, sizes: tuple[int, ...] = (256, 1024)) -> dict[str, Any]:
    """Pull and push of an image with one random layer of each size, plain registry."""
    import shutil
    import tempfile

    host = os.environ.get("PYDOCK_REGISTRY", "127.0.0.1:5000")
    cases: dict[str, Any] = {}
    for mib in sizes:
        work = Path(tempfile.mkdtemp(prefix="pydock-bench-", dir=os.environ.get("TMPDIR")))
        try:
            cases[str(mib)] = _registry_case(host, mib, rounds, work)
        finally:
            shutil.rmtree(work, ignore_errors=True)
    return {"cases": cases}


# -- report -------------------------------------------------------------------------


def fmt(s: dict[str, float], unit: str = "") -> str:
    return f"{s['median']:.3f}{unit} ({s['min']:.3f}-{s['max']:.3f})"


def report(res: dict[str, Any]) -> str:
    lines: list[str] = []
    if "import" in res:
        lines += [
            "### import time (ms, minus an empty interpreter)",
            "",
            "| statement | median (min-max) | / `import docker` |",
            "|---|---|---|",
        ]
        docker_ms = res["import"]["import docker"]["median"]
        for stmt, s in res["import"].items():
            lines.append(f"| `{stmt}` | {fmt(s)} | {s['median'] / docker_ms:.2f} |")
        lines.append("")
    for engine, table in res.get("latency", {}).items():
        lines += [
            f"### per-call latency, warm client, {engine} (ms/call)",
            "",
            "| client | ping | version | inspect |",
            "|---|---|---|---|",
        ]
        for name, ops in table.items():
            cells = [fmt(ops[op]) if op in ops else "n/a" for op in ("ping", "version", "inspect")]
            lines.append(f"| {name} | " + " | ".join(cells) + " |")
        lines += ["", "ratios (pydock / peer, median; < 1 is faster):", ""]
        for side, peers in (
            ("pydock sync", ["httpx.Client", "docker-py", "podman-py"]),
            ("pydock async", ["httpx.AsyncClient", "aiodocker"]),
        ):
            for peer in peers:
                if peer not in table or side not in table:
                    continue
                parts = []
                for op in ("ping", "version", "inspect"):
                    if op in table[peer] and op in table[side]:
                        r = table[side][op]["median"] / table[peer][op]["median"]
                        parts.append(f"{op} {r:.2f}")
                lines.append(f"- {side} / {peer}: " + ", ".join(parts))
        lines.append("")
    if "concurrency" in res:
        lines += [
            "### 1000 inspects, 50 in flight, Docker (calls/s)",
            "",
            "| client | calls/s median (min-max) |",
            "|---|---|",
        ]
        conc = res["concurrency"]
        for name, s in conc.items():
            lines.append(f"| {name} | {s['median']:.0f} ({s['min']:.0f}-{s['max']:.0f}) |")
        mine = conc["pydock async"]["median"]
        lines += [
            "",
            "ratios (pydock calls/s / peer; > 1 is faster): "
            + ", ".join(
                f"{n} {mine / s['median']:.2f}" for n, s in conc.items() if n != "pydock async"
            ),
            "",
        ]
    if "churn" in res:
        ch = res["churn"]
        lines += [
            "### container churn: create, start, wait, remove of `true`, Docker (ms each)",
            "",
            "| client | ms per container, median (min-max) |",
            "|---|---|",
        ]
        for name, m in ch.items():
            lines.append(f"| {name} | {fmt(m)} |")
        fastest = min(m["median"] for n, m in ch.items() if "pydock" not in n and "flight" not in n)
        seq = ch["pydock sync"]["median"]
        flight = [n for n in ch if n.startswith("pydock async,")]
        lines += [
            "",
            f"ratios: pydock sync / fastest sequential peer {seq / fastest:.2f}"
            + (
                f"; pydock async in flight throughput / its own sequential "
                f"{ch['pydock async']['median'] / ch[flight[0]]['median']:.2f}x"
                if flight
                else ""
            ),
            "",
        ]
    if "logs" in res:
        lg = res["logs"]
        lines += [
            f"### reading {lg['MiB']} MiB of 1 KiB log lines, Docker",
            "",
            "| client | MB/s | peak RSS MiB |",
            "|---|---|---|",
        ]
        for name, m in lg["results"].items():
            lines.append(f"| {name} | {fmt(m['MB/s'])} | {fmt(m['peak MiB'])} |")
        lines.append("")
    if "registry" in res:
        for rg in res["registry"]["cases"].values():
            lines += [
                f"### registry pull and push of a {rg['layer MiB']:.0f} MiB layer, plain registry",
                "",
                f"Machine limits: sha256 on one core {rg['sha256 MB/s']:.0f} MB/s; "
                f"curl download of the blob {rg['curl MB/s']:.0f} MB/s.",
                "",
                "| what | MB/s | peak RSS MiB |",
                "|---|---|---|",
            ]
            found = rg["results"]
            for name, m in found.items():
                lines.append(f"| {name} | {fmt(m['MB/s'])} | {fmt(m['peak MiB'])} |")
            lines.append("")
            for way in ("pull", "push"):
                mine = found.get(f"{way}: pydock")
                if mine is None:
                    continue
                speed = mine["MB/s"]["median"]
                ratios = [
                    f"{name.split(': ', 1)[1].split(' (')[0]} {speed / m['MB/s']['median']:.2f}x"
                    for name, m in found.items()
                    if name.startswith(f"{way}: ") and name != f"{way}: pydock"
                ]
                lines.append(
                    f"- {way}: pydock / "
                    + ", ".join(ratios)
                    + f"; {speed / rg['sha256 MB/s']:.0%} of the sha256 limit"
                )
            lines.append("")
    if "save" in res:
        sv = res["save"]
        lines += [
            f"### save an image with a {sv['layer MiB']} MiB layer to a file, Docker",
            "",
            "| client | seconds | MB/s | peak RSS MiB |",
            "|---|---|---|---|",
        ]
        for name, m in sv["results"].items():
            lines.append(f"| {name} | {fmt(m['s'])} | {fmt(m['MB/s'])} | {fmt(m['peak MiB'])} |")
        a, b = sv["results"]["pydock"], sv["results"]["docker-py"]
        lines += [
            "",
            f"ratios pydock / docker-py: time {a['s']['median'] / b['s']['median']:.2f}, "
            f"peak memory {a['peak MiB']['median'] / b['peak MiB']['median']:.2f}",
            "",
        ]
    if "build" in res:
        bd = res["build"]
        lines += [
            f"### build with a {bd['context MiB']} MiB context, {bd['sent MiB']} MiB of it "
            "sent (the rest excluded by .dockerignore), Docker",
            "",
            "| client | seconds | context MB/s | peak RSS MiB |",
            "|---|---|---|---|",
        ]
        for name, m in bd["results"].items():
            lines.append(f"| {name} | {fmt(m['s'])} | {fmt(m['MB/s'])} | {fmt(m['peak MiB'])} |")
        a, b = bd["results"]["pydock"], bd["results"]["docker-py"]
        lines += [
            "",
            f"ratios pydock / docker-py: time {a['s']['median'] / b['s']['median']:.2f}, "
            f"peak memory {a['peak MiB']['median'] / b['peak MiB']['median']:.2f}",
            "",
        ]
    return "\n".join(lines)


def main() -> int:
    faulthandler.dump_traceback_later(
        float(os.environ.get("PYDOCK_BENCH_HANG_DUMP", "1800")), exit=True
    )
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sections", default="import,latency,concurrency,churn,logs,registry,save,build"
    )
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--calls", type=int, default=200)
    args = parser.parse_args()
    sections = set(args.sections.split(","))
    res: dict[str, Any] = {
        "conditions": {
            "python": platform.python_version(),
            "machine": platform.machine(),
            "cpus": os.cpu_count(),
            "when": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()),
            "rounds": args.rounds,
            "calls": args.calls,
        }
    }
    if "import" in sections:
        res["import"] = bench_import(args.rounds)
    if "latency" in sections:
        res["latency"] = bench_latency(args.rounds, args.calls)
    if "concurrency" in sections:
        res["concurrency"] = bench_concurrency(args.rounds)
    if "churn" in sections:
        res["churn"] = bench_churn(min(args.rounds, 3))
    if "logs" in sections:
        res["logs"] = bench_logs(min(args.rounds, 2) * 2)
    if "registry" in sections:
        res["registry"] = bench_registry(min(args.rounds, 3))
    if "save" in sections:
        res["save"] = bench_save(min(args.rounds, 2))
    if "build" in sections:
        res["build"] = bench_build(min(args.rounds, 2))
    out = ROOT / "results"
    out.mkdir(exist_ok=True)
    (out / "latest.json").write_text(json.dumps(res, indent=2))
    print(report(res))
    return 0


if __name__ == "__main__":
    sys.exit(main())
