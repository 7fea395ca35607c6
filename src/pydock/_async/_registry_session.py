"""The registry client's connection: base URL discovery, auth state, the request pipeline.

:class:`AsyncRegistrySession` owns the httpx client, finds the registry's
scheme and credentials once, and sends every request with auth, redirects,
size limits, the deadline and the retry policy; the registry client's parts
(manifests, blobs, copy and layouts) are written on top of it. The sync twin
is generated from this module.
"""

from __future__ import annotations

import contextlib
import logging
import os
import ssl
import urllib.parse
from collections.abc import AsyncIterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs
import httpx

from pydock import errors
from pydock._async._backend import Lock, monotonic
from pydock._async._credentials import load_credentials
from pydock._async._retrying import DEFAULT_TIMEOUT, RetryDecision, retrying, transport_error
from pydock._async._transport import AsyncEngineTransport
from pydock._core.auth import RegistryAuth
from pydock._core.deadline import check_seconds, deadline
from pydock._core.errmap import error_for_status
from pydock._core.hosts import is_loopback
from pydock._core.reference import ImageReference
from pydock._core.registry import (
    ERROR_BODY_LIMIT,
    JSON_LIMIT,
    AuthState,
    Token,
    TokenRequest,
    base_urls,
    next_page_url,
    parse_listing,
    same_origin,
)
from pydock._core.retry import RetryPolicy, is_idempotent
from pydock._version import __version__

__all__ = [
    "DEFAULT_CHUNK_SIZE",
    "MAX_REDIRECTS",
    "AsyncRegistrySession",
    "RegistryRef",
    "parse_ref",
]

log = logging.getLogger("pydock")
http_log = logging.getLogger("pydock.http")

_USER_AGENT = f"pydock/{__version__}"
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
#: Redirects followed for one request before giving up.
MAX_REDIRECTS = 10
#: Blobs up to this size are uploaded in one PUT; bigger ones in PATCH chunks of this size.
DEFAULT_CHUNK_SIZE = 64 << 20
_CERT_DIRS = ("/etc/docker/certs.d", "/etc/containers/certs.d")


# --------------------------------------------------------------------------- helpers


def _certs_d_ca(host: str) -> list[str]:
    """CA files Docker and Podman trust for ``host`` (``/etc/docker/certs.d/<host>/*.crt``)."""
    found: list[str] = []
    for base in _CERT_DIRS:
        folder = Path(base) / host
        with contextlib.suppress(OSError):
            found.extend(str(p) for p in sorted(folder.glob("*.crt")))
    return found


def _ssl_context(
    host: str, ca_cert: str | os.PathLike[str] | None, verify: bool | ssl.SSLContext
) -> ssl.SSLContext | bool:
    if isinstance(verify, ssl.SSLContext):
        return verify
    if not verify:
        return False
    context = ssl.create_default_context()
    cafiles = [os.fspath(ca_cert)] if ca_cert is not None else _certs_d_ca(host)
    for cafile in cafiles:
        context.load_verify_locations(cafile)
    return context


_PROXY_VARS = frozenset({"http_proxy", "https_proxy", "all_proxy"})


def _own_transports(
    bases: Sequence[str], verify: ssl.SSLContext | bool
) -> dict[str, httpx.AsyncBaseTransport] | None:
    """pydock's own HTTP/1.1 transport for the registry's origins (large reads, no copies).

    httpx's default transport reads 64 KiB at a time through h11 and caps a
    blob download well below what the loopback allows. Other origins (blob
    storage a registry redirects to) keep httpx's transport, and so does
    everything when a proxy is configured in the environment.
    """
    if any(name.lower() in _PROXY_VARS for name in os.environ):
        return None
    mounts: dict[str, httpx.AsyncBaseTransport] = {}
    for base in bases:
        parts = urllib.parse.urlsplit(base)
        if parts.hostname is None:
            continue
        port = parts.port or (443 if parts.scheme == "https" else 80)
        context: ssl.SSLContext | None = None
        if parts.scheme == "https":
            if isinstance(verify, ssl.SSLContext):
                context = verify
            else:
                context = ssl.create_default_context()
                if not verify:
                    context.check_hostname = False
                    context.verify_mode = ssl.CERT_NONE
        mounts[f"{parts.scheme}://{parts.netloc}"] = AsyncEngineTransport(
            host=parts.hostname, port=port, ssl_context=context, server_hostname=parts.hostname
        )
    return mounts or None


async def _read_capped(response: httpx.Response, limit: int, *, what: str) -> bytes:
    """Read an answer's body, at most ``limit`` bytes (decoded); stop reading beyond.

    Raises:
        ResponseTooLarge: The body is (or says it is) bigger than ``limit``.
    """
    request = response.request

    def too_large() -> errors.ResponseTooLarge:
        return errors.ResponseTooLarge(
            f"the {what} is larger than pydock reads into memory ({limit} bytes)",
            limit=limit,
            field=what,
            method=request.method,
            path=request.url.path,
        )

    if request.method == "HEAD" or response.status_code in (204, 304):
        return b""  # no body, whatever Content-Length says (a HEAD gives the blob's)
    declared = response.headers.get("content-length", "")
    encoded = "content-encoding" in response.headers
    if declared.strip().isdigit() and int(declared) > limit and not encoded:
        raise too_large()
    pieces: list[bytes] = []
    size = 0
    chunks = response.aiter_bytes()
    try:
        async for chunk in chunks:
            size += len(chunk)
            if size > limit:
                raise too_large()
            pieces.append(chunk)
    finally:
        await _abandon(response, chunks)
    return b"".join(pieces)


async def _abandon(response: httpx.Response, chunks: AsyncIterator[bytes]) -> None:
    """Stop reading a body half-way: close the answer (and its connection), end the iterator.

    httpx reads through nested generators; closing the outer one leaves the
    inner ones suspended (trio warns when they are collected). With the
    connection closed, reading on ends them all at once, reading nothing more.
    """
    await response.aclose()
    with contextlib.suppress(Exception):
        async for _ in chunks:
            pass


async def _read_error_body(response: httpx.Response) -> bytes:
    """The first :data:`ERROR_BODY_LIMIT` bytes of an error answer (the rest is left unread)."""
    pieces: list[bytes] = []
    size = 0
    chunks = response.aiter_bytes()
    try:
        async for chunk in chunks:
            pieces.append(chunk)
            size += len(chunk)
            if size >= ERROR_BODY_LIMIT:
                break
    except httpx.TransportError:
        pass
    finally:
        await _abandon(response, chunks)
    return b"".join(pieces)[:ERROR_BODY_LIMIT]


def _config_error(parameter: str, value: object, why: str) -> errors.InvalidConfiguration:
    return errors.InvalidConfiguration(f"{parameter}={value!r:.100}: {why}")


def _check_host(host: object) -> str:
    """The registry ``host`` argument, checked: ``host[:port]`` or an ``http(s)://`` URL.

    Raises:
        InvalidConfiguration: It is not (naming ``host``).
    """
    if not isinstance(host, str) or not host.strip():
        raise _config_error("host", host, "a registry host[:port] or http(s):// URL is needed")
    url = host if host.startswith(("http://", "https://")) else f"https://{host}"
    try:
        parts = urllib.parse.urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise _config_error("host", host, f"not a host[:port] ({exc})") from None
    name = parts.hostname or ""
    if not name or any(c.isspace() for c in host) or "@" in parts.netloc:
        raise _config_error("host", host, "not a host[:port]")
    if port == 0:
        raise _config_error("host", host, "port 0 is not a port")
    if parts.path.strip("/") or parts.query or parts.fragment:
        raise _config_error("host", host, "give the registry's host, without a path")
    return host


def _check_positive_int(parameter: str, value: object) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise _config_error(parameter, value, "must be a whole number of at least 1")
    return value


def _check_timeout(value: object) -> None:
    seconds: list[object]
    if isinstance(value, httpx.Timeout):
        seconds = [value.connect, value.read, value.write, value.pool]
    else:
        seconds = [value]
    for item in seconds:
        if item is None:
            continue
        if not isinstance(item, (int, float)) or isinstance(item, bool) or not item > 0:
            raise _config_error("timeout", value, "must be a number of seconds above 0, or None")


def _registry_target(url: httpx.URL) -> str:
    """How an error message names the registry a request went to."""
    return f"the registry at {url.scheme}://{url.netloc.decode()}"


def _not_found(method: str, path: str) -> errors.RegistryError:
    """The error for a 404 without an OCI body (a HEAD, or a route the registry lacks)."""
    if "/blobs/" in path:
        return errors.BlobUnknown("blob unknown", status_code=404, method=method, path=path)
    if "/manifests/" in path:
        return errors.ManifestUnknown("manifest unknown", status_code=404, method=method, path=path)
    return errors.RegistryError("not found", status_code=404, method=method, path=path)


@attrs.frozen
class RegistryRef:
    """A reference resolved against a registry: its repository and what to ask for."""

    host: str
    repository: str
    tag: str | None
    digest: str | None

    @property
    def target(self) -> str:
        """The tag or digest to put in a manifest URL (digest wins)."""
        return self.digest or self.tag or "latest"

    def __str__(self) -> str:
        out = f"{self.host}/{self.repository}"
        if self.tag:
            out += f":{self.tag}"
        if self.digest:
            out += f"@{self.digest}"
        return out


def _names_host(text: str) -> bool:
    first, slash, _ = text.partition("/")
    return bool(slash) and ("." in first or ":" in first or first == "localhost")


def parse_ref(text: str | ImageReference, default_host: str) -> RegistryRef:
    """Parse ``repo[:tag][@digest]`` (on ``default_host``) or ``host/repo...``.

    Raises:
        InvalidReference: Not a valid reference.
    """
    if isinstance(text, ImageReference):
        return RegistryRef(text.domain or default_host, text.path, text.tag, text.digest)
    if not _names_host(text):
        text = f"{default_host}/{text}"
    ref = ImageReference.parse(text, normalize=False)
    return RegistryRef(ref.domain, ref.path, ref.tag, ref.digest)


# --------------------------------------------------------------------------- the session


class AsyncRegistrySession:
    """One registry's connection and request pipeline (see :class:`AsyncRegistry`).

    The constructor does no I/O; the arguments are :class:`AsyncRegistry`'s.
    """

    def __init__(
        self,
        host: str,
        *,
        insecure: bool = False,
        auth: RegistryAuth | Mapping[str, Any] | tuple[str, str] | None = None,
        ca_cert: str | os.PathLike[str] | None = None,
        verify: bool | ssl.SSLContext = True,
        transport: httpx.AsyncBaseTransport | None = None,
        retry: RetryPolicy | None = None,
        timeout: float | httpx.Timeout | None = DEFAULT_TIMEOUT,
        deadline: float | None = None,
        chunk_size: int = DEFAULT_CHUNK_SIZE,
        concurrency: int = 4,
        env: Mapping[str, str] | None = None,
    ) -> None:
        host = _check_host(host)
        self._deadline = check_seconds("deadline", deadline)
        chunk_size = _check_positive_int("chunk_size", chunk_size)
        concurrency = _check_positive_int("concurrency", concurrency)
        _check_timeout(timeout)
        self._explicit_base = host.rstrip("/") if host.startswith(("http://", "https://")) else None
        self.host = urllib.parse.urlsplit(host).netloc if self._explicit_base else host
        self.insecure = insecure
        tls: bool | None = (
            True if (ca_cert is not None or isinstance(verify, ssl.SSLContext)) else None
        )
        self._candidates = base_urls(host, insecure=insecure, tls=tls)
        self._base: str | None = self._explicit_base
        given = RegistryAuth.coerce(auth)
        self._use_config = given is None
        self._auth = AuthState(given)
        self._env = env
        self._retry = retry if retry is not None else RetryPolicy()
        self._timeout = timeout if isinstance(timeout, httpx.Timeout) else httpx.Timeout(timeout)
        self._chunk_size = chunk_size
        self._concurrency = concurrency
        self._ready = False
        self._lock = Lock()
        self._warned: set[str] = set()
        #: Clients for other registries a copy opened; closed with this one.
        self._owned: list[AsyncRegistrySession] = []
        try:
            verify_arg = _ssl_context(self.host, ca_cert, False if insecure else verify)
        except (OSError, ssl.SSLError) as exc:
            raise _config_error(
                "ca_cert", ca_cert, f"cannot be read as CA certificates ({exc})"
            ) from None
        self._plain_http_ok = insecure or is_loopback(self.host)
        mounts = None if transport is not None else _own_transports(self._candidates, verify_arg)
        self._http = httpx.AsyncClient(
            verify=verify_arg,
            transport=transport,
            mounts=mounts,
            timeout=self._timeout,
            headers={"User-Agent": _USER_AGENT},
            follow_redirects=False,
        )

    async def aclose(self) -> None:
        """Close this registry's connections."""
        await self._http.aclose()

    # -- plumbing ------------------------------------------------------------

    async def _prepare(self) -> str:
        """Find credentials and the scheme once; return the base URL."""
        if self._ready and self._base is not None:
            return self._base
        async with self._lock:
            if not self._ready:
                if self._use_config and self._auth.credentials is None:
                    self._auth.credentials = await load_credentials(self.host, env=self._env)
                if self._base is None:
                    self._base = await self._discover()
                self._auth.bind(self._base, plain_http_ok=self._plain_http_ok)
                self._ready = True
        assert self._base is not None
        return self._base

    async def _discover(self) -> str:
        """Try each candidate base URL with ``GET /v2/``; keep the first that answers."""
        last: BaseException | None = None
        for base in self._candidates:
            request = self._http.build_request("GET", base + "/v2/")
            try:
                response = await self._send(request, idempotent=True)
            except errors.ConnectError as exc:
                last = exc
                continue
            await response.aclose()
            self._auth.bind(base, plain_http_ok=self._plain_http_ok)
            if response.status_code == 401:
                header = ", ".join(response.headers.get_list("www-authenticate"))
                self._auth.on_unauthorized(header, (), sent_authorization=None, now=monotonic())
            return base
        assert last is not None
        raise last

    async def _send(self, request: httpx.Request, *, idempotent: bool) -> httpx.Response:
        """Send one request (streamed answer) with the retry policy; map transport errors."""
        method, path = request.method, request.url.path
        started = monotonic()
        retry = retrying(self._retry, RetryDecision(self._retry, idempotent))
        try:
            response: httpx.Response = await retry(self._http.send, request, stream=True)
        except httpx.TransportError as exc:
            raise transport_error(
                exc, method=method, path=path, target=_registry_target(request.url)
            ) from exc
        http_log.info(
            "%s %s -> %d (%.1f ms)",
            method,
            path,
            response.status_code,
            (monotonic() - started) * 1000,
        )
        for warning in response.headers.get_list("warning"):
            if warning not in self._warned:
                self._warned.add(warning)
                log.warning("registry %s warns: %s", self.host, warning)
        return response

    async def _fetch_token(self, token_request: TokenRequest) -> None:
        """Send the token requests the auth state asks for until it has its token."""
        current: TokenRequest | Token = token_request
        while isinstance(current, TokenRequest):
            url = httpx.URL(current.url)
            if current.params:
                url = url.copy_merge_params(list(current.params))
            request = self._http.build_request(
                current.method,
                url,
                data=dict(current.form) if current.form else None,
                headers=dict(current.headers),
            )
            response = await self._send(request, idempotent=True)
            try:
                if response.status_code >= 400:
                    body = await _read_error_body(response)
                else:
                    body = await _read_capped(response, JSON_LIMIT, what="token answer")
            finally:
                await response.aclose()
            current = self._auth.on_token_response(
                current, response.status_code, body, now=monotonic()
            )

    async def _authorization(self, scopes: Sequence[str]) -> str | None:
        pending = self._auth.token_request_for(scopes, now=monotonic())
        if pending is not None:
            await self._fetch_token(pending)
        return self._auth.authorization(scopes, now=monotonic())

    async def _request(
        self,
        method: str,
        url: str,
        *,
        scopes: Sequence[str] = (),
        headers: Mapping[str, str] | None = None,
        content: Any = None,
        stream: bool = False,
        idempotent: bool | None = None,
        allow: Sequence[int] = (),
        limit: int = JSON_LIMIT,
        what: str = "answer",
    ) -> httpx.Response:
        """Send a request with auth, redirects, retries and typed errors.

        ``url`` is a path under the registry or an absolute URL. Answers with a
        status in ``allow`` are returned instead of raised. A streamed answer
        must be closed by the caller; any other is read whole, at most
        ``limit`` bytes (:class:`~pydock.errors.ResponseTooLarge` beyond,
        naming ``what``). Credentials go only to the registry's own origin:
        an upload ``Location``, a next page or a redirect elsewhere gets none.
        """
        with deadline(self._deadline):  # the client's deadline, if any, for the whole request
            base = await self._prepare()
            if url.startswith("/"):
                url = base + url
            replayable = content is None or isinstance(content, bytes)
            if idempotent is None:
                idempotent = is_idempotent(method) and replayable
            base_headers = dict(headers or {})
            authorization: str | None = None
            home = same_origin(base, url)
            for round_ in range(3):
                authorization = await self._authorization(scopes) if home else None
                sent = dict(base_headers)
                if authorization:
                    sent["Authorization"] = authorization
                request = self._http.build_request(method, url, headers=sent, content=content)
                response = await self._send(request, idempotent=idempotent)
                if response.status_code != 401 or round_ == 2 or not replayable or not home:
                    break
                header = ", ".join(response.headers.get_list("www-authenticate"))
                try:
                    action = self._auth.on_unauthorized(
                        header, scopes, sent_authorization=authorization, now=monotonic()
                    )
                except BaseException:  # a token service refused before anything is sent to it
                    await response.aclose()
                    raise
                if action.kind == "fail":
                    break
                await response.aclose()
                if action.token_request is not None:
                    await self._fetch_token(action.token_request)
            hops = 0
            while response.status_code in _REDIRECTS and "location" in response.headers:
                if hops == MAX_REDIRECTS:
                    await response.aclose()
                    raise errors.RegistryError(
                        f"too many redirects: {MAX_REDIRECTS} followed, the registry sent another",
                        status_code=response.status_code,
                        code="TOO_MANY_REDIRECTS",
                        method=method,
                        path=response.request.url.path,
                    )
                hops += 1
                target = urllib.parse.urljoin(str(response.url), response.headers["location"])
                await response.aclose()
                if response.status_code == 303 or (
                    response.status_code in (301, 302) and method not in ("GET", "HEAD")
                ):
                    method, content = "GET", None
                sent = dict(base_headers)
                # Credentials stay with the registry: blob storage on another host gets none.
                if authorization and same_origin(base, target):
                    sent["Authorization"] = authorization
                url = target
                request = self._http.build_request(method, url, headers=sent, content=content)
                response = await self._send(request, idempotent=idempotent)
            status = response.status_code
            if status >= 400 and status not in allow:
                try:
                    body = await _read_error_body(response)
                finally:
                    await response.aclose()
                path = response.request.url.path
                if status == 404 and not body.strip().startswith(b"{"):
                    raise _not_found(method, path)
                raise error_for_status(status, body, method=method, path=path, resource="registry")
            if not stream:
                try:
                    # httpx's own attribute for a body already read: .content and .json() use it.
                    response._content = await _read_capped(response, limit, what=what)
                except httpx.TransportError as exc:
                    answered = response.request.url
                    raise transport_error(
                        exc, method=method, path=answered.path, target=_registry_target(answered)
                    ) from exc
                finally:
                    await response.aclose()
            return response

    def _ref(self, ref: str | ImageReference) -> RegistryRef:
        parsed = parse_ref(ref, self.host)
        if parsed.host.lower() != self.host.lower():
            raise errors.InvalidReference(
                f"reference {str(ref)!r} names registry {parsed.host}, not {self.host}"
            )
        return parsed

    async def _page(
        self, url: str, key: str, scopes: Sequence[str]
    ) -> tuple[list[Any], str | None]:
        response = await self._request("GET", url, scopes=scopes, what=f"{key} listing")
        try:
            items = parse_listing(response.content, key)
        except errors.ProtocolError as exc:
            exc.method, exc.path = "GET", response.request.url.path
            raise
        return items, next_page_url(str(response.url), response.headers.get("link"))
