"""Wait strategies: what a container must show before it counts as ready.

Each strategy is a frozen description (no I/O): :func:`for_log`,
:func:`for_port`, :func:`for_http`, :func:`for_healthy` and :func:`for_exec`
make one, :func:`all_of` and :func:`any_of` combine them. The wait plan
(``pydock.testing._plan``) decides what is still pending; the probes live in
``pydock._async._testing``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Mapping, Sequence
from typing import ClassVar, Literal, TypeAlias

import attrs

from pydock._core.containers import normalize_port

__all__ = [
    "DEFAULT_TIMEOUT",
    "AllOf",
    "AnyOf",
    "BodySpec",
    "ExecWait",
    "HealthWait",
    "HttpWait",
    "LogStreamName",
    "LogWait",
    "PortWait",
    "StatusSpec",
    "WaitArg",
    "WaitStrategy",
    "all_of",
    "any_of",
    "as_strategy",
    "for_exec",
    "for_healthy",
    "for_http",
    "for_log",
    "for_port",
]

#: Seconds a wait strategy waits when it names no timeout of its own.
DEFAULT_TIMEOUT = 60.0


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
class _Combined(WaitStrategy):
    """A group of strategies with an optional time limit of its own."""

    #: How :meth:`describe` names the group.
    _word: ClassVar[str]

    strategies: tuple[WaitStrategy, ...] = attrs.field(converter=_children)
    timeout: float | None = attrs.field(default=None, converter=_timeout)

    def describe(self) -> str:
        return f"{self._word} (" + ", ".join(s.describe() for s in self.strategies) + ")"


@attrs.frozen
class AllOf(_Combined):
    """Every strategy must be satisfied (see :func:`all_of`).

    Attributes:
        strategies: The strategies.
        timeout: Seconds for the whole group (None: only the strategies' own limits).
    """

    _word: ClassVar[str] = "all of"


@attrs.frozen
class AnyOf(_Combined):
    """One strategy must be satisfied (see :func:`any_of`).

    Attributes:
        strategies: The strategies.
        timeout: Seconds for the whole group (None: only the strategies' own limits).
    """

    _word: ClassVar[str] = "any of"


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
