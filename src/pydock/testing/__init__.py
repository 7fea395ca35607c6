"""Containers for tests: start, wait until ready, always clean up; with or without pytest.

Sync::

    from pydock.testing import for_http, http_url, run_container

    with run_container("nginx:1", ports=[80], wait=for_http("/", port=80)) as web:
        url = http_url(web, 80)

Async (same arguments, ``async with``; asyncio or trio)::

    async with async_run_container("nginx:1", ports=[80], wait=for_port(80)) as web: ...

Naming: every sync name has an async twin, ``Async`` prefixed for classes
(``Sandbox`` / ``AsyncSandbox``) and ``async_`` prefixed for functions
(``run_container`` / ``async_run_container``, ``wait_for`` / ``async_wait_for``).
Wait strategies, errors and host helpers are shared by both.

The pytest plugin (``pydock.pytest_plugin``, registered automatically) gives
the fixtures ``pydock_client``, ``pydock_async_client``, ``pydock_container``
(also ``pydock_container_module`` and ``pydock_container_session``) and
``pydock_async_container``.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pydock._async._testing import AsyncSandbox
    from pydock._async._testing import remove_session as async_remove_session
    from pydock._async._testing import remove_stale as async_remove_stale
    from pydock._async._testing import run_container as async_run_container
    from pydock._async._testing import wait_for as async_wait_for
    from pydock._sync._testing import (
        Sandbox,
        remove_session,
        remove_stale,
        run_container,
        wait_for,
    )
    from pydock.testing._core import (
        SESSION_LABEL,
        AllOf,
        AnyOf,
        ContainerExited,
        ContainerUnhealthy,
        ExecWait,
        HealthWait,
        HttpWait,
        LogWait,
        Network,
        PortNotPublished,
        PortWait,
        RunOptions,
        Session,
        Volume,
        WaitError,
        WaitStrategy,
        WaitTimeout,
        all_of,
        any_of,
        current_session,
        for_exec,
        for_healthy,
        for_http,
        for_log,
        for_port,
        host_address,
        host_port,
        http_url,
    )

_CORE = "pydock.testing._core"
_ASYNC = "pydock._async._testing"
_SYNC = "pydock._sync._testing"

# Public name -> (module, name there). Loaded on first use: the pytest plugin
# imports this package only when a test asks for one of its fixtures.
_LAZY: dict[str, tuple[str, str]] = {
    "AllOf": (_CORE, "AllOf"),
    "AnyOf": (_CORE, "AnyOf"),
    "AsyncSandbox": (_ASYNC, "AsyncSandbox"),
    "ContainerExited": (_CORE, "ContainerExited"),
    "ContainerUnhealthy": (_CORE, "ContainerUnhealthy"),
    "ExecWait": (_CORE, "ExecWait"),
    "HealthWait": (_CORE, "HealthWait"),
    "HttpWait": (_CORE, "HttpWait"),
    "LogWait": (_CORE, "LogWait"),
    "Network": (_CORE, "Network"),
    "PortNotPublished": (_CORE, "PortNotPublished"),
    "PortWait": (_CORE, "PortWait"),
    "RunOptions": (_CORE, "RunOptions"),
    "SESSION_LABEL": (_CORE, "SESSION_LABEL"),
    "Sandbox": (_SYNC, "Sandbox"),
    "Session": (_CORE, "Session"),
    "Volume": (_CORE, "Volume"),
    "WaitError": (_CORE, "WaitError"),
    "WaitStrategy": (_CORE, "WaitStrategy"),
    "WaitTimeout": (_CORE, "WaitTimeout"),
    "all_of": (_CORE, "all_of"),
    "any_of": (_CORE, "any_of"),
    "async_remove_session": (_ASYNC, "remove_session"),
    "async_remove_stale": (_ASYNC, "remove_stale"),
    "async_run_container": (_ASYNC, "run_container"),
    "async_wait_for": (_ASYNC, "wait_for"),
    "current_session": (_CORE, "current_session"),
    "for_exec": (_CORE, "for_exec"),
    "for_healthy": (_CORE, "for_healthy"),
    "for_http": (_CORE, "for_http"),
    "for_log": (_CORE, "for_log"),
    "for_port": (_CORE, "for_port"),
    "host_address": (_CORE, "host_address"),
    "host_port": (_CORE, "host_port"),
    "http_url": (_CORE, "http_url"),
    "remove_session": (_SYNC, "remove_session"),
    "remove_stale": (_SYNC, "remove_stale"),
    "run_container": (_SYNC, "run_container"),
    "wait_for": (_SYNC, "wait_for"),
}

__all__ = [
    "AllOf",
    "AnyOf",
    "AsyncSandbox",
    "ContainerExited",
    "ContainerUnhealthy",
    "ExecWait",
    "HealthWait",
    "HttpWait",
    "LogWait",
    "Network",
    "PortNotPublished",
    "PortWait",
    "RunOptions",
    "SESSION_LABEL",
    "Sandbox",
    "Session",
    "Volume",
    "WaitError",
    "WaitStrategy",
    "WaitTimeout",
    "all_of",
    "any_of",
    "async_remove_session",
    "async_remove_stale",
    "async_run_container",
    "async_wait_for",
    "current_session",
    "for_exec",
    "for_healthy",
    "for_http",
    "for_log",
    "for_port",
    "host_address",
    "host_port",
    "http_url",
    "remove_session",
    "remove_stale",
    "run_container",
    "wait_for",
]


def __getattr__(name: str) -> Any:
    target = _LAZY.get(name)
    if target is None:
        raise AttributeError(f"module 'pydock.testing' has no attribute {name!r}")
    value = getattr(importlib.import_module(target[0]), target[1])
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
