"""pydock: a typed, sync and async SDK for Docker, Podman and OCI registries.

The public surface is what this module exports; everything in ``_``-modules
is private. Every sync class has an async twin with the ``Async`` prefix and
the same method names.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from pydock import errors
from pydock._version import __version__

if TYPE_CHECKING:
    from pydock._async._builder import AsyncImageBuilder
    from pydock._async._client import DEFAULT_TIMEOUT, AsyncClient
    from pydock._async._containers import (
        AsyncArchiveStream,
        AsyncContainer,
        AsyncContainers,
        AsyncEventStream,
        AsyncExecSession,
        AsyncLogStream,
        AsyncStatsStream,
    )
    from pydock._async._images import AsyncImage, AsyncImages
    from pydock._async._operation import AsyncOperation
    from pydock._async._registry import AsyncPaged, AsyncRegistry
    from pydock._async._upgrade import AsyncRawStream
    from pydock._core.archive import ArchiveFormatError, CopyError, UnsafeArchiveError
    from pydock._core.auth import RegistryAuth
    from pydock._core.build import BuildEvent
    from pydock._core.builder import BuildResult, ImagePlan, LayerBlob, UnsupportedInstruction
    from pydock._core.config import TLSConfig
    from pydock._core.containers import (
        ContainerChange,
        ContainerEvent,
        ContainerState,
        ContainerStats,
        ExecResult,
        Healthcheck,
        LogLine,
        PortBinding,
        PruneReport,
        RestartPolicy,
        RunResult,
        TopResult,
    )
    from pydock._core.deadline import deadline
    from pydock._core.dockerfile import Dockerfile, DockerfileParseError
    from pydock._core.dockerignore import DockerIgnore
    from pydock._core.images import (
        HistoryEntry,
        ImageConfig,
        ImagePruneReport,
        ImageRemoveReport,
        PullProgress,
        PushProgress,
        SearchResult,
    )
    from pydock._core.models import EngineInfo, EngineVersion
    from pydock._core.reference import ImageReference
    from pydock._core.registry import (
        CopyProgress,
        Descriptor,
        ImageIndex,
        ImageManifest,
        Platform,
    )
    from pydock._core.retry import RetryPolicy
    from pydock._sync._builder import ImageBuilder
    from pydock._sync._client import Client
    from pydock._sync._containers import (
        ArchiveStream,
        Container,
        Containers,
        EventStream,
        ExecSession,
        LogStream,
        StatsStream,
    )
    from pydock._sync._images import Image, Images
    from pydock._sync._operation import Operation
    from pydock._sync._registry import Paged, Registry
    from pydock._sync._upgrade import RawStream

# Name -> module: everything but `errors` and `__version__` loads on first use (PEP 562),
# so `import pydock` stays cheap and a program pays only for what it touches.
_LAZY: dict[str, str] = {
    "ArchiveFormatError": "pydock._core.archive",
    "ArchiveStream": "pydock._sync._containers",
    "AsyncArchiveStream": "pydock._async._containers",
    "AsyncClient": "pydock._async._client",
    "AsyncContainer": "pydock._async._containers",
    "AsyncContainers": "pydock._async._containers",
    "AsyncEventStream": "pydock._async._containers",
    "AsyncExecSession": "pydock._async._containers",
    "AsyncImage": "pydock._async._images",
    "AsyncImageBuilder": "pydock._async._builder",
    "AsyncImages": "pydock._async._images",
    "AsyncLogStream": "pydock._async._containers",
    "AsyncOperation": "pydock._async._operation",
    "AsyncPaged": "pydock._async._registry",
    "AsyncRawStream": "pydock._async._upgrade",
    "AsyncRegistry": "pydock._async._registry",
    "AsyncStatsStream": "pydock._async._containers",
    "Client": "pydock._sync._client",
    "Container": "pydock._sync._containers",
    "ContainerChange": "pydock._core.containers",
    "ContainerEvent": "pydock._core.containers",
    "ContainerState": "pydock._core.containers",
    "ContainerStats": "pydock._core.containers",
    "Containers": "pydock._sync._containers",
    "CopyError": "pydock._core.archive",
    "CopyProgress": "pydock._core.registry",
    "DEFAULT_TIMEOUT": "pydock._async._client",
    "Descriptor": "pydock._core.registry",
    "DockerIgnore": "pydock._core.dockerignore",
    "Dockerfile": "pydock._core.dockerfile",
    "BuildEvent": "pydock._core.build",
    "BuildResult": "pydock._core.builder",
    "DockerfileParseError": "pydock._core.dockerfile",
    "EngineInfo": "pydock._core.models",
    "EngineVersion": "pydock._core.models",
    "EventStream": "pydock._sync._containers",
    "ExecResult": "pydock._core.containers",
    "ExecSession": "pydock._sync._containers",
    "Healthcheck": "pydock._core.containers",
    "HistoryEntry": "pydock._core.images",
    "Image": "pydock._sync._images",
    "ImageBuilder": "pydock._sync._builder",
    "ImageConfig": "pydock._core.images",
    "ImageIndex": "pydock._core.registry",
    "ImageManifest": "pydock._core.registry",
    "ImagePlan": "pydock._core.builder",
    "ImagePruneReport": "pydock._core.images",
    "ImageReference": "pydock._core.reference",
    "ImageRemoveReport": "pydock._core.images",
    "Images": "pydock._sync._images",
    "LayerBlob": "pydock._core.builder",
    "LogLine": "pydock._core.containers",
    "LogStream": "pydock._sync._containers",
    "Operation": "pydock._sync._operation",
    "Paged": "pydock._sync._registry",
    "Platform": "pydock._core.registry",
    "PortBinding": "pydock._core.containers",
    "PruneReport": "pydock._core.containers",
    "PullProgress": "pydock._core.images",
    "PushProgress": "pydock._core.images",
    "RawStream": "pydock._sync._upgrade",
    "Registry": "pydock._sync._registry",
    "RegistryAuth": "pydock._core.auth",
    "RestartPolicy": "pydock._core.containers",
    "RetryPolicy": "pydock._core.retry",
    "RunResult": "pydock._core.containers",
    "SearchResult": "pydock._core.images",
    "StatsStream": "pydock._sync._containers",
    "TLSConfig": "pydock._core.config",
    "TopResult": "pydock._core.containers",
    "UnsafeArchiveError": "pydock._core.archive",
    "UnsupportedInstruction": "pydock._core.builder",
    "deadline": "pydock._core.deadline",
}

__all__ = [
    "ArchiveFormatError",
    "ArchiveStream",
    "AsyncArchiveStream",
    "AsyncClient",
    "AsyncContainer",
    "AsyncContainers",
    "AsyncEventStream",
    "AsyncExecSession",
    "AsyncImage",
    "AsyncImageBuilder",
    "AsyncImages",
    "AsyncLogStream",
    "AsyncOperation",
    "AsyncPaged",
    "AsyncRawStream",
    "AsyncRegistry",
    "AsyncStatsStream",
    "BuildEvent",
    "BuildResult",
    "Client",
    "Container",
    "ContainerChange",
    "ContainerEvent",
    "ContainerState",
    "ContainerStats",
    "Containers",
    "CopyError",
    "CopyProgress",
    "DEFAULT_TIMEOUT",
    "Descriptor",
    "DockerIgnore",
    "Dockerfile",
    "DockerfileParseError",
    "EngineInfo",
    "EngineVersion",
    "EventStream",
    "ExecResult",
    "ExecSession",
    "Healthcheck",
    "HistoryEntry",
    "Image",
    "ImageBuilder",
    "ImageConfig",
    "ImageIndex",
    "ImageManifest",
    "ImagePlan",
    "ImagePruneReport",
    "ImageReference",
    "ImageRemoveReport",
    "Images",
    "LayerBlob",
    "LogLine",
    "LogStream",
    "Operation",
    "Paged",
    "Platform",
    "PortBinding",
    "PruneReport",
    "PullProgress",
    "PushProgress",
    "RawStream",
    "Registry",
    "RegistryAuth",
    "RestartPolicy",
    "RetryPolicy",
    "RunResult",
    "SearchResult",
    "StatsStream",
    "TLSConfig",
    "TopResult",
    "UnsafeArchiveError",
    "UnsupportedInstruction",
    "__version__",
    "deadline",
    "errors",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'pydock' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
