"""pydock's walkthrough: the everyday docker tasks, through pydock, against real engines.

Run it with `bash scripts/demo` (which starts the engines and registries first),
or directly once they are up: `python examples/demo.py`.

Each step prints what it did. On Docker and on Podman alike it connects and
detects the backend (sync and async clients), pulls an image from the local
registry by server/user/name, lists, inspects, tags, pushes and removes images,
runs containers (detached, named, with a restart policy and a published port,
fetching a page through it; auto-removed; exec; an interactive shell), copies
files in and out, commits a container to an image and runs it, lists and
prunes containers; builds a non-root user image from a Dockerfile model and a
web server image from a folder (with a .dockerignore), runs it with a published
port and pushes it; assembles and pushes an image with no engine at all
(reproducibly) and runs it on both engines; then it talks to the registries
directly, with no engine.
"""

from __future__ import annotations

import os
import sys
import tempfile
import uuid
from pathlib import Path

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
    secure = os.environ.get("PYDOCK_AUTH_REGISTRY", "127.0.0.1:5001")
    ca = os.environ.get("PYDOCK_AUTH_REGISTRY_CA")
    user = os.environ.get("PYDOCK_AUTH_REGISTRY_USER", "pydock")
    password = os.environ.get("PYDOCK_AUTH_REGISTRY_PASSWORD", "pydock-secret")
    step(f"log in to the TLS registry with basic auth at {secure}")
    if not ca:
        print("skipped: PYDOCK_AUTH_REGISTRY_CA is not set (run `bash scripts/engines up`)")
        return
    with pydock.Registry(secure, ca_cert=ca) as reg:
        try:
            reg.tags("pydock-test/busybox").collect()
        except pydock.errors.Unauthorized as exc:
            print(f"anonymous: refused ({type(exc).__name__}, HTTP {exc.status_code})")
        reg.login(user, password)
        print(f"as {user}: tags of pydock-test/busybox {reg.tags('pydock-test/busybox').collect()}")
        print(f"search 'busybox' in its catalog: {reg.search('busybox')}")
    for name, url in ENGINES.items():
        with pydock.Client(url) as client:
            status = client.login(user, password, secure)  # `docker login`, checked by the engine
            pulled = f"{secure}/pydock-test/busybox:1"
            image = client.images.pull(pulled)
            assert pulled in image.tags
            print(f"{name}: login -> {status!r}; pulled {pulled} with those credentials")
            client.images.remove(f"{secure}/pydock-test/busybox:1")


def images_and_containers(name: str, url: str) -> None:
    registry = os.environ.get("PYDOCK_REGISTRY", "127.0.0.1:5000")
    run_id = uuid.uuid4().hex[:8]
    label = {"pydock-demo": run_id}
    with pydock.Client(url) as client:
        step(f"{name}: pull {registry}/pydock-test/busybox:1 (server/user/name)")
        ref = pydock.ImageReference.parse(f"{registry}/pydock-test/busybox:1")
        print(f"reference: domain {ref.domain}, path {ref.path}, tag {ref.tag}")
        layers: set[str] = set()
        image = client.images.pull(str(ref), progress=lambda ev: layers.add(ev.layer or ""))
        print(
            f"pulled {image.id[:19]} tags={image.tags} ({image.size} bytes); "
            f"{len(layers - {''})} progress ids seen"
        )

        step(f"{name}: list, inspect, tag, push, remove")
        mine = f"{registry}/pydock-demo/busybox:{run_id}"
        client.images.tag(image, mine)
        listed = client.images.list(filters={"reference": [f"{registry}/pydock-demo/busybox"]})
        print(f"listed {[t for i in listed for t in i.tags]}")
        inspected = client.images.get(mine)
        print(
            f"inspect: os={inspected.os} arch={inspected.architecture} cmd={inspected.config.cmd}"
        )
        digest = client.images.push(mine)
        print(f"pushed {mine} -> {digest}")
        client.images.remove(mine)
        print(f"removed tag {mine}; still there: {client.images.exists(mine)}")

        step(f"{name}: run a web server (detached, named, restart policy, published port)")
        web = client.containers.run(
            str(ref),
            ["httpd", "-f", "-p", "80", "-h", "/var/www"],
            detach=True,
            name=f"pydock-demo-web-{run_id}",
            restart="unless-stopped",
            ports={"80/tcp": ("127.0.0.1", None)},
            labels=label,
        )
        try:
            port = web.host_port(80)
            page = ""
            for _ in range(50):
                try:
                    page = httpx.get(f"http://127.0.0.1:{port}/", timeout=2).text
                    break
                except httpx.HTTPError:
                    anyio.run(anyio.sleep, 0.1)
            print(
                f"{web.name} is {web.reload().status}, restart policy "
                f"{web.attrs['HostConfig']['RestartPolicy']['Name']}; "
                f"GET http://127.0.0.1:{port}/ -> {page.strip()!r}"
            )

            step(f"{name}: exec, and an interactive shell with a TTY")
            result = web.exec(["sh", "-c", "id -un; pwd"])
            print(f"exec -> exit {result.exit_code}, stdout {result.stdout!r}")
            with web.exec_session(["sh"], tty=True) as sh:
                sh.send(b"echo $((6*7))\n")
                seen = sh.read_until(b"42", timeout=10)
                sh.send(b"exit 3\n")
                code = sh.wait(timeout=10)
            print(f"interactive sh printed 42: {b'42' in seen}; exit code {code}")

            step(f"{name}: copy files in and out")
            with tempfile.TemporaryDirectory() as tmp:
                src = Path(tmp, "hello.txt")
                src.write_text(f"hello from the host, run {run_id}\n")
                src.chmod(0o640)
                web.copy_to(src, "/tmp/")
                back = Path(tmp, "back")
                back.mkdir()
                web.copy_from("/tmp/hello.txt", back)
                copied = back / "hello.txt"
                print(
                    f"round trip equal: {copied.read_text() == src.read_text()}, "
                    f"mode {oct(copied.stat().st_mode & 0o777)}"
                )

            step(f"{name}: commit the container to an image and run it")
            web.exec(["sh", "-c", "echo committed > /etc/motd"])
            committed = web.commit(
                "pydock-demo/committed", run_id, message="demo", changes=["CMD cat /etc/motd"]
            )
            out = client.containers.run(committed.id, remove=True, labels=label)
            print(f"committed {committed.id[:19]}; running it prints {out.stdout!r}")
            client.images.remove(committed.id, force=True)
        finally:
            web.remove(force=True)

        step(f"{name}: auto-remove, list running and all, prune")
        gone = client.containers.run(str(ref), ["true"], detach=True, remove=True, labels=label)
        for _ in range(100):  # `--rm`: the engine removes it once it exits
            if not client.containers.exists(gone.id):
                break
            anyio.run(anyio.sleep, 0.1)
        stopped = client.containers.run(str(ref), ["true"], detach=True, labels=label)
        stopped.wait(timeout=30)
        running = client.containers.list(filters={"label": [f"pydock-demo={run_id}"]})
        every = client.containers.list(all=True, filters={"label": [f"pydock-demo={run_id}"]})
        print(
            f"running: {len(running)}, all: {[c.name for c in every]}, "
            f"auto-removed one gone: {not client.containers.exists(gone.id)}"
        )
        report = client.containers.prune(filters={"label": [f"pydock-demo={run_id}"]})
        print(f"pruned {len(report.deleted)} container(s)")
        client.images.remove(str(ref))


def get_page(url: str) -> str:
    for _ in range(50):
        try:
            return httpx.get(url, timeout=2).text
        except httpx.HTTPError:
            anyio.run(anyio.sleep, 0.1)
    raise RuntimeError(f"no answer from {url}")


def builds(name: str, url: str) -> None:
    registry = os.environ.get("PYDOCK_REGISTRY", "127.0.0.1:5000")
    base = f"{registry}/pydock-test/busybox:1"
    run_id = uuid.uuid4().hex[:8]
    with pydock.Client(url) as client:
        step(f"{name}: build a non-root user image from a Dockerfile model")
        df = (
            pydock.Dockerfile()
            .from_(base)
            .maintainer("pydock demo <demo@example.invalid>")
            .run("adduser -D -u 1000 app")
            .workdir("/home/app")
            .copy("greet.sh", "/home/app/greet.sh", chown="app:app")
            .user("app")
            .env(GREETING="hello")
            .volume("/home/app/data")
            .expose(8080)
            .entrypoint(["/bin/sh", "/home/app/greet.sh"])
            .cmd(["world"])
        )
        print(str(df).rstrip())
        greet = b'echo "$GREETING $1 from $(whoami) in $(pwd)"\n'

        def show(event: pydock.BuildEvent) -> None:
            if event.kind == "step":
                print(f"  step {event.step}/{event.total_steps}: {event.instruction}")

        app = client.build(
            df, tag=f"pydock-demo/app:{run_id}", files={"greet.sh": greet}, progress=show
        )
        out = client.containers.run(app.id, remove=True).stdout.decode().strip()
        again = client.containers.run(app.id, ["pydock"], remove=True).stdout.decode().strip()
        print(f"built {app.id[:19]} user={app.config.user} workdir={app.config.workdir}")
        print(f"run: {out!r}; with an argument: {again!r}")

        step(f"{name}: build a web server image from a folder, run it, push it")
        with tempfile.TemporaryDirectory() as tmp:
            ctx = Path(tmp)
            (ctx / "Dockerfile").write_text(
                f"FROM {base}\n"
                "COPY site/ /var/www/\n"
                "EXPOSE 80\n"
                'CMD ["httpd", "-f", "-p", "80", "-h", "/var/www"]\n'
            )
            (ctx / "site").mkdir()
            (ctx / "site" / "index.html").write_text(f"<h1>built by pydock, run {run_id}</h1>\n")
            (ctx / "site" / "secret.key").write_text("not for the image")
            (ctx / ".dockerignore").write_text("**/*.key\n")
            web_ref = f"{registry}/pydock-demo/web:{run_id}"
            web_image = client.build(ctx, tag=web_ref)
        web = client.containers.run(
            web_image.id, detach=True, ports={"80/tcp": ("127.0.0.1", None)}, remove=True
        )
        try:
            port = web.host_port(80)
            page = get_page(f"http://127.0.0.1:{port}/")
            key = web.exec(["ls", "/var/www"]).stdout.decode().split()
            print(f"GET http://127.0.0.1:{port}/ -> {page.strip()!r}; /var/www holds {key}")
        finally:
            web.remove(force=True)
        digest = client.images.push(web_ref)
        print(f"pushed {web_ref} -> {digest}")
        for image in (web_image, app):
            client.images.remove(image.id, force=True)


def daemonless() -> None:
    registry = os.environ.get("PYDOCK_REGISTRY", "127.0.0.1:5000")
    run_id = uuid.uuid4().hex[:8]
    step(f"build an image with no engine (ImageBuilder) and push it to {registry}")
    with pydock.Registry(registry) as reg:
        plan = (
            pydock.ImageBuilder.from_image(f"{registry}/pydock-test/busybox:1", registry=reg)
            .add_files({"/app/hello.txt": b"hello from a daemonless build\n"}, uid=1000, gid=1000)
            .env(GREETING="built without an engine")
            .workdir("/app")
            .user("1000:1000")
            .cmd(["sh", "-c", 'cat hello.txt; echo "$GREETING as $(id -u) in $(pwd)"'])
        )
        ref = f"{registry}/pydock-demo/daemonless:{run_id}"
        first = plan.push(ref)
        again = plan.push(f"{registry}/pydock-demo/daemonless:{run_id}-again")
        print(
            f"pushed {ref} -> {first.digest}; rebuilt: same digest {again.digest == first.digest}"
        )
    for name, url in ENGINES.items():
        with pydock.Client(url) as client:
            image = client.images.pull(ref)
            out = client.containers.run(image.id, remove=True).stdout.decode()
            print(f"{name} pulled and ran it: {out.strip()!r}")
            client.images.remove(image.id, force=True)


def registry_direct() -> None:
    plain = os.environ.get("PYDOCK_REGISTRY", "127.0.0.1:5000")
    step(f"registry API directly (no engine): {plain}")
    with pydock.Registry(plain) as reg:
        print(
            f"ping: {reg.ping()}; tags of pydock-test/busybox: "
            f"{list(reg.tags('pydock-test/busybox'))}"
        )
        digest = reg.resolve("pydock-test/busybox:1")
        manifest = reg.manifest("pydock-test/busybox:1")
        print(f"resolve -> {digest}; manifest {type(manifest).__name__}")
        copied = reg.copy("pydock-test/busybox:1", f"{plain}/pydock-demo/copy:1")
        print(f"copied within the registry -> {copied}")


def main() -> int:
    print(f"pydock {pydock.__version__}")
    engines_sync()
    anyio.run(engines_async)
    for name, url in ENGINES.items():
        images_and_containers(name, url)
        builds(name, url)
    registries()
    daemonless()
    registry_direct()
    print("\ndemo finished")
    return 0


if __name__ == "__main__":
    sys.exit(main())
