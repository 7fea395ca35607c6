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

# The public surface, listed once: name -> the module that defines it (the async
# twins get their `async_` names in `_twins`). Everything loads on first use
# (PEP 562): the pytest plugin imports this package only when a test asks for one
# of its fixtures. `__all__`, lazy loading and `dir()` all read this table.
_EXPORTS: dict[str, str] = {
    "AllOf": "pydock.testing._waits",
    "AnyOf": "pydock.testing._waits",
    "AsyncSandbox": "pydock._async._testing",
    "ContainerExited": "pydock.errors",
    "ContainerUnhealthy": "pydock.errors",
    "ExecWait": "pydock.testing._waits",
    "HealthWait": "pydock.testing._waits",
    "HttpWait": "pydock.testing._waits",
    "LogWait": "pydock.testing._waits",
    "Network": "pydock.testing._resources",
    "PortNotPublished": "pydock.errors",
    "PortWait": "pydock.testing._waits",
    "RunOptions": "pydock.testing._resources",
    "SESSION_LABEL": "pydock.testing._sessions",
    "Sandbox": "pydock._sync._testing",
    "Session": "pydock.testing._sessions",
    "Volume": "pydock.testing._resources",
    "WaitError": "pydock.errors",
    "WaitStrategy": "pydock.testing._waits",
    "WaitTimeout": "pydock.errors",
    "all_of": "pydock.testing._waits",
    "any_of": "pydock.testing._waits",
    "async_remove_session": "pydock.testing._twins",
    "async_remove_stale": "pydock.testing._twins",
    "async_run_container": "pydock.testing._twins",
    "async_wait_for": "pydock.testing._twins",
    "current_session": "pydock.testing._sessions",
    "for_exec": "pydock.testing._waits",
    "for_healthy": "pydock.testing._waits",
    "for_http": "pydock.testing._waits",
    "for_log": "pydock.testing._waits",
    "for_port": "pydock.testing._waits",
    "host_address": "pydock.testing._hosts",
    "host_port": "pydock.testing._hosts",
    "http_url": "pydock.testing._hosts",
    "remove_session": "pydock._sync._testing",
    "remove_stale": "pydock._sync._testing",
    "run_container": "pydock._sync._testing",
    "wait_for": "pydock._sync._testing",
}

__all__ = sorted(_EXPORTS)

# What type checkers and IDEs see. Generated from `_EXPORTS` and checked against it by
# tests/test_testing_public_api.py (which prints the block to paste when the two differ);
# the `X as X` form marks each name as re-exported.
if TYPE_CHECKING:
    from pydock._async._testing import AsyncSandbox as AsyncSandbox
    from pydock._sync._testing import Sandbox as Sandbox
    from pydock._sync._testing import remove_session as remove_session
    from pydock._sync._testing import remove_stale as remove_stale
    from pydock._sync._testing import run_container as run_container
    from pydock._sync._testing import wait_for as wait_for
    from pydock.errors import ContainerExited as ContainerExited
    from pydock.errors import ContainerUnhealthy as ContainerUnhealthy
    from pydock.errors import PortNotPublished as PortNotPublished
    from pydock.errors import WaitError as WaitError
    from pydock.errors import WaitTimeout as WaitTimeout
    from pydock.testing._hosts import host_address as host_address
    from pydock.testing._hosts import host_port as host_port
    from pydock.testing._hosts import http_url as http_url
    from pydock.testing._resources import Network as Network
    from pydock.testing._resources import RunOptions as RunOptions
    from pydock.testing._resources import Volume as Volume
    from pydock.testing._sessions import SESSION_LABEL as SESSION_LABEL
    from pydock.testing._sessions import Session as Session
    from pydock.testing._sessions import current_session as current_session
    from pydock.testing._twins import async_remove_session as async_remove_session
    from pydock.testing._twins import async_remove_stale as async_remove_stale
    from pydock.testing._twins import async_run_container as async_run_container
    from pydock.testing._twins import async_wait_for as async_wait_for
    from pydock.testing._waits import AllOf as AllOf
    from pydock.testing._waits import AnyOf as AnyOf
    from pydock.testing._waits import ExecWait as ExecWait
    from pydock.testing._waits import HealthWait as HealthWait
    from pydock.testing._waits import HttpWait as HttpWait
    from pydock.testing._waits import LogWait as LogWait
    from pydock.testing._waits import PortWait as PortWait
    from pydock.testing._waits import WaitStrategy as WaitStrategy
    from pydock.testing._waits import all_of as all_of
    from pydock.testing._waits import any_of as any_of
    from pydock.testing._waits import for_exec as for_exec
    from pydock.testing._waits import for_healthy as for_healthy
    from pydock.testing._waits import for_http as for_http
    from pydock.testing._waits import for_log as for_log
    from pydock.testing._waits import for_port as for_port
else:

    def __getattr__(name: str) -> Any:
        module = _EXPORTS.get(name)
        if module is None:
            raise AttributeError(f"module 'pydock.testing' has no attribute {name!r}")
        value = getattr(importlib.import_module(module), name)
        globals()[name] = value
        return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
