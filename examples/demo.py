"""pydock's walkthrough: the everyday docker tasks, through pydock, against real engines.

Run it with `bash scripts/demo` (which starts the engines and registries first),
or directly once they are up: `python examples/demo.py`.

Each step prints what it did. The walkthrough grows with the library: today it
connects to Docker and Podman (sync and async clients), detects each backend,
and checks the two local registries.
"""

from __future__ import annotations

import os
import ssl
import sys

import anyio
import httpx

import pydock

ENGINES = {
    "docker": os.environ.get("PYDOCK_DOCKER_HOST", "unix:///var/run/docker.sock"),
    "podman": os.environ.get("PYDOCK_PODMAN_HOST", "unix:///run/podman/podman.sock"),
}


def step(title: str) -> None:
    print(f"\n== {title}")


def engines_sync() -> None:
    for name, url in ENGINES.items():
        step(f"connect to {name} at {url} (sync client)")
        with pydock.Client(url) as client:
            assert client.ping(), f"{name} did not answer /_ping"
            version = client.version()
            info = client.info()
            print(
                f"backend detected: {client.backend}; engine {version.version}, "
                f"API {client.api_version} (engine max {version.api_version})"
            )
            print(
                f"host: {info.os}, {info.ncpu} CPUs, {info.mem_total // 2**20} MiB; "
                f"{info.images} images, {info.containers} containers "
                f"({info.containers_running} running), storage {info.storage_driver}"
            )


async def engines_async() -> None:
    step("both engines at once with the async client")

    async def one(name: str, url: str) -> None:
        async with pydock.AsyncClient(url) as client:
            version = await client.version()
            print(f"{name}: backend {client.backend}, engine {version.version}")

    async with anyio.create_task_group() as tg:
        for name, url in ENGINES.items():
            tg.start_soon(one, name, url)


def registries() -> None:
    plain = os.environ.get("PYDOCK_REGISTRY", "127.0.0.1:5000")
    step(f"registry at {plain}")
    answer = httpx.get(f"http://{plain}/v2/_catalog")
    answer.raise_for_status()
    print(
        f"API {answer.headers.get('Docker-Distribution-Api-Version')}; "
        f"repositories: {answer.json()['repositories']}"
    )
    secure = os.environ.get("PYDOCK_AUTH_REGISTRY", "127.0.0.1:5001")
    ca = os.environ.get("PYDOCK_AUTH_REGISTRY_CA")
    user = os.environ.get("PYDOCK_AUTH_REGISTRY_USER", "pydock")
    password = os.environ.get("PYDOCK_AUTH_REGISTRY_PASSWORD", "pydock-secret")
    step(f"TLS registry with basic auth at {secure}")
    if not ca:
        print("skipped: PYDOCK_AUTH_REGISTRY_CA is not set (run `bash scripts/engines up`)")
        return
    trust = ssl.create_default_context(cafile=ca)
    anonymous = httpx.get(f"https://{secure}/v2/", verify=trust)
    print(f"anonymous: HTTP {anonymous.status_code} ({anonymous.headers.get('WWW-Authenticate')})")
    answer = httpx.get(f"https://{secure}/v2/_catalog", verify=trust, auth=(user, password))
    answer.raise_for_status()
    print(f"as {user}: repositories {answer.json()['repositories']}")


def main() -> int:
    print(f"pydock {pydock.__version__}")
    engines_sync()
    anyio.run(engines_async)
    registries()
    print("\ndemo finished")
    return 0


if __name__ == "__main__":
    sys.exit(main())
