"""The testing toolkit's I/O: start containers, wait until they are ready, always clean up.

Written once, async; the sync module is generated from it. ``pydock.testing``
exports the sync functions under their own names and these async ones with
an ``async`` prefix (see its docstring). Decisions (what a strategy means,
what is still pending, whose a leftover is) live in the ``pydock.testing._*`` modules.
"""

from __future__ import annotations

import builtins
import contextlib
import functools
import logging
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any, Literal

import anyio  # unasync: remove
import httpx

from pydock._async._backend import connect_tcp, fail_after, monotonic, sleep
from pydock._async._client import AsyncClient
from pydock._core.containers import encode_filters
from pydock.errors import (
    APIError,
    ContainerExited,
    ContainerNotFound,
    ContainerUnhealthy,
    NotFound,
    PydockError,
    WaitError,
    WaitTimeout,
)
from pydock.testing._hosts import (
    PortsSpec,
    default_ports,
    host_address,
    host_port,
    http_url,
    is_local_engine,
    only_tcp_port,
)
from pydock.testing._plan import WaitPlan
from pydock.testing._report import describe_state, format_logs, has_exited, last_lines
from pydock.testing._resources import Network, RunOptions, Volume
from pydock.testing._sessions import (
    SESSION_LABEL,
    classify_owner,
    current_session,
    needs_sweep,
    next_name,
)
from pydock.testing._waits import (
    DEFAULT_TIMEOUT,
    ExecWait,
    HealthWait,
    HttpWait,
    LogWait,
    PortWait,
    WaitArg,
    WaitStrategy,
    as_strategy,
)

if TYPE_CHECKING:
    from typing_extensions import Self, Unpack

    from pydock._async._containers import AsyncContainer

__all__ = ["AsyncSandbox", "remove_session", "remove_stale", "run_container", "wait_for"]

log = logging.getLogger("pydock.testing")

PullPolicy = Literal["missing", "always", "never"]

#: Seconds one connect or HTTP probe may take.
PROBE_TIMEOUT = 2.0
#: Seconds one command probe (``for_exec``) may take (async only: blocking code cannot be cut).
EXEC_TIMEOUT = 10.0
#: How long a fresh connection is watched for an immediate close (a port proxy with nothing behind).
_PROXY_GRACE = 0.25
_LOG_TAIL = 100

# Cleanup must finish even when the surrounding task is cancelled.
_cleanup_scope: Callable[[], contextlib.AbstractContextManager[Any]] = contextlib.nullcontext
_cleanup_scope = functools.partial(anyio.CancelScope, shield=True)  # unasync: remove


def _label(container: AsyncContainer) -> str:
    name = container.name or container.short_id
    return f"container {name} ({container.image})" if container.image else f"container {name}"


async def _tail(container: AsyncContainer) -> str:
    with contextlib.suppress(PydockError):
        return last_lines(await container.logs(tail=_LOG_TAIL), 30)
    return ""


def _error_kwargs(container: AsyncContainer, logs: str) -> dict[str, Any]:
    return {
        "container_id": container.id,
        "container_name": container.name,
        "status": container.status,
        "logs": logs,
    }


# --------------------------------------------------------------------------- probes


class _Prober:
    """Probes one container for the leaf strategies of a wait; keeps per-wait state."""

    def __init__(self, container: AsyncContainer, started: float) -> None:
        self._container = container
        self._client = container._client
        self._http: dict[bool, httpx.AsyncClient] = {}
        self._logs: dict[str, str] = {}
        self._health_run_at = started

    async def snapshot(self, strategy: WaitStrategy) -> AsyncContainer:
        self._logs.clear()
        try:
            return await self._container.reload()
        except ContainerNotFound:
            raise ContainerExited(
                f"{_label(self._container)} was removed while waiting for {strategy.describe()}",
                exit_code=None,
                container_id=self._container.id,
                container_name=self._container.name,
                status="removed",
            ) from None

    async def check(self, strategy: WaitStrategy, current: AsyncContainer) -> tuple[bool, str]:
        if isinstance(strategy, LogWait):
            return await self._check_log(strategy, current)
        if isinstance(strategy, PortWait):
            return await self._check_port(strategy, current)
        if isinstance(strategy, HttpWait):
            return await self._check_http(strategy, current)
        if isinstance(strategy, HealthWait):
            return await self._check_health(strategy, current)
        if isinstance(strategy, ExecWait):
            return await self._check_exec(strategy, current)
        raise TypeError(f"not a wait strategy pydock can probe: {strategy!r}")

    async def _check_log(self, strategy: LogWait, current: AsyncContainer) -> tuple[bool, str]:
        text = self._logs.get(strategy.stream)
        if text is None:
            output = await current.logs(
                stdout=strategy.stream != "stderr", stderr=strategy.stream != "stdout"
            )
            text = self._logs[strategy.stream] = output.decode("utf-8", "replace")
        seen = strategy.count(text)
        return seen >= strategy.times, f"seen {seen} of {strategy.times} times"

    async def _check_port(self, strategy: PortWait, current: AsyncContainer) -> tuple[bool, str]:
        host, port = host_address(current, strategy.port), host_port(current, strategy.port)
        try:
            sock = await connect_tcp(host, port, PROBE_TIMEOUT)
        except httpx.TransportError as exc:
            return False, f"{host}:{port}: {exc}"
        try:
            data = await sock.receive(1, timeout=_PROXY_GRACE)
        except httpx.TimeoutException:
            return True, f"{host}:{port} accepts connections"
        except httpx.TransportError as exc:
            return False, f"{host}:{port}: connection reset ({exc})"
        finally:
            await sock.aclose()
        if data:
            return True, f"{host}:{port} accepts connections"
        return False, f"{host}:{port}: connection closed at once (nothing listens behind the port)"

    async def _check_http(self, strategy: HttpWait, current: AsyncContainer) -> tuple[bool, str]:
        port = strategy.port or only_tcp_port(current)
        url = http_url(current, port, strategy.path, scheme=strategy.scheme)
        client = self._http.get(strategy.verify)
        if client is None:
            client = self._http[strategy.verify] = httpx.AsyncClient(
                timeout=PROBE_TIMEOUT, verify=strategy.verify, trust_env=False
            )
        try:
            response = await client.request(strategy.method, url, headers=strategy.headers)
        except httpx.HTTPError as exc:
            return False, f"{url}: {type(exc).__name__}{f': {exc}' if str(exc) else ''}"
        ok, why = strategy.accepts(response.status_code, response.content)
        return ok, f"{url}: {why}"

    async def _check_health(
        self, strategy: HealthWait, current: AsyncContainer
    ) -> tuple[bool, str]:
        state = current.state
        health = state.health if state is not None else None
        check = (current.attrs.get("Config") or {}).get("Healthcheck") or {}
        if health is None:
            raise WaitError(
                f"{_label(current)} has no health check: give it one "
                "(healthcheck=pydock.Healthcheck(...)) or wait for something else",
                **_error_kwargs(current, ""),
            )
        output = _last_health_output(current.attrs)
        if health != "healthy" and self._client.backend == "podman":
            health, output = await self._run_podman_healthcheck(current, check, health, output)
        if health == "unhealthy" and strategy.fail_on_unhealthy:
            logs = await _tail(current)
            raise ContainerUnhealthy(
                f"{_label(current)} is unhealthy"
                + (f"; last check said: {output}" if output else "")
                + format_logs(logs),
                **_error_kwargs(current, logs),
            )
        return health == "healthy", f"health {health}" + (f" ({output})" if output else "")

    async def _run_podman_healthcheck(
        self, current: AsyncContainer, check: Mapping[str, Any], health: str, output: str
    ) -> tuple[str, str]:
        # Podman runs checks from systemd timers; without systemd nothing runs them,
        # so run one through the API at the container's interval (as Docker would).
        interval = (check.get("Interval") or 30_000_000_000) / 1e9
        now = monotonic()
        if now - self._health_run_at < interval:
            return health, output
        self._health_run_at = now
        try:
            # The answer tells this one run's result; the container's status (which
            # counts retries and the start period) is in a fresh inspect.
            await self._client.request(
                "GET",
                f"/containers/{current.id}/healthcheck",
                f"/containers/{current.id}/healthcheck",
                resource="container",
            )
            fresh = await current.reload()
        except APIError as exc:
            return health, f"running the check failed: {exc}"
        fresh_health = fresh.state.health if fresh.state is not None else None
        return fresh_health or health, _last_health_output(fresh.attrs) or output

    async def _check_exec(self, strategy: ExecWait, current: AsyncContainer) -> tuple[bool, str]:
        try:
            with fail_after(EXEC_TIMEOUT):
                result = await current.exec(strategy.command)
        except TimeoutError:
            return False, f"did not finish within {EXEC_TIMEOUT} s"
        except PydockError as exc:
            return False, str(exc)
        said = last_lines(result.stderr or result.stdout, 1)
        detail = f"exit code {result.exit_code}" + (f": {said}" if said else "")
        return result.exit_code == strategy.exit_code, detail

    async def aclose(self) -> None:
        for client in self._http.values():
            await client.aclose()
        self._http.clear()


def _last_health_output(payload: Mapping[str, Any]) -> str:
    health = (payload.get("State") or {}).get("Health") or {}
    entries = health.get("Log") or [] if isinstance(health, Mapping) else []
    if entries and isinstance(entries[-1], Mapping):
        return str(entries[-1].get("Output") or "").strip()
    return ""


async def wait_for(
    container: AsyncContainer,
    wait: WaitArg,
    *,
    timeout: float = DEFAULT_TIMEOUT,
    poll_interval: float = 0.1,
) -> AsyncContainer:
    """Wait until a started container satisfies ``wait``; return a fresh snapshot.

    Probes run every ``poll_interval`` seconds (growing to half a second). If the
    container exits first, the wait stops at once.

    Args:
        container: A started container.
        wait: A strategy (``for_log(...)``, ``for_port(...)``...), a list of
            strategies (all of them), or None (return at once).
        timeout: Seconds for strategies that name no timeout of their own.
        poll_interval: Seconds between the first probes.

    Returns:
        The container's snapshot taken when it became ready (ports published).

    Raises:
        ContainerExited: The container stopped or was removed (its exit code
            and last log lines are in the message).
        ContainerUnhealthy: The engine reported it unhealthy (``for_healthy``).
        WaitTimeout: A strategy timed out (what was pending, the container's
            state and last log lines are in the message).
        PortNotPublished: A strategy names a port that is not published.
        WaitError: The strategy cannot apply (``for_healthy`` without a health check).
    """
    strategy = as_strategy(wait)
    if strategy is None:
        return await container.reload()
    started = monotonic()
    plan = WaitPlan(strategy, start=started, default_timeout=timeout)
    prober = _Prober(container, started)
    delay = poll_interval
    try:
        while True:
            current = await prober.snapshot(strategy)
            exited = has_exited(current.state, current.status)
            for step in plan.pending():
                # A stopped container can still show its output, nothing else.
                if not exited or isinstance(step.strategy, LogWait):
                    ok, detail = await prober.check(step.strategy, current)
                    step.record(ok, detail)
            now = monotonic()
            outcome = plan.update(now)
            if outcome == "ok":
                return await current.reload()  # probes may have changed it (health, ports)
            if exited:
                logs = await _tail(current)
                code = current.state.exit_code if current.state is not None else None
                raise ContainerExited(
                    f"{_label(current)} exited with code {code} before it was ready "
                    f"(waiting for {strategy.describe()})" + format_logs(logs),
                    exit_code=code,
                    **_error_kwargs(current, logs),
                )
            if outcome == "failed":
                logs = await _tail(current)
                pending = plan.unsatisfied()
                raise WaitTimeout(
                    f"{_label(current)} was not ready after {now - started:.1f} s; "
                    "still waiting for:\n"
                    + "\n".join(f"  - {item}" for item in pending)
                    + f"\nstate: {describe_state(current.state, current.status)}"
                    + format_logs(logs),
                    pending=pending,
                    **_error_kwargs(current, logs),
                )
            deadline = plan.next_deadline()
            pause = delay if deadline is None else max(0.0, min(delay, deadline - now))
            await sleep(pause)
            delay = min(delay * 1.5, 0.5)
    finally:
        with _cleanup_scope():
            await prober.aclose()


# --------------------------------------------------------------------------- sandbox


class AsyncSandbox:
    """Containers, networks and volumes for a test, removed together when it closes.

    Everything it creates carries the labels of this process's session, so a
    run that dies before closing leaves leftovers that the next run removes
    (:func:`remove_stale`). Use it as ``async with``, or call :meth:`aclose`.
    Calling the sandbox is :meth:`run` (the ``pydock_container`` fixture is one).

    Args:
        client: The engine; None: ``AsyncClient.from_env()``, closed with the sandbox.
        timeout: Seconds a wait strategy waits when it names no timeout.
    """

    def __init__(self, client: AsyncClient | None = None, *, timeout: float = DEFAULT_TIMEOUT):
        self._client = client
        self._owns_client = client is None
        self._timeout = timeout
        self._resources: builtins.list[tuple[str, str]] = []
        self._closed = False

    @property
    def client(self) -> AsyncClient:
        """The engine client the sandbox uses."""
        if self._client is None:
            self._client = AsyncClient.from_env()
        return self._client

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def _prepare(self) -> AsyncClient:
        if self._closed:
            raise PydockError("the sandbox is closed")
        client = self.client
        await client.connect()
        if needs_sweep(client.base_url):
            await remove_stale(client)
        return client

    async def run(
        self,
        image: str,
        *,
        command: str | Sequence[str] | None = None,
        ports: PortsSpec = None,
        environment: Mapping[str, Any] | Sequence[str] | None = None,
        wait: WaitArg = None,
        name: str | None = None,
        labels: Mapping[str, str] | None = None,
        pull: PullPolicy = "missing",
        timeout: float | None = None,
        **options: Unpack[RunOptions],
    ) -> AsyncContainer:
        """Start a container, wait until it is ready, and keep it until the sandbox closes.

        Args:
            image: The image (pulled when missing, see ``pull``).
            command: The command (a list, or a string split like a shell would).
            ports: Container ports to publish on free host ports (``[80, "53/udp"]``;
                on ``127.0.0.1`` for a local engine), or a ``containers.run``
                mapping (``{"80/tcp": 8080}``).
            environment: Environment variables.
            wait: What to wait for (a strategy or a list of them); None: nothing.
            name: The container's name (default: a unique ``pydock-<session>-cN``).
            labels: Extra labels (the session labels are always added).
            pull: ``"missing"``, ``"always"`` or ``"never"``.
            timeout: Seconds for strategies without their own (None: the sandbox's).
            **options: Other ``containers.run`` settings (``volumes``,
                ``healthcheck``, ``network_mode``, ``entrypoint``...).

        Returns:
            A snapshot of the ready container (ports published).

        Raises:
            ContainerExited: It exited before it was ready.
            WaitTimeout: It was not ready in time.
            ImageNotFound: The image is missing and cannot be pulled.
        """
        client = await self._prepare()
        session = current_session()
        container_name = name or next_name("c")
        if pull == "always" or (pull == "missing" and not await client.images.exists(image)):
            await client.images.pull(image)
        try:
            # Shielded: a create cut short by cancellation still happens in the engine,
            # and the container would be left without anyone knowing its id.
            with _cleanup_scope():
                container = await client.containers.create(
                    image,
                    command,
                    pull="never",
                    name=container_name,
                    ports=default_ports(ports, local=is_local_engine(client.base_url)),
                    environment=environment,
                    labels={**(labels or {}), **session.labels()},
                    **options,
                )
        except BaseException:
            with _cleanup_scope():
                await _remove_if_ours(client, container_name, session.id)
            raise
        self._resources.append(("container", container.id))
        try:
            await container.start()
            return await wait_for(
                container, wait, timeout=self._timeout if timeout is None else timeout
            )
        except BaseException:
            with _cleanup_scope():
                self._resources.remove(("container", container.id))
                await _remove(client, "container", container.id)
            raise

    __call__ = run

    async def network(
        self,
        name: str | None = None,
        *,
        driver: str | None = None,
        internal: bool = False,
        labels: Mapping[str, str] | None = None,
    ) -> Network:
        """Create a network, removed when the sandbox closes.

        Attach containers with ``network_mode=network.name``.

        Raises:
            Conflict: The name is taken.
        """
        client = await self._prepare()
        body: dict[str, Any] = {
            "Name": name or next_name("n"),
            "Labels": {**(labels or {}), **current_session().labels()},
            "CheckDuplicate": True,
            "Internal": internal,
        }
        if driver:
            body["Driver"] = driver
        created = await client._json("POST", "/networks/create", json=body, idempotent=False)
        network = Network(id=str(created["Id"]), name=body["Name"])
        self._resources.append(("network", network.id))
        return network

    async def volume(
        self, name: str | None = None, *, labels: Mapping[str, str] | None = None
    ) -> Volume:
        """Create a named volume, removed when the sandbox closes.

        Mount it with ``volumes=[f"{volume.name}:/data"]``.
        """
        client = await self._prepare()
        body = {
            "Name": name or next_name("v"),
            "Labels": {**(labels or {}), **current_session().labels()},
        }
        created = await client._json("POST", "/volumes/create", json=body, idempotent=False)
        volume = Volume(name=str(created["Name"]), mountpoint=str(created.get("Mountpoint") or ""))
        self._resources.append(("volume", volume.name))
        return volume

    async def aclose(self) -> None:
        """Remove everything the sandbox made (newest first); close its own client."""
        with _cleanup_scope():
            self._closed = True
            while self._resources:
                kind, ident = self._resources.pop()
                assert self._client is not None
                await _remove(self._client, kind, ident)
            if self._owns_client and self._client is not None:
                await self._client.aclose()


@asynccontextmanager
async def run_container(
    image: str,
    *,
    command: str | Sequence[str] | None = None,
    ports: PortsSpec = None,
    environment: Mapping[str, Any] | Sequence[str] | None = None,
    wait: WaitArg = None,
    client: AsyncClient | None = None,
    name: str | None = None,
    labels: Mapping[str, str] | None = None,
    pull: PullPolicy = "missing",
    timeout: float = DEFAULT_TIMEOUT,
    **options: Unpack[RunOptions],
) -> AsyncIterator[AsyncContainer]:
    """Start a container, wait until it is ready, yield it, and always remove it.

    The container is removed when the block ends, also on errors,
    ``KeyboardInterrupt`` and cancellation (the removal is shielded).

    Args:
        image: The image (pulled when missing, see ``pull``).
        command: The command (a list, or a string split like a shell would).
        ports: Container ports to publish on free host ports (``[80]``; on
            ``127.0.0.1`` for a local engine), or a ``containers.run`` mapping.
        environment: Environment variables.
        wait: What to wait for: a strategy (``for_log``, ``for_port``,
            ``for_http``, ``for_healthy``, ``for_exec``), a list of them (all),
            or None.
        client: The engine; None: ``from_env()`` (closed afterwards).
        name: The container's name (default: a unique ``pydock-<session>-cN``).
        labels: Extra labels (the session labels are always added).
        pull: ``"missing"``, ``"always"`` or ``"never"``.
        timeout: Seconds for strategies that name no timeout.
        **options: Other ``containers.run`` settings.

    Yields:
        A snapshot of the ready container.

    Raises:
        ContainerExited: It exited before it was ready.
        WaitTimeout: It was not ready in time.
        ImageNotFound: The image is missing and cannot be pulled.
    """
    async with AsyncSandbox(client, timeout=timeout) as sandbox:
        yield await sandbox.run(
            image,
            command=command,
            ports=ports,
            environment=environment,
            wait=wait,
            name=name,
            labels=labels,
            pull=pull,
            **options,
        )


# --------------------------------------------------------------------------- cleanup


async def _remove(client: AsyncClient, kind: str, ident: str) -> None:
    try:
        if kind == "container":
            await client._request(
                "DELETE",
                f"/containers/{ident}",
                params={"force": True, "v": True},
                resource="container",
            )
        elif kind == "network":
            await client._request("DELETE", f"/networks/{ident}")
        else:
            await client._request("DELETE", f"/volumes/{ident}", params={"force": True})
    except NotFound:
        pass
    except PydockError as exc:
        log.warning("could not remove %s %s: %s", kind, ident, exc)


async def _remove_if_ours(client: AsyncClient, name: str, session_id: str) -> None:
    """After a failed create, remove the container by name if this session made it."""
    with contextlib.suppress(PydockError):
        found = await client.containers.get(name)
        if found.labels.get(SESSION_LABEL) == session_id:
            await _remove(client, "container", found.id)


async def _labelled(
    client: AsyncClient, value: str
) -> builtins.list[tuple[str, str, Mapping[str, str]]]:
    """Every (kind, id, labels) carrying the session label (``value``: key or key=value)."""
    filters = encode_filters({"label": [value]})
    out: builtins.list[tuple[str, str, Mapping[str, str]]] = []
    containers = await client._json(
        "GET", "/containers/json", params={"all": True, "filters": filters}
    )
    for item in containers or []:
        out.append(("container", str(item["Id"]), item.get("Labels") or {}))
    networks = await client._json("GET", "/networks", params={"filters": filters})
    for item in networks or []:
        out.append(("network", str(item["Id"]), item.get("Labels") or {}))
    volumes = await client._json("GET", "/volumes", params={"filters": filters})
    for item in (volumes or {}).get("Volumes") or []:
        out.append(("volume", str(item["Name"]), item.get("Labels") or {}))
    return out


async def remove_stale(client: AsyncClient) -> builtins.list[str]:
    """Remove the leftovers of runs that are gone (killed, crashed) on this machine.

    A resource is stale when the process that made it no longer runs (checked
    by pid and start time on the same host, pid namespace and boot). Resources
    of runs still going (another pytest-xdist worker, a parallel job) and of
    other machines are left alone. Runs once per engine automatically when a
    process first starts something.

    Returns:
        What was removed (``"container <id>"``...).
    """
    session = current_session()
    removed: builtins.list[str] = []
    for kind, ident, labels in await _labelled(client, SESSION_LABEL):
        if classify_owner(labels, session) == "stale":
            log.info("removing stale %s %s of session %s", kind, ident, labels.get(SESSION_LABEL))
            await _remove(client, kind, ident)
            removed.append(f"{kind} {ident}")
    return removed


async def remove_session(client: AsyncClient, session_id: str | None = None) -> builtins.list[str]:
    """Remove everything a session made (default: this process's session).

    Returns:
        What was removed (``"container <id>"``...).
    """
    sid = session_id or current_session().id
    removed: builtins.list[str] = []
    for kind, ident, _labels in await _labelled(client, f"{SESSION_LABEL}={sid}"):
        await _remove(client, kind, ident)
        removed.append(f"{kind} {ident}")
    return removed
