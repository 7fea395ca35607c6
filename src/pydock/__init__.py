"""pydock: a typed, sync and async SDK for Docker, Podman and OCI registries.

The public surface is what this module exports; everything in ``_``-modules
is private. Every sync class has an async twin with the ``Async`` prefix and
the same method names.
"""

from pydock import errors
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
from pydock._core.archive import ArchiveFormatError, UnsafeArchiveError
from pydock._core.auth import RegistryAuth
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
from pydock._core.registry import Descriptor, ImageIndex, ImageManifest, Platform
from pydock._core.retry import RetryPolicy
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
from pydock._version import __version__

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
    "AsyncImages",
    "AsyncLogStream",
    "AsyncOperation",
    "AsyncPaged",
    "AsyncRawStream",
    "AsyncRegistry",
    "AsyncStatsStream",
    "Client",
    "Container",
    "ContainerChange",
    "ContainerEvent",
    "ContainerState",
    "ContainerStats",
    "Containers",
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
    "ImageConfig",
    "ImageIndex",
    "ImageManifest",
    "ImagePruneReport",
    "ImageReference",
    "ImageRemoveReport",
    "Images",
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
    "__version__",
    "errors",
]
