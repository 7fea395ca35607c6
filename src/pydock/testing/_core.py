"""The testing toolkit without I/O: wait strategies, the wait plan, labels and host helpers.

Everything here is pure or reads only this machine's ``/proc``: the wait
strategies are descriptions (what to wait for), :class:`WaitPlan` decides
what is still pending, satisfied or timed out, and the session helpers decide
from a resource's labels whether the run that made it is still going. The
I/O that probes a container lives in ``pydock._async._testing`` (and its
generated sync twin).
"""

from __future__ import annotations

import os
import re
import socket
import uuid
from collections.abc import Callable, Collection, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal, Protocol, TypeAlias
from urllib.parse import urlsplit

import attrs

from pydock._core.containers import (
    ContainerSettings,
    PortBinding,
    normalize_port,
)
from pydock.errors import (
    ContainerExited,
    ContainerUnhealthy,
    PortNotPublished,
    WaitError,
    WaitTimeout,
)

if TYPE_CHECKING:
    from pydock._core.containers import ContainerState

__all__ = [
    "AllOf",
    "AnyOf",
    "ContainerExited",
    "ContainerUnhealthy",
    "ExecWait",
    "HealthWait",
    "HttpWait",
    "LABEL_PREFIX",
    "LogWait",
    "Network",
    "PortNotPublished",
    "PortWait",
    "ProcessIdentity",
    "RunOptions",
    "SESSION_LABEL",
    "Session",
    "Volume",
    "WaitError",
    "WaitPlan",
    "WaitStep",
    "WaitStrategy",
    "WaitTimeout",
    "all_of",
    "any_of",
    "as_strategy",
    "classify_owner",
    "current_session",
    "default_ports",
    "engine_host",
    "for_exec",
    "for_healthy",
    "for_http",
    "for_log",
    "for_port",
    "host_address",
    "host_port",
    "http_url",
    "is_local_engine",
    "last_lines",
]

#: Seconds a wait strategy waits when it names no timeout of its own.
DEFAULT_TIMEOUT = 60.0

# --------------------------------------------------------------------------- errors


# --------------------------------------------------------------------------- strategies

StatusSpec: TypeAlias = "int | Collection[int] | Callable[[int], bool]"
BodySpec: TypeAlias = "str | bytes | re.Pattern[str] | Callable[[bytes], bool] | None"
LogStreamName = Literal["stdout", "stderr", "both"]


def _timeout(value: float | None) -> float | None:
    if value is None:
        return None
    value = float(value)
    if not value > 0:
        raise ValueError(f"a wait timeout must be positive seconds, not {value!r}")
    return value


def _optional_port(value: int | str | None) -> str | None:
    return None if value is None else normalize_port(value)


def _command(value: str | Sequence[str]) -> str | tuple[str, ...]:
    return value if isinstance(value, str) else tuple(value)


class WaitStrategy:
    """What a container must show before it counts as ready.

    Build strategies with :func:`for_log`, :func:`for_port`, :func:`for_http`,
    :func:`for_healthy`, :func:`for_exec` and combine them with :func:`all_of`
    and :func:`any_of` (a list of strategies means all of them).
    """

    timeout: float | None

    def describe(self) -> str:
        """A short human description (used in error messages)."""
        raise NotImplementedError


@attrs.frozen
class LogWait(WaitStrategy):
    """Wait for a line in the container's output (see :func:`for_log`).

    Attributes:
        pattern: Plain text (matched as a substring) or a compiled regex.
        stream: ``"stdout"``, ``"stderr"`` or ``"both"``.
        times: How many matches are needed.
        timeout: Seconds to wait at most (None: the caller's default).
    """

    pattern: str | re.Pattern[str]
    stream: LogStreamName = "both"
    times: int = 1
    timeout: float | None = attrs.field(default=None, converter=_timeout)

    def __attrs_post_init__(self) -> None:
        if self.stream not in ("stdout", "stderr", "both"):
            raise ValueError(f"stream must be 'stdout', 'stderr' or 'both', not {self.stream!r}")
        if self.times < 1:
            raise ValueError(f"times must be at least 1, not {self.times!r}")
        if isinstance(self.pattern, str) and not self.pattern:
            raise ValueError("the log pattern is empty")

    def count(self, text: str) -> int:
        """How many times the pattern occurs in ``text``."""
        if isinstance(self.pattern, str):
            return text.count(self.pattern)
        return sum(1 for _ in self.pattern.finditer(text))

    def describe(self) -> str:
        what = self.pattern if isinstance(self.pattern, str) else self.pattern.pattern
        where = "" if self.stream == "both" else f" on {self.stream}"
        times = "" if self.times == 1 else f" {self.times} times"
        kind = "log text" if isinstance(self.pattern, str) else "log regex"
        return f"{kind} {what!r}{where}{times}"


@attrs.frozen
class PortWait(WaitStrategy):
    """Wait until a published port accepts connections on the host (see :func:`for_port`).

    Attributes:
        port: The container port (``"80/tcp"``).
        timeout: Seconds to wait at most (None: the caller's default).
    """

    port: str = attrs.field(converter=normalize_port)
    timeout: float | None = attrs.field(default=None, converter=_timeout)

    def __attrs_post_init__(self) -> None:
        if not self.port.endswith("/tcp"):
            raise ValueError(f"only TCP ports can be waited for, not {self.port}")

    def describe(self) -> str:
        return f"port {self.port}"


@attrs.frozen
class HttpWait(WaitStrategy):
    """Wait for an HTTP answer from a published port (see :func:`for_http`).

    Attributes:
        path: The request path (``"/health"``).
        port: The container port; None: the only published TCP port.
        status: The accepted status: a code, a collection of codes, or a predicate.
        body: What the body must hold: text or bytes (a substring), a regex
            (searched in the decoded body), or a predicate on the raw bytes.
        method: The HTTP method.
        scheme: ``"http"`` or ``"https"``.
        headers: Extra request headers.
        verify: Verify the server's TLS certificate (``https`` only).
        timeout: Seconds to wait at most (None: the caller's default).
    """

    path: str = "/"
    port: str | None = attrs.field(default=None, converter=_optional_port)
    status: StatusSpec = 200
    body: BodySpec = None
    method: str = "GET"
    scheme: Literal["http", "https"] = "http"
    headers: Mapping[str, str] = attrs.field(factory=dict)
    verify: bool = True
    timeout: float | None = attrs.field(default=None, converter=_timeout)

    def __attrs_post_init__(self) -> None:
        if not self.path.startswith("/"):
            raise ValueError(f"the HTTP path must start with '/', not {self.path!r}")
        if self.scheme not in ("http", "https"):
            raise ValueError(f"scheme must be 'http' or 'https', not {self.scheme!r}")

    def accepts(self, status_code: int, content: bytes) -> tuple[bool, str]:
        """Whether an answer satisfies the strategy, and why not."""
        spec = self.status
        if isinstance(spec, int):
            status_ok = status_code == spec
        elif callable(spec):
            status_ok = bool(spec(status_code))
        else:
            status_ok = status_code in spec
        if not status_ok:
            return False, f"HTTP {status_code}"
        body = self.body
        if body is None:
            return True, f"HTTP {status_code}"
        if isinstance(body, str):
            found = body.encode() in content
        elif isinstance(body, bytes):
            found = body in content
        elif isinstance(body, re.Pattern):
            found = body.search(content.decode("utf-8", "replace")) is not None
        else:
            found = bool(body(content))
        if not found:
            preview = content[:80].decode("utf-8", "replace")
            return False, f"HTTP {status_code}, body did not match ({preview!r})"
        return True, f"HTTP {status_code}"

    def describe(self) -> str:
        port = f":{self.port.split('/')[0]}" if self.port else ""
        return f"HTTP {self.method} {self.scheme}://{port}{self.path}"


@attrs.frozen
class HealthWait(WaitStrategy):
    """Wait for the engine to report the container healthy (see :func:`for_healthy`).

    Attributes:
        fail_on_unhealthy: Stop at once when the engine reports ``unhealthy``.
        timeout: Seconds to wait at most (None: the caller's default).
    """

    fail_on_unhealthy: bool = True
    timeout: float | None = attrs.field(default=None, converter=_timeout)

    def describe(self) -> str:
        return "health status 'healthy'"


@attrs.frozen
class ExecWait(WaitStrategy):
    """Wait for a command run inside the container to succeed (see :func:`for_exec`).

    Attributes:
        command: The command: a list of arguments, or a string run with ``sh -c``.
        exit_code: The exit code that counts as success.
        timeout: Seconds to wait at most (None: the caller's default).
    """

    command: str | tuple[str, ...] = attrs.field(converter=_command)
    exit_code: int = 0
    timeout: float | None = attrs.field(default=None, converter=_timeout)

    def __attrs_post_init__(self) -> None:
        if not self.command:
            raise ValueError("the command to wait for is empty")

    def describe(self) -> str:
        cmd = self.command if isinstance(self.command, str) else " ".join(self.command)
        return f"command {cmd!r} exiting {self.exit_code}"


def _children(value: Sequence[WaitStrategy]) -> tuple[WaitStrategy, ...]:
    out = tuple(value)
    if not out:
        raise ValueError("a combined wait needs at least one strategy")
    for item in out:
        if not isinstance(item, WaitStrategy):
            raise TypeError(f"not a wait strategy: {item!r} (use pydock.testing.for_...)")
    return out


@attrs.frozen
class AllOf(WaitStrategy):
    """Every strategy must be satisfied (see :func:`all_of`).

    Attributes:
        strategies: The strategies.
        timeout: Seconds for the whole group (None: only the strategies' own limits).
    """

    strategies: tuple[WaitStrategy, ...] = attrs.field(converter=_children)
    timeout: float | None = attrs.field(default=None, converter=_timeout)

    def describe(self) -> str:
        return "all of (" + ", ".join(s.describe() for s in self.strategies) + ")"


@attrs.frozen
class AnyOf(WaitStrategy):
    """One strategy must be satisfied (see :func:`any_of`).

    Attributes:
        strategies: The strategies.
        timeout: Seconds for the whole group (None: only the strategies' own limits).
    """

    strategies: tuple[WaitStrategy, ...] = attrs.field(converter=_children)
    timeout: float | None = attrs.field(default=None, converter=_timeout)

    def describe(self) -> str:
        return "any of (" + ", ".join(s.describe() for s in self.strategies) + ")"


def for_log(
    pattern: str | re.Pattern[str],
    *,
    stream: LogStreamName = "both",
    times: int = 1,
    timeout: float | None = None,
) -> LogWait:
    """Wait until the container's output contains ``pattern``.

    Args:
        pattern: Plain text (a substring of the output) or a compiled regex
            (``re.compile(r"listening on port \\d+")``), matched against the
            whole output so far, decoded as UTF-8.
        stream: Look at ``"stdout"``, ``"stderr"`` or ``"both"``.
        times: How many occurrences are needed (some servers log "ready" twice).
        timeout: Seconds to wait at most (None: the caller's default).

    Raises:
        ValueError: An empty pattern, an unknown stream, or ``times`` below 1.
    """
    return LogWait(pattern, stream=stream, times=times, timeout=timeout)


def for_port(port: int | str, *, timeout: float | None = None) -> PortWait:
    """Wait until a published TCP port accepts connections from the host.

    The probe connects to the mapped host port. A connection that the engine's
    port proxy accepts and closes at once (Docker's userland proxy does this
    while nothing listens inside the container) does not count.

    Args:
        port: The container port: ``80``, ``"80"`` or ``"80/tcp"``.
        timeout: Seconds to wait at most (None: the caller's default).

    Raises:
        ValueError: Not a TCP port.
    """
    return PortWait(port, timeout=timeout)


def for_http(
    path: str = "/",
    *,
    port: int | str | None = None,
    status: StatusSpec = 200,
    body: BodySpec = None,
    method: str = "GET",
    scheme: Literal["http", "https"] = "http",
    headers: Mapping[str, str] | None = None,
    verify: bool = True,
    timeout: float | None = None,
) -> HttpWait:
    """Wait for an HTTP answer from a published port.

    Args:
        path: The request path.
        port: The container port (None: the only published TCP port).
        status: The accepted status: a code, a collection of codes, or a predicate.
        body: What the body must hold: text or bytes (a substring), a compiled
            regex (searched in the decoded body), or a predicate on the bytes.
        method: The HTTP method.
        scheme: ``"http"`` or ``"https"``.
        headers: Extra request headers.
        verify: Verify the server's TLS certificate (``https`` only).
        timeout: Seconds to wait at most (None: the caller's default).

    Raises:
        ValueError: A path without a leading ``/``, a bad port or scheme.
    """
    return HttpWait(
        path,
        port=port,
        status=status,
        body=body,
        method=method.upper(),
        scheme=scheme,
        headers=dict(headers or {}),
        verify=verify,
        timeout=timeout,
    )


def for_healthy(*, fail_on_unhealthy: bool = True, timeout: float | None = None) -> HealthWait:
    """Wait until the engine reports the container's health check as ``healthy``.

    The container needs a health check (from its image, or ``healthcheck=``).
    Podman runs health checks from systemd timers; where none run (containers,
    CI machines), the wait runs the check itself through the libpod API at the
    container's check interval, so the two engines behave alike.

    Args:
        fail_on_unhealthy: Stop at once when the engine reports ``unhealthy``.
        timeout: Seconds to wait at most (None: the caller's default).
    """
    return HealthWait(fail_on_unhealthy=fail_on_unhealthy, timeout=timeout)


def for_exec(
    command: str | Sequence[str], *, exit_code: int = 0, timeout: float | None = None
) -> ExecWait:
    """Wait until a command run inside the container exits with ``exit_code``.

    Args:
        command: A list of arguments, or a string run with ``sh -c``.
        exit_code: The exit code that counts as success.
        timeout: Seconds to wait at most (None: the caller's default).

    Raises:
        ValueError: An empty command.
    """
    return ExecWait(command, exit_code=exit_code, timeout=timeout)


def all_of(*strategies: WaitStrategy, timeout: float | None = None) -> AllOf:
    """Wait until every strategy is satisfied (a list given as ``wait=`` means the same).

    Raises:
        ValueError: No strategies.
        TypeError: An argument is not a wait strategy.
    """
    return AllOf(strategies, timeout=timeout)


def any_of(*strategies: WaitStrategy, timeout: float | None = None) -> AnyOf:
    """Wait until one of the strategies is satisfied.

    Raises:
        ValueError: No strategies.
        TypeError: An argument is not a wait strategy.
    """
    return AnyOf(strategies, timeout=timeout)


WaitArg: TypeAlias = "WaitStrategy | Sequence[WaitStrategy] | None"


def as_strategy(wait: WaitArg) -> WaitStrategy | None:
    """``wait=`` as one strategy: a list becomes :class:`AllOf`, None stays None.

    Raises:
        TypeError: Not a strategy or a list of strategies.
    """
    if wait is None or isinstance(wait, WaitStrategy):
        return wait
    if isinstance(wait, (str, bytes)) or not isinstance(wait, Sequence):  # type: ignore[unreachable]
        raise TypeError(f"wait= takes a strategy or a list of them, not {wait!r}")
    items = list(wait)
    if not items:
        return None
    return items[0] if len(items) == 1 and isinstance(items[0], WaitStrategy) else AllOf(items)


# --------------------------------------------------------------------------- the wait plan

StepState = Literal["pending", "ok", "failed"]


class WaitStep:
    """One node of a :class:`WaitPlan`: a strategy and what is known about it.

    Attributes:
        strategy: The strategy.
        state: ``"pending"``, ``"ok"`` or ``"failed"`` (timed out).
        detail: The last reason it was not ready (or why it succeeded).
        deadline: When it times out (monotonic seconds), or None.
        children: The steps of a combined strategy.
    """

    def __init__(self, strategy: WaitStrategy, start: float, default_timeout: float) -> None:
        self.strategy = strategy
        self.state: StepState = "pending"
        self.detail = "not probed yet"
        self.children: list[WaitStep] = []
        if isinstance(strategy, (AllOf, AnyOf)):
            self.children = [WaitStep(s, start, default_timeout) for s in strategy.strategies]
            limit = strategy.timeout
        else:
            limit = strategy.timeout if strategy.timeout is not None else default_timeout
        self.deadline = None if limit is None else start + limit

    @property
    def is_leaf(self) -> bool:
        """Whether this step is probed itself (not a combination)."""
        return not self.children

    def record(self, ok: bool, detail: str) -> None:
        """Store the result of one probe."""
        if self.state == "pending":
            self.detail = detail
            if ok:
                self.state = "ok"

    def update(self, now: float) -> StepState:
        """Decide this step's state at ``now`` (children first)."""
        if self.state != "pending":
            return self.state
        if self.children:
            states = [child.update(now) for child in self.children]
            if isinstance(self.strategy, AllOf):
                if "failed" in states:
                    self.state = "failed"
                elif all(s == "ok" for s in states):
                    self.state = "ok"
            elif "ok" in states:
                self.state = "ok"
            elif all(s == "failed" for s in states):
                self.state = "failed"
        if self.state == "pending" and self.deadline is not None and now >= self.deadline:
            self.state = "failed"
        return self.state

    def leaves(self) -> list[WaitStep]:
        """The leaf steps under this one (itself if a leaf)."""
        if not self.children:
            return [self]
        return [leaf for child in self.children for leaf in child.leaves()]


class WaitPlan:
    """What a wait still needs, as a small state machine (no I/O).

    The I/O side calls :meth:`pending` for the leaf steps to probe, records
    each result on its step, then calls :meth:`update`. A step that succeeded
    stays satisfied; one whose deadline passes fails, and with it every
    ``all_of`` above it (an ``any_of`` fails when all its members failed).

    Args:
        strategy: The strategy to satisfy (a list means all of them).
        start: When the wait began (monotonic seconds).
        default_timeout: The timeout of strategies that name none.
    """

    def __init__(
        self,
        strategy: WaitStrategy | Sequence[WaitStrategy],
        *,
        start: float,
        default_timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        root = as_strategy(strategy)
        if root is None:
            raise ValueError("nothing to wait for")
        self.start = start
        self.root = WaitStep(root, start, default_timeout)

    def pending(self) -> list[WaitStep]:
        """The leaf steps that still need probing, in declaration order."""
        out: list[WaitStep] = []

        def walk(step: WaitStep) -> None:
            if step.state != "pending":
                return
            if step.is_leaf:
                out.append(step)
            for child in step.children:
                walk(child)

        walk(self.root)
        return out

    def update(self, now: float) -> StepState:
        """The plan's state at ``now``: ``"ok"`` (ready), ``"pending"`` or ``"failed"``."""
        return self.root.update(now)

    def next_deadline(self) -> float | None:
        """The earliest deadline of a pending step (to bound a sleep)."""
        deadlines: list[float] = []

        def walk(step: WaitStep) -> None:
            if step.state != "pending":
                return
            if step.deadline is not None:
                deadlines.append(step.deadline)
            for child in step.children:
                walk(child)

        walk(self.root)
        return min(deadlines) if deadlines else None

    def unsatisfied(self) -> list[str]:
        """Each leaf that is not satisfied, with the last reason (for error messages)."""
        return [
            f"{leaf.strategy.describe()}: {leaf.detail}"
            for leaf in self.root.leaves()
            if leaf.state != "ok"
        ]


# --------------------------------------------------------------------------- messages


def last_lines(output: bytes, count: int = 30) -> str:
    """The last ``count`` lines of container output, as text."""
    text = output.decode("utf-8", "replace").rstrip("\n")
    if not text:
        return ""
    return "\n".join(text.splitlines()[-count:])


def describe_state(state: ContainerState | None, status: str) -> str:
    """``running``, ``exited (code 3)``, ``running, health unhealthy``..."""
    if state is None:
        return status or "unknown"
    text = state.status or status
    if state.status in ("exited", "dead", "stopped"):
        text += f" (code {state.exit_code})"
    if state.oom_killed:
        text += ", killed for lack of memory"
    if state.error:
        text += f", engine error: {state.error}"
    if state.health:
        text += f", health {state.health}"
    return text


def format_logs(logs: str) -> str:
    """The log block appended to wait error messages."""
    if not logs:
        return "\n(the container wrote no output)"
    indented = "\n".join("    " + line for line in logs.splitlines())
    return "\nlast log lines:\n" + indented


EXITED_STATUSES = frozenset({"exited", "dead", "removing", "stopped"})


def has_exited(state: ContainerState | None, status: str) -> bool:
    """Whether a started container is no longer going to become ready."""
    return (state.status if state is not None else status) in EXITED_STATUSES


# --------------------------------------------------------------------------- host and ports


class _PortsSnapshot(Protocol):
    @property
    def ports(self) -> Mapping[str, list[PortBinding]]: ...


def is_local_engine(base_url: str) -> bool:
    """Whether the engine's published ports are on this machine (unix socket, named pipe)."""
    scheme = urlsplit(base_url).scheme.lower()
    return scheme in ("", "unix", "npipe", "http+unix") or base_url.startswith("/")


def engine_host(base_url: str, environ: Mapping[str, str] | None = None) -> str:
    """The address where an engine's published ports are reached.

    ``PYDOCK_TESTING_HOST`` wins when set; a local engine gives
    ``127.0.0.1``; a ``tcp://``/``http(s)://``/``ssh://`` engine gives its host.
    """
    env = os.environ if environ is None else environ
    override = env.get("PYDOCK_TESTING_HOST", "").strip()
    if override:
        return override
    if is_local_engine(base_url):
        return "127.0.0.1"
    return urlsplit(base_url).hostname or "127.0.0.1"


_ANY_ADDRESS = frozenset({"", "0.0.0.0", "::"})
_LOOPBACK = frozenset({"127.0.0.1", "::1", "localhost"})


def _pick_binding(snapshot: _PortsSnapshot, port: int | str) -> PortBinding:
    key = normalize_port(port)
    bindings = [b for b in snapshot.ports.get(key, []) if b.host_port]
    if not bindings:
        published = sorted(k for k, v in snapshot.ports.items() if any(b.host_port for b in v))
        raise PortNotPublished(
            f"container port {key} is not published on the host"
            + (f" (published: {', '.join(published)})" if published else " (nothing is)")
            + "; pass ports=[...] when starting the container"
        )
    # IPv4 first: Docker lists 0.0.0.0 and :: for one port.
    bindings.sort(key=lambda b: ":" in b.host_ip)
    return bindings[0]


def host_port(container: _PortsSnapshot, port: int | str) -> int:
    """The host port a container port is published on.

    Args:
        container: A container snapshot (sync or async) taken after it started.
        port: ``80``, ``"80"`` or ``"80/tcp"``.

    Raises:
        PortNotPublished: The port is not published.
        ValueError: Not a container port.
    """
    binding = _pick_binding(container, port)
    assert binding.host_port is not None
    return binding.host_port


def _engine_url(container: object) -> str:
    client = getattr(container, "_client", None)
    return str(getattr(client, "base_url", "") or "")


def host_address(container: _PortsSnapshot, port: int | str | None = None) -> str:
    """The address where the container's published ports are reached from here.

    A port bound to every address (``0.0.0.0``, ``::``) is reached at the
    engine's host (``127.0.0.1`` for a local engine); a port bound to one
    address is reached there (loopback only on a local engine). Set
    ``PYDOCK_TESTING_HOST`` to override.

    Args:
        container: A container snapshot (sync or async).
        port: The container port whose binding decides (None: the engine's host).

    Raises:
        PortNotPublished: ``port`` is not published.
    """
    base_url = _engine_url(container)
    default = engine_host(base_url)
    if port is None or os.environ.get("PYDOCK_TESTING_HOST"):
        if port is not None:
            _pick_binding(container, port)
        return default
    ip = _pick_binding(container, port).host_ip
    if ip in _ANY_ADDRESS:
        return default
    if ip in _LOOPBACK and not is_local_engine(base_url):
        return default
    return ip


def http_url(
    container: _PortsSnapshot, port: int | str, path: str = "/", *, scheme: str = "http"
) -> str:
    """``http://HOST:PORT/path`` for a published container port.

    Raises:
        PortNotPublished: The port is not published.
    """
    host = host_address(container, port)
    if ":" in host:
        host = f"[{host}]"
    return f"{scheme}://{host}:{host_port(container, port)}/{path.lstrip('/')}"


def only_tcp_port(container: _PortsSnapshot) -> str:
    """The single published TCP port (for strategies that name none).

    Raises:
        PortNotPublished: None or several are published.
    """
    published = sorted(
        k for k, v in container.ports.items() if k.endswith("/tcp") and any(b.host_port for b in v)
    )
    if len(published) != 1:
        raise PortNotPublished(
            "name the port to wait on: "
            + (f"several are published ({', '.join(published)})" if published else "none is")
        )
    return published[0]


PortsSpec: TypeAlias = "Sequence[int | str] | Mapping[int | str, Any] | None"


def default_ports(ports: PortsSpec, *, local: bool) -> dict[str | int, Any] | None:
    """``ports=`` of :func:`run_container` as ``ports=`` of ``containers.run``.

    A list of container ports publishes each on a free host port: on
    ``127.0.0.1`` for a local engine (nothing is exposed to the network),
    on every address for a remote one. A mapping is passed on unchanged.

    Raises:
        ValueError: A list item is not a container port.
        TypeError: ``ports`` is neither a list nor a mapping.
    """
    if ports is None:
        return None
    if isinstance(ports, Mapping):
        return dict(ports)
    if isinstance(ports, (str, bytes, int)) or not isinstance(ports, Sequence):
        raise TypeError(f"ports= takes a list of container ports or a mapping, not {ports!r}")
    spec: Any = ("127.0.0.1", None) if local else None
    return {normalize_port(p): spec for p in ports}


# --------------------------------------------------------------------------- sessions and labels

LABEL_PREFIX = "pydock.testing"
SESSION_LABEL = f"{LABEL_PREFIX}.session"
HOST_LABEL = f"{LABEL_PREFIX}.host"
BOOT_LABEL = f"{LABEL_PREFIX}.boot"
PIDNS_LABEL = f"{LABEL_PREFIX}.pidns"
PID_LABEL = f"{LABEL_PREFIX}.pid"
STARTED_LABEL = f"{LABEL_PREFIX}.started"
WORKER_LABEL = f"{LABEL_PREFIX}.worker"


def _read(path: str) -> str:
    try:
        with open(path, encoding="ascii", errors="replace") as f:
            return f.read().strip()
    except OSError:
        return ""


def process_start(pid: int, proc: str = "/proc") -> str | None:
    """When process ``pid`` started (clock ticks since boot, from ``/proc``).

    Returns ``""`` where ``/proc`` does not exist, None when the process does not.
    """
    if not os.path.isdir(proc):
        return ""
    stat = _read(f"{proc}/{pid}/stat")
    if not stat:
        return None
    # The command name (field 2) may hold spaces and parentheses: split after the last ")".
    fields = stat.rpartition(")")[2].split()
    return fields[19] if len(fields) > 19 else ""


def _pid_namespace(proc: str = "/proc") -> str:
    try:
        return os.readlink(f"{proc}/self/ns/pid")
    except OSError:
        return ""


@attrs.frozen
class ProcessIdentity:
    """Who owns a resource: enough to tell later whether that process still runs.

    Attributes:
        host: The host name.
        boot: The kernel's boot id (changes at every boot; empty off Linux).
        pidns: The pid namespace (processes in other namespaces cannot be checked).
        pid: The process id.
        started: The process start time in clock ticks since boot (empty off Linux).
    """

    host: str
    boot: str
    pidns: str
    pid: int
    started: str

    @classmethod
    def current(cls) -> ProcessIdentity:
        """This process."""
        pid = os.getpid()
        return cls(
            host=socket.gethostname(),
            boot=_read("/proc/sys/kernel/random/boot_id"),
            pidns=_pid_namespace(),
            pid=pid,
            started=process_start(pid) or "",
        )


def process_alive(pid: int, started: str) -> bool:
    """Whether process ``pid`` runs and is the one that started at ``started``.

    The start time guards against a recycled pid. Without ``/proc`` only the
    pid's existence is checked.
    """
    if pid <= 0:
        return False
    now = process_start(pid)
    if now is None:
        return False
    if now == "":
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True
    return not started or now == started


@attrs.frozen
class Session:
    """One run of the toolkit (a process; each pytest-xdist worker is its own).

    Attributes:
        id: A random id shared by every resource the run creates.
        owner: The process that owns the resources.
        worker: The pytest-xdist worker name (``gw0``...), or ``""``.
    """

    id: str
    owner: ProcessIdentity
    worker: str = ""

    @classmethod
    def new(cls) -> Session:
        """A session for this process."""
        return cls(
            id=uuid.uuid4().hex[:16],
            owner=ProcessIdentity.current(),
            worker=os.environ.get("PYTEST_XDIST_WORKER", ""),
        )

    def labels(self) -> dict[str, str]:
        """The labels put on every container, network and volume of the session."""
        out = {
            SESSION_LABEL: self.id,
            HOST_LABEL: self.owner.host,
            BOOT_LABEL: self.owner.boot,
            PIDNS_LABEL: self.owner.pidns,
            PID_LABEL: str(self.owner.pid),
            STARTED_LABEL: self.owner.started,
        }
        if self.worker:
            out[WORKER_LABEL] = self.worker
        return out

    def resource_name(self, kind: str, counter: int) -> str:
        """A unique name for a resource (``pydock-<session>-c3``)."""
        return f"pydock-{self.id}-{kind}{counter}"


_SESSIONS: dict[int, Session] = {}


def current_session() -> Session:
    """The session of this process (a forked child gets its own)."""
    pid = os.getpid()
    session = _SESSIONS.get(pid)
    if session is None:
        session = _SESSIONS[pid] = Session.new()
    return session


Owner = Literal["own", "live", "stale", "foreign"]


def classify_owner(
    labels: Mapping[str, str],
    here: Session,
    alive: Callable[[int, str], bool] = process_alive,
) -> Owner:
    """Whose a labelled resource is.

    Returns:
        ``"own"`` (this session), ``"live"`` (another session whose process
        runs), ``"stale"`` (its process is gone: safe to remove), or
        ``"foreign"`` (made on another host or pid namespace: cannot be
        checked, left alone).
    """
    if labels.get(SESSION_LABEL) == here.id:
        return "own"
    me = here.owner
    if labels.get(HOST_LABEL) != me.host:
        return "foreign"
    boot = labels.get(BOOT_LABEL, "")
    if boot and me.boot and boot != me.boot:
        return "stale"  # the machine rebooted since: the process cannot still run
    if labels.get(PIDNS_LABEL, "") != me.pidns:
        return "foreign"
    try:
        pid = int(labels.get(PID_LABEL, ""))
    except ValueError:
        return "foreign"
    return "live" if alive(pid, labels.get(STARTED_LABEL, "")) else "stale"


_COUNTERS: dict[int, int] = {}


def next_name(kind: str) -> str:
    """A fresh resource name for this process's session (``pydock-<id>-c1``, ``-n1``...)."""
    pid = os.getpid()
    _COUNTERS[pid] = _COUNTERS.get(pid, 0) + 1
    return current_session().resource_name(kind, _COUNTERS[pid])


_SWEPT: set[tuple[int, str]] = set()


def needs_sweep(base_url: str) -> bool:
    """True the first time this process asks for an engine (then False)."""
    key = (os.getpid(), base_url)
    if key in _SWEPT:
        return False
    _SWEPT.add(key)
    return True


# --------------------------------------------------------------------------- networks, volumes


class RunOptions(ContainerSettings, total=False):
    """Container settings :func:`run_container` passes on to ``containers.run``.

    The same meaning as there; ``name``, ``ports``, ``environment`` and
    ``labels`` are named arguments of :func:`run_container` itself.
    """


@attrs.frozen
class Network:
    """A network made for a test (removed with its session).

    Attributes:
        id: The network id.
        name: Its name (give it as ``network_mode=`` to attach a container).
    """

    id: str
    name: str


@attrs.frozen
class Volume:
    """A named volume made for a test (removed with its session).

    Attributes:
        name: Its name (use it in ``volumes=["NAME:/path"]``).
        mountpoint: Where the engine keeps its data on the engine's host.
    """

    name: str
    mountpoint: str
