"""pydock: a typed, sync and async SDK for Docker, Podman and OCI registries.

The public surface is what this module exports; everything in ``_``-modules
is private. Every sync class has an async twin with the ``Async`` prefix and
the same method names.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from pydock import errors as errors
from pydock._version import __version__ as __version__

# The public surface, listed once: name -> the module that defines it. Everything
# but `errors` and `__version__` loads on first use (PEP 562), so `import pydock`
# stays cheap and a program pays only for what it touches. `__all__`, lazy
# loading and `dir()` all read this table.
_EXPORTS: dict[str, str] = {
    "ArchiveFormatError": "pydock.errors",
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
    "BuildEvent": "pydock._core.build",
    "BuildOptions": "pydock._core.build_options",
    "BuildResult": "pydock._core.builder",
    "Client": "pydock._sync._client",
    "Container": "pydock._sync._containers",
    "ContainerChange": "pydock._core.containers",
    "ContainerEvent": "pydock._core.containers",
    "ContainerState": "pydock._core.containers",
    "ContainerStats": "pydock._core.containers",
    "Containers": "pydock._sync._containers",
    "CopyError": "pydock.errors",
    "CopyProgress": "pydock._core.registry",
    "DEFAULT_TIMEOUT": "pydock._async._client",
    "Descriptor": "pydock._core.registry",
    "DockerIgnore": "pydock._core.dockerignore",
    "Dockerfile": "pydock._core.dockerfile",
    "DockerfileParseError": "pydock.errors",
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
    "UnsafeArchiveError": "pydock.errors",
    "UnsupportedInstruction": "pydock.errors",
    "deadline": "pydock._core.deadline",
}

__all__ = sorted([*_EXPORTS, "__version__", "errors"])

# What type checkers and IDEs see. Generated from `_EXPORTS` and checked against it by
# tests/test_public_api.py (which prints the block to paste when the two differ); the
# `X as X` form marks each name as re-exported.
if TYPE_CHECKING:
    from pydock._async._builder import AsyncImageBuilder as AsyncImageBuilder
    from pydock._async._client import DEFAULT_TIMEOUT as DEFAULT_TIMEOUT
    from pydock._async._client import AsyncClient as AsyncClient
    from pydock._async._containers import AsyncArchiveStream as AsyncArchiveStream
    from pydock._async._containers import AsyncContainer as AsyncContainer
    from pydock._async._containers import AsyncContainers as AsyncContainers
    from pydock._async._containers import AsyncEventStream as AsyncEventStream
    from pydock._async._containers import AsyncExecSession as AsyncExecSession
    from pydock._async._containers import AsyncLogStream as AsyncLogStream
    from pydock._async._containers import AsyncStatsStream as AsyncStatsStream
    from pydock._async._images import AsyncImage as AsyncImage
    from pydock._async._images import AsyncImages as AsyncImages
    from pydock._async._operation import AsyncOperation as AsyncOperation
    from pydock._async._registry import AsyncPaged as AsyncPaged
    from pydock._async._registry import AsyncRegistry as AsyncRegistry
    from pydock._async._upgrade import AsyncRawStream as AsyncRawStream
    from pydock._core.auth import RegistryAuth as RegistryAuth
    from pydock._core.build import BuildEvent as BuildEvent
    from pydock._core.build_options import BuildOptions as BuildOptions
    from pydock._core.builder import BuildResult as BuildResult
    from pydock._core.builder import ImagePlan as ImagePlan
    from pydock._core.builder import LayerBlob as LayerBlob
    from pydock._core.config import TLSConfig as TLSConfig
    from pydock._core.containers import ContainerChange as ContainerChange
    from pydock._core.containers import ContainerEvent as ContainerEvent
    from pydock._core.containers import ContainerState as ContainerState
    from pydock._core.containers import ContainerStats as ContainerStats
    from pydock._core.containers import ExecResult as ExecResult
    from pydock._core.containers import Healthcheck as Healthcheck
    from pydock._core.containers import LogLine as LogLine
    from pydock._core.containers import PortBinding as PortBinding
    from pydock._core.containers import PruneReport as PruneReport
    from pydock._core.containers import RestartPolicy as RestartPolicy
    from pydock._core.containers import RunResult as RunResult
    from pydock._core.containers import TopResult as TopResult
    from pydock._core.deadline import deadline as deadline
    from pydock._core.dockerfile import Dockerfile as Dockerfile
    from pydock._core.dockerignore import DockerIgnore as DockerIgnore
    from pydock._core.images import HistoryEntry as HistoryEntry
    from pydock._core.images import ImageConfig as ImageConfig
    from pydock._core.images import ImagePruneReport as ImagePruneReport
    from pydock._core.images import ImageRemoveReport as ImageRemoveReport
    from pydock._core.images import PullProgress as PullProgress
    from pydock._core.images import PushProgress as PushProgress
    from pydock._core.images import SearchResult as SearchResult
    from pydock._core.models import EngineInfo as EngineInfo
    from pydock._core.models import EngineVersion as EngineVersion
    from pydock._core.reference import ImageReference as ImageReference
    from pydock._core.registry import CopyProgress as CopyProgress
    from pydock._core.registry import Descriptor as Descriptor
    from pydock._core.registry import ImageIndex as ImageIndex
    from pydock._core.registry import ImageManifest as ImageManifest
    from pydock._core.registry import Platform as Platform
    from pydock._core.retry import RetryPolicy as RetryPolicy
    from pydock._sync._builder import ImageBuilder as ImageBuilder
    from pydock._sync._client import Client as Client
    from pydock._sync._containers import ArchiveStream as ArchiveStream
    from pydock._sync._containers import Container as Container
    from pydock._sync._containers import Containers as Containers
    from pydock._sync._containers import EventStream as EventStream
    from pydock._sync._containers import ExecSession as ExecSession
    from pydock._sync._containers import LogStream as LogStream
    from pydock._sync._containers import StatsStream as StatsStream
    from pydock._sync._images import Image as Image
    from pydock._sync._images import Images as Images
    from pydock._sync._operation import Operation as Operation
    from pydock._sync._registry import Paged as Paged
    from pydock._sync._registry import Registry as Registry
    from pydock._sync._upgrade import RawStream as RawStream
    from pydock.errors import ArchiveFormatError as ArchiveFormatError
    from pydock.errors import CopyError as CopyError
    from pydock.errors import DockerfileParseError as DockerfileParseError
    from pydock.errors import UnsafeArchiveError as UnsafeArchiveError
    from pydock.errors import UnsupportedInstruction as UnsupportedInstruction
else:

    def __getattr__(name: str) -> Any:
        module = _EXPORTS.get(name)
        if module is None:
            raise AttributeError(f"module 'pydock' has no attribute {name!r}")
        value = getattr(importlib.import_module(module), name)
        globals()[name] = value
        return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
