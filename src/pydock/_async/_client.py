"""The async engine client: a facade over one engine session and its resources.

:class:`AsyncClient` owns an :class:`~pydock._async._session.AsyncEngineSession`
(connection, negotiation, the request pipeline) and hands it to the resource
managers (``images``, ``containers``, builds); it adds nothing to the wire.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from functools import cached_property
from typing import TYPE_CHECKING, Any

import httpx

from pydock._async._backend import AsyncClientBase
from pydock._async._build import BuildContext, begin_build
from pydock._async._containers import AsyncContainers, AsyncEventStream
from pydock._async._credentials import save_credentials
from pydock._async._images import AsyncImage, AsyncImages
from pydock._async._registry import AsyncRegistry
from pydock._async._retrying import DEFAULT_TIMEOUT, transport_error
from pydock._async._session import AsyncEngineSession, body_json
from pydock._async._upgrade import AsyncRawStream
from pydock._core.auth import RegistryAuth
from pydock._core.config import DEFAULT_MAX_RESPONSE_SIZE, TLSConfig, resolve_endpoint
from pydock._core.dialect import BackendChoice, Session, facts_from_version
from pydock._core.models import EngineInfo, EngineVersion
from pydock._core.retry import RetryPolicy
from pydock._core.shapes import get_str, object_
from pydock.errors import APIError, Unauthorized

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from pydock._async._operation import AsyncOperation
    from pydock._core.build import BuildEvent
    from pydock._core.build_options import BuildOptions

__all__ = ["DEFAULT_TIMEOUT", "AsyncClient", "transport_error"]


class AsyncClient(AsyncClientBase):
    """A client for one Docker or Podman engine.

    The constructor does no I/O: the engine is asked for its backend and API
    version on the first call (or by :meth:`connect`).

    Args:
        base_url: ``unix:///path``, ``tcp://host:port``, ``http(s)://host:port``;
            None resolves it like :meth:`from_env`.
        backend: ``"auto"`` (detect), ``"docker"`` or ``"podman"``.
        transport: Any httpx transport (``httpx.MockTransport`` in tests); by
            default pydock's own transport for the engine's socket.
        api_version: A Docker API version to use as is (``"1.41"``); None negotiates.
        timeout: Default timeouts (seconds or ``httpx.Timeout``); streams read
            without a read timeout unless a call says otherwise.
        retry: The :class:`~pydock.RetryPolicy`; None uses the default policy.
        tls: TLS settings for ``tcp://`` and ``https://`` engines.
        deadline: Seconds each call may take in all (connect, send, answer,
            retries and backoff), on top of the per-operation ``timeout``; None
            for none. ``with pydock.deadline(s):`` sets a shorter one for a block.
            A streamed answer's body (logs, exports) is not bound by it.
        max_response_size: The most bytes of an answer read into memory
            (64 MiB by default); a larger one raises
            :class:`~pydock.errors.ResponseTooLarge`. Streams are not limited.

    Raises:
        InvalidConfiguration: The URL or settings are not usable (also a
            ``ValueError``; the message names the parameter).
    """

    def __init__(
        self,
        base_url: str | None = None,
        *,
        backend: BackendChoice = "auto",
        transport: httpx.AsyncBaseTransport | None = None,
        api_version: str | None = None,
        timeout: float | httpx.Timeout | None = DEFAULT_TIMEOUT,
        retry: RetryPolicy | None = None,
        tls: TLSConfig | None = None,
        deadline: float | None = None,
        max_response_size: int = DEFAULT_MAX_RESPONSE_SIZE,
    ) -> None:
        self._engine = AsyncEngineSession(
            base_url,
            backend=backend,
            transport=transport,
            api_version=api_version,
            timeout=timeout,
            retry=retry,
            tls=tls,
            deadline=deadline,
            max_response_size=max_response_size,
        )
        #: The engine's URL as given (or as the environment named it).
        self.base_url = self._engine.base_url
        #: The backend and API version, shared with the session (negotiated in place).
        self.dialect = self._engine.dialect

    @classmethod
    def from_env(
        cls,
        *,
        backend: BackendChoice = "auto",
        environ: Mapping[str, str] | None = None,
        **kwargs: Any,
    ) -> AsyncClient:
        """A client for the engine the environment names.

        Reads ``DOCKER_HOST`` (with ``DOCKER_TLS_VERIFY`` and ``DOCKER_CERT_PATH``),
        ``DOCKER_CONTEXT`` and the docker CLI's contexts, ``CONTAINER_HOST``,
        then the default sockets.

        Raises:
            InvalidConfiguration: The environment names an unusable engine.
        """
        endpoint = resolve_endpoint(environ, prefer=backend)
        tls = kwargs.pop("tls", None) or endpoint.tls
        return cls(endpoint.url, backend=backend, tls=tls, **kwargs)

    # -- lifecycle -----------------------------------------------------------

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close every connection to the engine."""
        await self._engine.aclose()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.base_url} backend={self.dialect.backend}>"

    # -- the engine session ----------------------------------------------------

    async def connect(self) -> None:
        """Ask the engine for its backend and API version (done once, lazily).

        Raises:
            ConnectError: The engine cannot be reached.
        """
        await self._engine.connect()

    @property
    def api_version(self) -> str | None:
        """The Docker API version in use (None until negotiated)."""
        return self._engine.api_version

    @property
    def max_response_size(self) -> int:
        """The most bytes of an answer read into memory."""
        return self._engine.max_response_size

    # Thin delegations kept for tests and the testing helpers: the session
    # (``self._engine``) is what resources use.

    @property
    def _session(self) -> Session:
        return self._engine.dialect

    @property
    def _transport(self) -> httpx.AsyncBaseTransport:
        return self._engine.transport

    @property
    def _logins(self) -> dict[str, RegistryAuth]:
        return self._engine.logins

    @property
    def _headers(self) -> dict[str, str]:
        return self._engine.headers

    async def _send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        return await self._engine.send(method, path, **kwargs)

    async def _request(
        self, method: str, docker_path: str, libpod_path: str | None = None, **kwargs: Any
    ) -> httpx.Response:
        return await self._engine.request(method, docker_path, libpod_path, **kwargs)

    async def _json(
        self, method: str, docker_path: str, libpod_path: str | None = None, **kwargs: Any
    ) -> Any:
        return await self._engine.json(method, docker_path, libpod_path, **kwargs)

    @asynccontextmanager
    async def _stream(
        self, method: str, docker_path: str, libpod_path: str | None = None, **kwargs: Any
    ) -> AsyncIterator[httpx.Response]:
        async with self._engine.stream(method, docker_path, libpod_path, **kwargs) as response:
            yield response

    async def _upgrade(
        self,
        method: str,
        docker_path: str,
        libpod_path: str | None = None,
        *,
        tty: bool,
        **kwargs: Any,
    ) -> AsyncRawStream:
        return await self._engine.upgrade(method, docker_path, libpod_path, tty=tty, **kwargs)

    @cached_property
    def images(self) -> AsyncImages:
        """The engine's images."""
        return AsyncImages(self._engine)

    @cached_property
    def containers(self) -> AsyncContainers:
        """The engine's containers."""
        return AsyncContainers(self._engine)

    def events(
        self,
        *,
        filters: Mapping[str, Any] | None = None,
        since: Any = None,
        until: Any = None,
    ) -> AsyncEventStream:
        """Every engine event (``docker events``): containers, images, volumes, networks.

        A typed stream of :class:`~pydock.ContainerEvent`, open-ended unless
        ``until`` is given; use it as a context manager (or ``aclose()`` it).
        ``client.containers.events()`` gives container events only.

        Args:
            filters: ``type``, ``event``, ``container``, ``image``, ``label``...
            since: Replay events from this time (datetime, Unix seconds or text).
            until: Stop at this time.
        """
        return self.containers.events(filters=filters, since=since, until=until, all_types=True)

    # -- builds --------------------------------------------------------------

    def begin_build(
        self, context: BuildContext, **options: Unpack[BuildOptions]
    ) -> AsyncOperation[BuildEvent, AsyncImage]:
        """Start a build (``docker build``); iterate the operation for :class:`BuildEvent` events.

        The context is streamed to the engine as it is read: never built whole
        in memory or on disk. Docker builds with ``POST /build``, Podman with
        ``POST /libpod/build``.

        Args:
            context: A folder (its ``.dockerignore`` honoured exactly as the
                docker CLI does; the Dockerfile and ``.dockerignore`` are
                always sent), a :class:`~pydock.Dockerfile` (an in-memory
                context, with ``files``), a tar file's path, or a tar stream
                (``bytes`` or a binary file; plain or compressed).
            **options: The build's options (``tag``, ``dockerfile``,
                ``files``, ``buildargs``...), each described in
                :class:`~pydock.BuildOptions`.

        Raises:
            FileNotFoundError: The context or its Dockerfile does not exist (raised here).
            ValueError: A context path is absolute or leaves the context, or
                the arguments contradict each other (raised here).
            InvalidReference: A tag is invalid (raised here).
            TypeError: An option is unknown (raised here).
        """
        return begin_build(self._engine, context, options)

    async def build(self, context: BuildContext, **options: Unpack[BuildOptions]) -> AsyncImage:
        """Build an image (``docker build``) and return it.

        Takes the arguments of :meth:`begin_build`.

        Returns:
            The built image.

        Raises:
            BuildError: The build failed; ``.step`` is the failing instruction
                and ``.log`` the whole build log.
            FileNotFoundError: The context or its Dockerfile does not exist.
            UnsupportedFeature: The engine's API is too old for ``target`` or ``platform``.
        """
        async with self.begin_build(context, **options) as operation:
            return await operation.result()

    # -- registries ----------------------------------------------------------

    async def login(
        self,
        username: str,
        password: str,
        registry: str = "docker.io",
        *,
        store: bool = False,
    ) -> str:
        """Check credentials with the engine (``docker login``) and use them from now on.

        The engine checks them against the registry (``POST /auth``); the
        client then sends them for pulls, pushes and builds from that registry.

        Args:
            username: The user name.
            password: The password or token.
            registry: The registry host (``127.0.0.1:5001``); Docker Hub by default.
            store: Also save them like the docker CLI does: in the configured
                credential helper, else in ``config.json`` (mode 0600).

        Returns:
            The engine's status message (``"Login Succeeded"``).

        Raises:
            Unauthorized: The registry refused the credentials.
        """
        domain = _registry_domain(registry)
        auth = RegistryAuth(username=username, password=password, serveraddress=domain)
        try:
            payload = await self._engine.json(
                "POST", "/auth", json=auth.to_json(), idempotent=False
            )
        except APIError as exc:
            # Docker answers 500 "login attempt ... failed with status: 401 Unauthorized".
            refused = "401" in exc.message or "unauthorized" in exc.message.lower()
            if isinstance(exc, Unauthorized) or refused:
                raise Unauthorized(
                    f"{domain} refused the credentials of {username!r}: {exc.message}",
                    status_code=401,
                    method=exc.method,
                    path=exc.path,
                ) from exc
            raise
        answer = object_(payload) if payload is not None else {}
        token = get_str(answer, "IdentityToken")
        if token:
            auth = RegistryAuth(username=username, identitytoken=token, serveraddress=domain)
        self._engine.logins[domain] = auth
        if store:
            await save_credentials(domain, auth)
        return get_str(answer, "Status") or "Login Succeeded"

    async def logout(self, registry: str = "docker.io", *, store: bool = False) -> None:
        """Forget the credentials :meth:`login` was given for ``registry``.

        Args:
            registry: The registry host.
            store: Also remove them from the credential helper or ``config.json``
                (``docker logout``).
        """
        domain = _registry_domain(registry)
        self._engine.logins.pop(domain, None)
        if store:
            await save_credentials(domain, None)

    def registry(self, host: str, **kwargs: Any) -> AsyncRegistry:
        """A client for the OCI registry at ``host``, talking to it directly (no engine).

        Credentials come from the docker config and credential helpers unless
        ``auth=`` is given; other keyword arguments go to :class:`AsyncRegistry`.
        """
        return AsyncRegistry(host, **kwargs)

    # -- system --------------------------------------------------------------

    async def ping(self) -> bool:
        """Whether the engine answers ``/_ping`` with ``OK``.

        Raises:
            ConnectError: The engine cannot be reached.
        """
        response = await self._engine.send("GET", "/_ping")
        return response.text.strip() == "OK"

    async def version(self) -> EngineVersion:
        """The engine's version and API versions.

        Raises:
            ConnectError: The engine cannot be reached.
        """
        response = await self._engine.send("GET", "/version")
        payload = body_json(response)
        if not self.dialect.is_negotiated():
            self.dialect.apply(facts_from_version(payload))
        return EngineVersion.from_api(payload)

    async def info(self) -> EngineInfo:
        """System-wide information (Docker's ``/info`` shape, on Podman too).

        Raises:
            ConnectError: The engine cannot be reached.
        """
        return EngineInfo.from_api(await self._engine.json("GET", "/info"))


def _registry_domain(registry: str) -> str:
    """The host part of a registry name or URL (``https://h:5000/v2/`` is ``h:5000``)."""
    text = registry.split("://", 1)[-1].split("/", 1)[0].strip()
    if text in ("", "index.docker.io", "registry-1.docker.io"):
        return "docker.io"
    return text
