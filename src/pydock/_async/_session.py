"""The engine session: one connection to one engine, and every request sent on it.

:class:`AsyncEngineSession` resolves the engine's address, owns the transport,
negotiates the backend and API version once, and sends each request through
one pipeline: versioned path, retry per policy, deadline, log line, size
limit, error mapping. Resources (images, containers, builds) are written
against it; :class:`~pydock.AsyncClient` is a facade that owns one. Decisions
(dialects, error mapping, retry policy) live in :mod:`pydock._core`.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager, suppress
from typing import TYPE_CHECKING, Any

import httpx

from pydock._async._backend import AsyncClientBase, Lock, monotonic
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
from pydock._core.retry import RetryPolicy, is_idempotent
from pydock._version import __version__
from pydock.errors import (
    APIError,
    InvalidConfiguration,
    ProtocolError,
    PydockError,
    ResponseTooLarge,
    Timeout,
)

if TYPE_CHECKING:
    from pydock._core.auth import RegistryAuth

__all__ = ["AsyncEngineSession", "body_json", "checked_timeout"]

log = logging.getLogger("pydock")
http_log = logging.getLogger("pydock.http")

_USER_AGENT = f"pydock/{__version__}"
_UNSET: Any = object()


class AsyncEngineSession(AsyncClientBase):
    """One engine's connection, negotiation and request pipeline (what resources send through).

    Takes :class:`~pydock.AsyncClient`'s arguments (described there); does no
    I/O until the first request.

    Raises:
        InvalidConfiguration: The URL or settings are not usable.
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
        self._timeout = checked_timeout(timeout)
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
        self.transport = transport
        self._base_url = url.base_url.rstrip("/")
        self.headers = {"User-Agent": _USER_AGENT}
        self.dialect = Session(backend_choice=backend, api_version_choice=api_version)
        self._retry = retry if retry is not None else RetryPolicy()
        self._negotiation_lock = Lock()
        #: Credentials given to :meth:`login`, by registry host; used before config.json.
        self.logins: dict[str, RegistryAuth] = {}

    # -- lifecycle -----------------------------------------------------------

    async def aclose(self) -> None:
        """Close every connection to the engine (the owning client's ``aclose``)."""
        await self.transport.aclose()

    # -- negotiation ---------------------------------------------------------

    async def connect(self) -> None:
        """Ask the engine for its backend and API version (done once, lazily).

        Raises:
            ConnectError: The engine cannot be reached.
        """
        if self.dialect.is_negotiated():
            return
        async with self._negotiation_lock:
            if self.dialect.is_negotiated():
                return
            # /_ping's headers say it all, at once; /version only for engines they don't.
            facts = None
            with suppress(APIError):
                facts = facts_from_ping((await self.send("GET", "/_ping")).headers)
            if facts is None:
                response = await self.send("GET", "/version", resource=None)
                facts = facts_from_version(body_json(response))
            self.dialect.apply(facts)
            log.debug(
                "engine %s: backend %s, Docker API %s",
                self.base_url,
                self.dialect.backend,
                self.dialect.docker_api,
            )

    @property
    def api_version(self) -> str | None:
        """The Docker API version in use (None until negotiated)."""
        api = self.dialect.docker_api
        return ".".join(map(str, api)) if api else None

    # -- requests ------------------------------------------------------------

    async def send(
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
            timeout = checked_timeout(timeout)
        if deadline.passed():
            raise Timeout(
                "timed out: the call's deadline passed before it started", method=method, path=path
            )
        params = _clean_params(params)
        headers = {**self.headers, **headers} if headers else self.headers
        extensions: dict[str, Any] = {"timeout": timeout.as_dict()}
        if idempotent is None:
            idempotent = is_idempotent(method)
        else:
            extensions[IDEMPOTENT_EXTENSION] = idempotent
        request: httpx.Request | PreparedRequest | None = None
        if not stream and type(self.transport) is AsyncEngineTransport:
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
            assert isinstance(self.transport, AsyncEngineTransport)
            # Read in full (within the size limit), connection released.
            return await self.transport.fetch(request, limit=self.max_response_size)
        response = await self.transport.handle_async_request(request)
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

    async def request(
        self,
        method: str,
        docker_path: str,
        libpod_path: str | None = None,
        **kwargs: Any,
    ) -> httpx.Response:
        """Negotiate if needed, version the path for the backend, and send."""
        await self.connect()
        return await self.send(method, self.dialect.path(docker_path, libpod_path), **kwargs)

    async def json(
        self, method: str, docker_path: str, libpod_path: str | None = None, **kwargs: Any
    ) -> Any:
        """Like :meth:`request`, and the answer's JSON (None for an empty body)."""
        response = await self.request(method, docker_path, libpod_path, **kwargs)
        return body_json(response)

    @asynccontextmanager
    async def stream(
        self, method: str, docker_path: str, libpod_path: str | None = None, **kwargs: Any
    ) -> AsyncIterator[httpx.Response]:
        """A streamed answer, closed when the block ends."""
        response = await self.request(method, docker_path, libpod_path, stream=True, **kwargs)
        try:
            yield response
        finally:
            await response.aclose()

    async def upgrade(
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
        response = await self.request(
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


def body_json(response: httpx.Response) -> Any:
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


def checked_timeout(timeout: object) -> httpx.Timeout:
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
