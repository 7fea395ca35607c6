"""The async engine client: connection, negotiation, requests, retry and error mapping."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager, suppress
from functools import cached_property
from typing import TYPE_CHECKING, Any

import httpx

from pydock._async._backend import AsyncClientBase, Lock, monotonic
from pydock._async._credentials import save_credentials
from pydock._async._retrying import DEFAULT_TIMEOUT, RetryDecision, retrying, transport_error
from pydock._async._transport import (
    IDEMPOTENT_EXTENSION,
    AsyncEngineTransport,
    PreparedRequest,
    prepare_request,
)
from pydock._async._upgrade import AsyncRawStream
from pydock._core.config import (
    DEFAULT_MAX_RESPONSE_SIZE,
    ERROR_BODY_LIMIT,
    TLSConfig,
    check_size,
    parse_engine_url,
    resolve_endpoint,
)
from pydock._core.deadline import check_seconds, deadline
from pydock._core.dialect import BackendChoice, Session, facts_from_ping, facts_from_version
from pydock._core.errmap import Resource, error_for_status, redirect_error
from pydock._core.headers import redact_headers
from pydock._core.models import EngineInfo, EngineVersion
from pydock._core.retry import RetryPolicy, is_idempotent
from pydock._core.shapes import get_str, object_
from pydock._version import __version__
from pydock.errors import (
    APIError,
    InvalidConfiguration,
    ProtocolError,
    PydockError,
    ResponseTooLarge,
    Timeout,
    Unauthorized,
)

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from pydock._async._build import BuildContext
    from pydock._async._containers import AsyncContainers, AsyncEventStream
    from pydock._async._images import AsyncImage, AsyncImages
    from pydock._async._operation import AsyncOperation
    from pydock._async._registry import AsyncRegistry
    from pydock._core.auth import RegistryAuth
    from pydock._core.build import BuildEvent
    from pydock._core.build_options import BuildOptions

__all__ = ["DEFAULT_TIMEOUT", "AsyncClient", "transport_error"]

log = logging.getLogger("pydock")
http_log = logging.getLogger("pydock.http")

_USER_AGENT = f"pydock/{__version__}"
_UNSET: Any = object()


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
        self._timeout = _checked_timeout(timeout)
        self._deadline = check_seconds("deadline", deadline)
        #: The most bytes of an answer read into memory.
        self.max_response_size = check_size("max_response_size", max_response_size)
        if retry is not None and not isinstance(retry, RetryPolicy):
            raise InvalidConfiguration(f"retry must be a RetryPolicy, not {retry!r}")
        if base_url is None:
            endpoint = resolve_endpoint(prefer=backend)
            base_url = endpoint.url
            tls = tls or endpoint.tls
        url = parse_engine_url(base_url, tls=tls is not None)
        self.base_url = base_url
        if transport is None:
            ssl_context = tls.ssl_context() if (tls is not None and url.tls) else None
            if url.tls and ssl_context is None:
                ssl_context = TLSConfig().ssl_context()
            transport = AsyncEngineTransport(
                socket_path=url.socket_path,
                host=url.host,
                port=url.port,
                ssl_context=ssl_context,
                server_hostname=tls.server_hostname if tls is not None else None,
            )
        self._transport = transport
        self._base_url = url.base_url.rstrip("/")
        self._headers = {"User-Agent": _USER_AGENT}
        self._session = Session(backend_choice=backend, api_version_choice=api_version)
        self._retry = retry if retry is not None else RetryPolicy()
        self._negotiation_lock = Lock()
        #: Credentials given to :meth:`login`, by registry host; used before config.json.
        self._logins: dict[str, RegistryAuth] = {}

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
        await self._transport.aclose()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.base_url} backend={self._session.backend}>"

    # -- negotiation ---------------------------------------------------------

    async def connect(self) -> None:
        """Ask the engine for its backend and API version (done once, lazily).

        Raises:
            ConnectError: The engine cannot be reached.
        """
        if self._session.is_negotiated():
            return
        async with self._negotiation_lock:
            if self._session.is_negotiated():
                return
            # /_ping's headers say it all, at once; /version only for engines they don't.
            facts = None
            with suppress(APIError):
                facts = facts_from_ping((await self._send("GET", "/_ping")).headers)
            if facts is None:
                response = await self._send("GET", "/version", resource=None)
                facts = facts_from_version(_body_json(response))
            self._session.apply(facts)
            log.debug(
                "engine %s: backend %s, Docker API %s",
                self.base_url,
                self._session.backend,
                self._session.docker_api,
            )

    @property
    def api_version(self) -> str | None:
        """The Docker API version in use (None until negotiated)."""
        api = self._session.docker_api
        return ".".join(map(str, api)) if api else None

    # -- requests ------------------------------------------------------------

    async def _send(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        content: Any = None,
        headers: Mapping[str, str] | None = None,
        resource: Resource = None,
        idempotent: bool | None = None,
        stream: bool = False,
        timeout: Any = _UNSET,
    ) -> httpx.Response:
        """Send one request (already versioned); retry per policy; raise typed errors.

        The answer's body is read unless ``stream`` is true; a streamed answer
        must be closed by the caller. The client's deadline bounds everything
        up to the answer's head (and its body, when read here).
        """
        if self._deadline is None:
            return await self._send_bounded(
                method, path, params, json, content, headers, resource, idempotent, stream, timeout
            )
        with deadline(self._deadline):
            return await self._send_bounded(
                method, path, params, json, content, headers, resource, idempotent, stream, timeout
            )

    async def _send_bounded(
        self,
        method: str,
        path: str,
        params: Mapping[str, Any] | None,
        json: Any,
        content: Any,
        headers: Mapping[str, str] | None,
        resource: Resource,
        idempotent: bool | None,
        stream: bool,
        timeout: Any,
    ) -> httpx.Response:
        if timeout is _UNSET:
            timeout = self._stream_timeout() if stream else self._timeout
        else:
            timeout = _checked_timeout(timeout)
        if deadline.passed():
            raise Timeout(
                "timed out: the call's deadline passed before it started", method=method, path=path
            )
        params = _clean_params(params)
        headers = {**self._headers, **headers} if headers else self._headers
        extensions: dict[str, Any] = {"timeout": timeout.as_dict()}
        if idempotent is None:
            idempotent = is_idempotent(method)
        else:
            extensions[IDEMPOTENT_EXTENSION] = idempotent
        request: httpx.Request | PreparedRequest | None = None
        if not stream and type(self._transport) is AsyncEngineTransport:
            # pydock's own transport: the request goes to the wire without httpx objects.
            request = prepare_request(
                method,
                self._base_url,
                path,
                params=params,
                json=json,
                content=content,
                headers=headers,
                extensions=extensions,
                idempotent=idempotent,
            )
        if request is None:
            request = httpx.Request(
                method,
                self._base_url + path,
                params=params,
                json=json,
                content=content,
                headers=headers,
                extensions=extensions,
            )
        decision = RetryDecision(self._retry, idempotent)
        started = monotonic()
        target = f"the engine at {self.base_url}"
        try:
            # Fast path: one try, no retry machinery unless the outcome asks for it.
            try:
                response: httpx.Response | None = await self._send_once(request)
                error: httpx.TransportError | None = None
            except httpx.TransportError as exc:
                response, error = None, exc
            if decision.wants(response, error):
                response = await self._send_retrying(request, decision, response, error)
            elif error is not None:
                raise error
            assert response is not None
        except httpx.TransportError as exc:
            raise transport_error(exc, method=method, path=path, target=target) from exc
        if http_log.isEnabledFor(logging.INFO):
            http_log.info(
                "%s %s -> %d (%.1f ms)",
                method,
                path,
                response.status_code,
                (monotonic() - started) * 1000,
            )
            if http_log.isEnabledFor(logging.DEBUG):
                http_log.debug("request headers: %s", redact_headers(request.headers.items()))
        if response.status_code >= 400:
            try:
                body = await _read_limited(response, ERROR_BODY_LIMIT, method, path, cut=True)
            except httpx.TransportError:
                body = b""
            finally:
                await response.aclose()
            raise error_for_status(
                response.status_code, body, method=method, path=path, resource=resource
            )
        if 300 <= response.status_code < 400:
            location = response.headers.get("location")
            await response.aclose()
            raise redirect_error(response.status_code, location, method=method, path=path)
        if not stream:
            try:
                await _read_limited(response, self.max_response_size, method, path, cut=False)
            except httpx.TransportError as exc:
                raise transport_error(exc, method=method, path=path, target=target) from exc
            finally:
                await response.aclose()
        return response

    async def _send_once(self, request: httpx.Request | PreparedRequest) -> httpx.Response:
        if isinstance(request, PreparedRequest):
            assert isinstance(self._transport, AsyncEngineTransport)
            # Read in full (within the size limit), connection released.
            return await self._transport.fetch(request, limit=self.max_response_size)
        response = await self._transport.handle_async_request(request)
        response.request = request
        return response

    async def _send_retrying(
        self,
        request: httpx.Request | PreparedRequest,
        decision: RetryDecision,
        response: httpx.Response | None,
        error: httpx.TransportError | None,
    ) -> httpx.Response:
        """Retry with tenacity, the first outcome (already had) counting as try one."""
        last: httpx.Response | None = None
        async for attempt in retrying(self._retry, decision):
            with attempt:
                if error is not None:
                    pending, error = error, None
                    raise pending
                if response is not None:
                    last, response = response, None
                else:
                    last = await self._send_once(request)
            outcome = attempt.retry_state.outcome
            if outcome is not None and not outcome.failed:
                attempt.retry_state.set_result(last)
        assert last is not None
        return last

    def _stream_timeout(self) -> httpx.Timeout:
        t = self._timeout
        return httpx.Timeout(connect=t.connect, read=None, write=t.write, pool=t.pool)

    async def _request(
        self,
        method: str,
        docker_path: str,
        libpod_path: str | None = None,
        **kwargs: Any,
    ) -> httpx.Response:
        """Negotiate if needed, version the path for the backend, and send."""
        await self.connect()
        return await self._send(method, self._session.path(docker_path, libpod_path), **kwargs)

    async def _json(
        self, method: str, docker_path: str, libpod_path: str | None = None, **kwargs: Any
    ) -> Any:
        response = await self._request(method, docker_path, libpod_path, **kwargs)
        return _body_json(response)

    @asynccontextmanager
    async def _stream(
        self, method: str, docker_path: str, libpod_path: str | None = None, **kwargs: Any
    ) -> AsyncIterator[httpx.Response]:
        """A streamed answer, closed when the block ends."""
        response = await self._request(method, docker_path, libpod_path, stream=True, **kwargs)
        try:
            yield response
        finally:
            await response.aclose()

    async def _upgrade(
        self,
        method: str,
        docker_path: str,
        libpod_path: str | None = None,
        *,
        tty: bool,
        **kwargs: Any,
    ) -> AsyncRawStream:
        """Send a request that upgrades the connection (attach, exec start with stdin).

        Raises:
            PydockError: The engine did not upgrade the connection.
        """
        headers = {"Connection": "Upgrade", "Upgrade": "tcp"}
        headers.update(kwargs.pop("headers", None) or {})
        response = await self._request(
            method,
            docker_path,
            libpod_path,
            headers=headers,
            stream=True,
            idempotent=False,
            **kwargs,
        )
        network = response.extensions.get("network_stream")
        if response.status_code != 101 or network is None:
            await response.aclose()
            raise PydockError(
                f"the engine answered {response.status_code} instead of upgrading the connection",
                method=method,
                path=response.request.url.path,
            )
        return AsyncRawStream(network, tty=tty)

    # -- collections (their modules load on first use) -----------------------

    @cached_property
    def images(self) -> AsyncImages:
        """The engine's images."""
        from pydock._async._images import AsyncImages

        return AsyncImages(self)

    @cached_property
    def containers(self) -> AsyncContainers:
        """The engine's containers."""
        from pydock._async._containers import AsyncContainers

        return AsyncContainers(self)

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
        from pydock._async._build import begin_build

        return begin_build(self, context, options)

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
        from pydock._core.auth import RegistryAuth

        domain = _registry_domain(registry)
        auth = RegistryAuth(username=username, password=password, serveraddress=domain)
        try:
            payload = await self._json("POST", "/auth", json=auth.to_json(), idempotent=False)
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
        self._logins[domain] = auth
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
        self._logins.pop(domain, None)
        if store:
            await save_credentials(domain, None)

    def registry(self, host: str, **kwargs: Any) -> AsyncRegistry:
        """A client for the OCI registry at ``host``, talking to it directly (no engine).

        Credentials come from the docker config and credential helpers unless
        ``auth=`` is given; other keyword arguments go to :class:`AsyncRegistry`.
        """
        from pydock._async._registry import AsyncRegistry

        return AsyncRegistry(host, **kwargs)

    # -- system --------------------------------------------------------------

    async def ping(self) -> bool:
        """Whether the engine answers ``/_ping`` with ``OK``.

        Raises:
            ConnectError: The engine cannot be reached.
        """
        response = await self._send("GET", "/_ping")
        return response.text.strip() == "OK"

    async def version(self) -> EngineVersion:
        """The engine's version and API versions.

        Raises:
            ConnectError: The engine cannot be reached.
        """
        response = await self._send("GET", "/version")
        payload = _body_json(response)
        if not self._session.is_negotiated():
            self._session.apply(facts_from_version(payload))
        return EngineVersion.from_api(payload)

    async def info(self) -> EngineInfo:
        """System-wide information (Docker's ``/info`` shape, on Podman too).

        Raises:
            ConnectError: The engine cannot be reached.
        """
        return EngineInfo.from_api(await self._json("GET", "/info"))


def _body_json(response: httpx.Response) -> Any:
    """The JSON of a read answer (None for an empty body).

    Raises:
        ProtocolError: The body is not JSON.
    """
    if not response.content:
        return None
    try:
        return response.json()
    except ValueError as exc:
        raise ProtocolError(
            f"the engine answered with invalid JSON: {response.content[:200]!r}",
            field="body",
            method=response.request.method,
            path=response.request.url.path,
        ) from exc


def _registry_domain(registry: str) -> str:
    """The host part of a registry name or URL (``https://h:5000/v2/`` is ``h:5000``)."""
    text = registry.split("://", 1)[-1].split("/", 1)[0].strip()
    if text in ("", "index.docker.io", "registry-1.docker.io"):
        return "docker.io"
    return text


async def _read_limited(
    response: httpx.Response, limit: int, method: str, path: str, *, cut: bool
) -> bytes:
    """Read an answer's body into memory, at most ``limit`` bytes of it.

    Over the limit, reading stops: with ``cut`` the start is kept (an error's
    message), otherwise :class:`ResponseTooLarge` is raised. An answer already
    read (pydock's transport limits it as it reads) is returned as is.

    Raises:
        ResponseTooLarge: The body is larger than ``limit`` (and ``cut`` is false).
    """
    if response.is_stream_consumed:
        return response.content
    announced = response.headers.get("content-length", "")
    too_large = ResponseTooLarge(
        f"the answer is larger than the {limit}-byte limit (max_response_size); "
        "nothing more was read",
        limit=limit,
        method=method,
        path=path,
    )
    if not cut and announced.isdigit() and int(announced) > limit:
        raise too_large
    parts: list[bytes] = []
    size = 0
    async for part in response.aiter_bytes():
        parts.append(part)
        size += len(part)
        if size > limit:
            if not cut:
                raise too_large
            break
    body = b"".join(parts)[:limit]
    response._content = body
    return body


def _checked_timeout(timeout: object) -> httpx.Timeout:
    """``timeout`` as an ``httpx.Timeout``, each of its values None or seconds above 0.

    Raises:
        InvalidConfiguration: A value is not a positive, finite number of seconds.
    """
    if isinstance(timeout, httpx.Timeout):
        for part in ("connect", "read", "write", "pool"):
            check_seconds(f"timeout.{part}", getattr(timeout, part))
        return timeout
    return httpx.Timeout(check_seconds("timeout", timeout))


def _clean_params(params: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """Drop None values and spell booleans the way both engines accept."""
    if not params:
        return None
    out: dict[str, Any] = {}
    for key, value in params.items():
        if value is None:
            continue
        if isinstance(value, bool):
            out[key] = "true" if value else "false"
        else:
            out[key] = value
    return out
