"""pydock: a typed, sync and async SDK for Docker, Podman and OCI registries.

The public surface is what this module exports; everything in ``_``-modules
is private.
"""

from pydock import errors
from pydock._async._client import DEFAULT_TIMEOUT, AsyncClient
from pydock._core.config import TLSConfig
from pydock._core.models import EngineInfo, EngineVersion
from pydock._core.retry import RetryPolicy
from pydock._sync._client import Client
from pydock._version import __version__

__all__ = [
    "AsyncClient",
    "Client",
    "DEFAULT_TIMEOUT",
    "EngineInfo",
    "EngineVersion",
    "RetryPolicy",
    "TLSConfig",
    "__version__",
    "errors",
]
