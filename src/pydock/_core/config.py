"""Where the engine is, and how to talk to it: engine URLs, TLS settings, ``from_env``.

This module reads configuration files (``config.json``, docker context metadata,
TLS material) but never opens a connection and imports no I/O library.

Resolution order of :func:`resolve_endpoint` (first match wins):

1. ``DOCKER_HOST``, with TLS from ``DOCKER_TLS_VERIFY``, ``DOCKER_TLS`` and
   ``DOCKER_CERT_PATH``. As in the docker CLI, a non-empty ``DOCKER_HOST``
   beats ``DOCKER_CONTEXT`` silently (the CLI only refuses ``--host`` together
   with ``--context``, which are flags, not environment variables).
2. A docker context: ``DOCKER_CONTEXT``, else ``currentContext`` in
   ``config.json``. The context ``default`` means "no context".
3. ``CONTAINER_HOST`` (Podman's variable).
4. The first default socket that exists: ``/var/run/docker.sock``, then
   ``$XDG_RUNTIME_DIR/podman/podman.sock``, then ``/run/podman/podman.sock``
   (Podman's first with ``prefer="podman"``).
5. Otherwise ``unix:///var/run/docker.sock`` anyway, with the source
   ``"default (not found)"``: connecting fails later with a clear error.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
import os
import re
import ssl
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Literal

import attrs

from pydock.errors import InvalidConfiguration

__all__ = [
    "DEFAULT_DOCKER_SOCKET",
    "DEFAULT_MAX_RESPONSE_SIZE",
    "DEFAULT_PODMAN_ROOT_SOCKET",
    "ERROR_BODY_LIMIT",
    "Backend",
    "EngineEndpoint",
    "EngineURL",
    "TLSConfig",
    "check_size",
    "docker_config_dir",
    "load_docker_config",
    "parse_engine_url",
    "resolve_endpoint",
]

#: Which engine an endpoint is believed to be; ``"auto"`` means "ask it".
Backend = Literal["auto", "docker", "podman"]
#: The scheme of a parsed engine URL (a bare ``host:port`` counts as ``tcp``).
Scheme = Literal["unix", "tcp", "http", "https"]

#: The most an engine's JSON answer may hold (64 MiB): ``max_response_size=`` changes it.
DEFAULT_MAX_RESPONSE_SIZE = 64 * 1024 * 1024
#: The most of an error answer's body that is read (its start is kept for the message).
ERROR_BODY_LIMIT = 16 * 1024

#: Docker's default socket on Linux and macOS.
DEFAULT_DOCKER_SOCKET = "/var/run/docker.sock"
#: Podman's rootful default socket.
DEFAULT_PODMAN_ROOT_SOCKET = "/run/podman/podman.sock"
#: The base URL used over unix sockets (the host is ignored by the engine).
UNIX_BASE_URL = "http://localhost"

PLAIN_TCP_PORT = 2375
TLS_TCP_PORT = 2376

_BACKENDS: frozenset[str] = frozenset({"auto", "docker", "podman"})
_FALSY = frozenset({"0", "false", "no", "off"})
_SCHEME_RE = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://(.*)$", re.DOTALL)
_HOSTNAME_RE = re.compile(r"^[A-Za-z0-9_]([A-Za-z0-9_.-]*[A-Za-z0-9_])?$")
_PASSWORD_RE = re.compile(r"(://[^/@:]*):[^/@]*@")

# ---------------------------------------------------------------------------
# TLS
# ---------------------------------------------------------------------------


def _opt_fspath(value: str | os.PathLike[str] | None) -> str | None:
    """Turn a path-like into a string, leaving ``None`` alone."""
    return None if value is None else os.fspath(value)


def _check_cert_pair(instance: TLSConfig, attribute: attrs.Attribute[Any], value: Any) -> None:
    """Refuse a client certificate without its key, or a key without its certificate."""
    if (instance.client_cert is None) != (instance.client_key is None):
        given, missing = (
            ("client_cert", "client_key")
            if instance.client_cert is not None
            else ("client_key", "client_cert")
        )
        raise InvalidConfiguration(
            f"TLS configuration: {given} is set but {missing} is not "
            "(a client certificate needs both)"
        )


@attrs.frozen
class TLSConfig:
    """TLS settings for an engine reached over TCP.

    Attributes:
        ca_cert: A PEM file of the certificate authorities to trust. When
            ``None``, the system's trust store is used. When set, only these
            authorities are trusted.
        client_cert: A PEM client certificate (needs ``client_key``).
        client_key: The PEM private key of ``client_cert`` (needs ``client_cert``).
        verify: Whether to verify the server's certificate and host name.
        server_hostname: The name to check the server's certificate against (and
            to send as SNI) when it differs from the host in the URL. The
            transport applies it; :meth:`ssl_context` does not.

    Raises:
        InvalidConfiguration: Only one of ``client_cert`` and ``client_key`` is set.
    """

    ca_cert: str | None = attrs.field(default=None, converter=_opt_fspath)
    client_cert: str | None = attrs.field(default=None, converter=_opt_fspath)
    client_key: str | None = attrs.field(
        default=None, converter=_opt_fspath, validator=_check_cert_pair
    )
    verify: bool = True
    server_hostname: str | None = None

    @classmethod
    def from_cert_path(cls, path: str | os.PathLike[str], *, verify: bool = True) -> TLSConfig:
        """Build a configuration from a docker-style certificate folder.

        The folder may hold ``ca.pem`` (the authority to trust), ``cert.pem``
        and ``key.pem`` (the client certificate and key). Each file is used
        when it exists; without ``ca.pem`` the system's trust store is used.

        Args:
            path: The folder (``DOCKER_CERT_PATH``, ``~/.docker``, a context's
                TLS folder...).
            verify: Whether to verify the server's certificate.

        Returns:
            The TLS configuration.

        Raises:
            InvalidConfiguration: Only one of ``cert.pem`` and ``key.pem`` exists.
        """
        folder = Path(path)
        ca, cert, key = (folder / name for name in ("ca.pem", "cert.pem", "key.pem"))
        has_cert, has_key = cert.is_file(), key.is_file()
        if has_cert != has_key:
            present, absent = ("cert.pem", "key.pem") if has_cert else ("key.pem", "cert.pem")
            raise InvalidConfiguration(
                f"TLS folder {str(folder)!r}: {present} exists but {absent} does not "
                "(a client certificate needs both)"
            )
        return cls(
            ca_cert=str(ca) if ca.is_file() else None,
            client_cert=str(cert) if has_cert else None,
            client_key=str(key) if has_key else None,
            verify=verify,
        )

    def ssl_context(self) -> ssl.SSLContext:
        """Build the client-side SSL context these settings describe.

        With ``verify``, the server's certificate is required and checked
        against ``ca_cert`` (or the system's trust store) and the host name is
        checked. Without it, neither is checked. The client certificate, when
        set, is loaded in both cases. TLS 1.2 is the minimum version.

        Returns:
            A new :class:`ssl.SSLContext`.

        Raises:
            InvalidConfiguration: A certificate or key file is missing,
                unreadable or not valid PEM, or the key does not match the
                certificate.
        """
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        if self.verify:
            ctx.check_hostname = True
            ctx.verify_mode = ssl.CERT_REQUIRED
            if self.ca_cert is not None:
                try:
                    ctx.load_verify_locations(cafile=self.ca_cert)
                except (OSError, ssl.SSLError) as exc:
                    raise InvalidConfiguration(
                        f"TLS CA certificate {self.ca_cert!r}: {_describe(exc)}"
                    ) from exc
            else:
                ctx.load_default_certs(ssl.Purpose.SERVER_AUTH)
        else:
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
        if self.client_cert is not None and self.client_key is not None:
            try:
                ctx.load_cert_chain(self.client_cert, self.client_key)
            except (OSError, ssl.SSLError) as exc:
                raise InvalidConfiguration(
                    f"TLS client certificate {self.client_cert!r} / key "
                    f"{self.client_key!r}: {_describe(exc)}"
                ) from exc
        return ctx


def _describe(exc: BaseException) -> str:
    """A short reason for a failed certificate load."""
    if isinstance(exc, ssl.SSLError):
        return f"not a usable PEM certificate or key ({exc.reason or exc})"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc)


# ---------------------------------------------------------------------------
# Engine URLs
# ---------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class EngineURL:
    """A parsed engine address.

    Attributes:
        scheme: ``"unix"``, ``"tcp"``, ``"http"`` or ``"https"`` (a bare
            ``host:port`` is ``"tcp"``).
        socket_path: The socket's path, for ``unix``; else ``None``.
        host: The host name or IP address (IPv6 without brackets); ``None`` for ``unix``.
        port: The port (explicit, or the scheme's default); ``None`` for ``unix``.
        base_path: A path prefix every API path goes under (``"/prefix"``), or ``""``.
        base_url: The URL an HTTP client should use: ``http://localhost`` over a
            unix socket, else ``http(s)://host:port[/prefix]``.
        tls: Whether the connection uses TLS.
    """

    scheme: Scheme
    socket_path: str | None = None
    host: str | None = None
    port: int | None = None
    base_path: str = ""
    base_url: str
    tls: bool = False


def _redact(url: str) -> str:
    """Hide a password in a URL's user information."""
    return _PASSWORD_RE.sub(r"\1:***@", url)


def _where(url: str, origin: str | None) -> str:
    """Name a URL and where it came from, for error messages."""
    shown = repr(_redact(url))
    return f"{origin}={shown}" if origin else f"engine URL {shown}"


def parse_engine_url(url: str, *, tls: bool = False, origin: str | None = None) -> EngineURL:
    """Parse an engine address as ``DOCKER_HOST`` or a docker context holds it.

    Accepted forms:

    * ``unix:///path/to.sock``; ``unix://relative.sock`` is kept as the
      relative path it is, as the docker CLI does.
    * ``tcp://host[:port][/prefix]``: HTTP, or HTTPS when ``tls`` is true. The
      default port is 2375, or 2376 with TLS. A bare ``host:port`` means the same.
    * ``http://host[:port][/prefix]`` and ``https://...``: HTTP or HTTPS
      whatever ``tls`` says, default ports 80 and 443.
    * IPv6 addresses in brackets: ``tcp://[::1]:2375``.

    Scheme names are case-insensitive; surrounding whitespace and trailing
    slashes are ignored.

    Args:
        url: The address.
        tls: Whether ``tcp://`` addresses use TLS (that is, a
            :class:`TLSConfig` goes with this URL).
        origin: Where the URL came from (``"DOCKER_HOST"``...), for error messages.

    Returns:
        The parsed address.

    Raises:
        InvalidConfiguration: The URL is empty or malformed, has an unsupported
            scheme (``ssh://``, ``npipe://``, ``fd://``...), a bad port, user
            information, a query string or a fragment.
    """
    where = _where(url, origin)

    def bad(problem: str) -> InvalidConfiguration:
        return InvalidConfiguration(f"{where}: {problem}")

    text = url.strip()
    if not text:
        raise bad("the URL is empty")
    if any(ch.isspace() or ord(ch) < 0x20 or ord(ch) == 0x7F for ch in text):
        raise bad("the URL contains whitespace or control characters")

    match = _SCHEME_RE.match(text)
    if match is not None:
        scheme, rest = match.group(1).lower(), match.group(2)
    elif "://" in text:
        raise bad("the URL is malformed")
    elif text.startswith("/"):
        raise bad(f"a bare path is not an engine URL (for a socket, write 'unix://{text}')")
    else:
        scheme, rest = "tcp", text

    if scheme == "ssh":
        raise InvalidConfiguration(
            f"ssh:// engine URLs are not supported yet: {where} "
            "(forward the remote socket with `ssh -L` and use unix:// or tcp://)"
        )
    if scheme == "npipe":
        raise bad("Windows named pipes (npipe://) are not supported")

    if scheme == "unix":
        path = rest.rstrip("/")
        if not path:
            raise bad("the socket path is missing")
        return EngineURL(scheme="unix", socket_path=path, base_url=UNIX_BASE_URL)

    if scheme == "tcp":
        use_tls = tls
        default_port = TLS_TCP_PORT if tls else PLAIN_TCP_PORT
        kind: Scheme = "tcp"
    elif scheme == "http":
        use_tls, default_port, kind = False, 80, "http"
    elif scheme == "https":
        use_tls, default_port, kind = True, 443, "https"
    else:
        raise bad(f"unsupported scheme {scheme!r} (use unix://, tcp://, http:// or https://)")

    if "?" in rest or "#" in rest:
        raise bad("query strings and fragments are not allowed")
    hostport, slash, path = rest.partition("/")
    base_path = re.sub("/+", "/", "/" + path).rstrip("/") if slash else ""
    if "@" in hostport:
        raise bad("user information (user@host) is not supported")
    host, port = _split_host_port(hostport, default_port, bad)

    url_host = f"[{host.replace('%', '%25')}]" if ":" in host else host
    base_url = f"{'https' if use_tls else 'http'}://{url_host}:{port}{base_path}"
    return EngineURL(
        scheme=kind, host=host, port=port, base_path=base_path, base_url=base_url, tls=use_tls
    )


def _split_host_port(
    hostport: str, default_port: int, bad: Callable[[str], InvalidConfiguration]
) -> tuple[str, int]:
    """Split ``host[:port]`` (IPv6 in brackets), checking both parts."""
    if hostport.startswith("["):
        end = hostport.find("]")
        if end < 0:
            raise bad("unclosed '[' in the IPv6 address")
        host, after = hostport[1:end], hostport[end + 1 :]
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            raise bad(f"{host!r} is not an IPv6 address") from None
        if after and not after.startswith(":"):
            raise bad(f"unexpected {after!r} after the IPv6 address")
        port_text: str | None = after[1:] if after else None
    else:
        if hostport.count(":") > 1:
            raise bad("IPv6 addresses must be in brackets, as in tcp://[::1]:2375")
        host, colon, port_str = hostport.partition(":")
        port_text = port_str if colon else None
        if not host:
            raise bad("the host is missing")
        if not _HOSTNAME_RE.match(host):
            raise bad(f"{host!r} is not a valid host name or address")

    if port_text is None:
        return host, default_port
    if not port_text.isascii() or not port_text.isdigit():
        raise bad(f"invalid port {port_text!r}")
    port = int(port_text)
    if not 0 < port < 65536:
        raise bad(f"port {port} is out of range (1-65535)")
    return host, port


# ---------------------------------------------------------------------------
# Endpoints
# ---------------------------------------------------------------------------


def _check_url(instance: EngineEndpoint, attribute: attrs.Attribute[Any], value: str) -> None:
    """Refuse an endpoint whose URL does not parse."""
    parse_engine_url(value, tls=instance.tls is not None)


def _check_backend(instance: object, attribute: attrs.Attribute[Any], value: str) -> None:
    """Refuse an unknown backend name."""
    if value not in _BACKENDS:
        raise InvalidConfiguration(
            f"{attribute.name}={value!r}: must be 'auto', 'docker' or 'podman'"
        )


@attrs.frozen
class EngineEndpoint:
    """Where an engine is and how to reach it.

    Args:
        url: The engine URL, as given or found (``unix:///var/run/docker.sock``,
            ``tcp://host:2376``...). ``tcp://`` means HTTPS when ``tls`` is set.
        tls: TLS settings; ``None`` for plain connections (and for ``https://``
            URLs that need nothing but the system's trust store).
        backend: The engine it is believed to be; ``"auto"`` to find out.
        source: Where the endpoint came from, for messages (``"DOCKER_HOST"``,
            ``"context 'foo' (DOCKER_CONTEXT)"``, ``"default socket /var/run/docker.sock"``).

    Raises:
        InvalidConfiguration: ``url`` does not parse, or ``backend`` is unknown.
    """

    url: str = attrs.field(validator=_check_url)
    tls: TLSConfig | None = None
    backend: Backend = attrs.field(default="auto", validator=_check_backend)
    source: str = "explicit"

    @property
    def engine_url(self) -> EngineURL:
        """The parsed URL (``tcp://`` becomes HTTPS when ``tls`` is set)."""
        return parse_engine_url(self.url, tls=self.tls is not None)


def _home(home: str | os.PathLike[str] | None) -> Path:
    """The home folder: ``home``, else the current user's."""
    return Path(os.path.expanduser("~") if home is None else os.fspath(home))


def docker_config_dir(
    env: Mapping[str, str] | None = None, home: str | os.PathLike[str] | None = None
) -> Path:
    """The docker CLI's configuration folder: ``$DOCKER_CONFIG``, else ``~/.docker``.

    Args:
        env: The environment; ``os.environ`` when ``None``.
        home: The home folder; the current user's when ``None``.

    Returns:
        The folder's path (it may not exist).
    """
    env = os.environ if env is None else env
    override = env.get("DOCKER_CONFIG", "")
    if override:
        return Path(override)
    return _home(home) / ".docker"


def _read_json_object(path: Path, what: str) -> dict[str, Any]:
    """Read a JSON file that must hold an object."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise InvalidConfiguration(f"cannot read {what} {str(path)!r}: {reason}") from exc
    if not text.strip():
        return {}
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidConfiguration(
            f"{what} {str(path)!r} is not valid JSON: {exc.msg} "
            f"(line {exc.lineno}, column {exc.colno})"
        ) from exc
    if not isinstance(data, dict):
        raise InvalidConfiguration(
            f"{what} {str(path)!r} must hold a JSON object, not {type(data).__name__}"
        )
    return data


def load_docker_config(
    env: Mapping[str, str] | None = None, home: str | os.PathLike[str] | None = None
) -> dict[str, Any]:
    """Read the docker CLI's ``config.json``.

    Args:
        env: The environment; ``os.environ`` when ``None``.
        home: The home folder; the current user's when ``None``.

    Returns:
        The file's object; ``{}`` when the file is missing or empty.

    Raises:
        InvalidConfiguration: The file cannot be read, is not valid JSON or
            does not hold a JSON object. The message names the file.
    """
    path = docker_config_dir(env, home) / "config.json"
    if not path.exists():
        return {}
    return _read_json_object(path, "docker config file")


def resolve_endpoint(
    env: Mapping[str, str] | None = None,
    *,
    home: str | os.PathLike[str] | None = None,
    exists: Callable[[str], bool] = os.path.exists,
    prefer: Backend = "auto",
) -> EngineEndpoint:
    """Find the engine the environment points at, as ``docker`` would.

    In order: ``DOCKER_HOST``; the docker context named by ``DOCKER_CONTEXT``
    or by ``currentContext`` in ``config.json``; ``CONTAINER_HOST``; the
    first default socket that exists. When none exists, the Docker default
    socket is returned anyway (source ``"default (not found)"``), so that
    connecting fails with a clear error later rather than here.

    TLS with ``DOCKER_HOST`` follows the docker CLI and docker-py: it is on
    when ``DOCKER_TLS_VERIFY``, ``DOCKER_TLS`` or ``DOCKER_CERT_PATH`` is
    non-empty. The server is verified only when ``DOCKER_TLS_VERIFY`` is
    non-empty and not ``0``/``false``/``no``/``off``. Certificates come from
    ``DOCKER_CERT_PATH``, else the docker configuration folder. TLS settings
    are dropped for ``unix://`` and ``http://`` URLs.

    Two departures from the docker CLI: ``DOCKER_TLS_VERIFY=0`` turns
    verification off (the CLI verifies for any non-empty value) but keeps
    TLS on, like ``--tlsverify=false``; and a ``config.json`` that is not
    valid JSON is an error (the CLI warns and goes on), though it is only
    read when neither ``DOCKER_HOST`` nor ``DOCKER_CONTEXT`` is set.

    Args:
        env: The environment; ``os.environ`` when ``None``.
        home: The home folder; the current user's when ``None``.
        exists: Tells whether a default socket path exists (for tests).
        prefer: With ``"podman"``, Podman's default sockets are tried before
            Docker's. It does not change the order of the other steps.

    Returns:
        The endpoint, with ``source`` telling where it came from.

    Raises:
        InvalidConfiguration: A URL does not parse or is unsupported (``ssh://``,
            ``npipe://``); the named context does not exist or its metadata is
            broken; ``config.json`` is not valid JSON; TLS files are incomplete;
            ``prefer`` is unknown.
    """
    env = os.environ if env is None else env
    if prefer not in _BACKENDS:
        raise InvalidConfiguration(f"prefer={prefer!r}: must be 'auto', 'docker' or 'podman'")

    docker_host = env.get("DOCKER_HOST", "").strip()
    if docker_host:
        return _endpoint(docker_host, _tls_from_env(env, home), "auto", "DOCKER_HOST")

    context = _context_name(env, home)
    if context is not None:
        return _context_endpoint(context[0], context[1], env, home)

    container_host = env.get("CONTAINER_HOST", "").strip()
    if container_host:
        return _endpoint(container_host, None, "podman", "CONTAINER_HOST")

    for path, backend in _default_sockets(env, prefer):
        if exists(path):
            return EngineEndpoint(
                url=f"unix://{path}", backend=backend, source=f"default socket {path}"
            )
    return EngineEndpoint(
        url=f"unix://{DEFAULT_DOCKER_SOCKET}", backend="docker", source="default (not found)"
    )


def _endpoint(url: str, tls: TLSConfig | None, backend: Backend, source: str) -> EngineEndpoint:
    """Validate ``url`` (naming ``source`` on error) and build the endpoint."""
    parsed = parse_engine_url(url, tls=tls is not None, origin=source)
    return EngineEndpoint(url=url, tls=tls if parsed.tls else None, backend=backend, source=source)


def _tls_from_env(env: Mapping[str, str], home: str | os.PathLike[str] | None) -> TLSConfig | None:
    """The TLS settings ``DOCKER_TLS_VERIFY``, ``DOCKER_TLS`` and ``DOCKER_CERT_PATH`` describe."""
    verify_flag = env.get("DOCKER_TLS_VERIFY", "").strip()
    tls_flag = env.get("DOCKER_TLS", "").strip()
    cert_path = env.get("DOCKER_CERT_PATH", "").strip()
    if not (verify_flag or tls_flag or cert_path):
        return None
    verify = bool(verify_flag) and verify_flag.lower() not in _FALSY
    folder = Path(cert_path) if cert_path else docker_config_dir(env, home)
    return TLSConfig.from_cert_path(folder, verify=verify)


def _context_name(
    env: Mapping[str, str], home: str | os.PathLike[str] | None
) -> tuple[str, str] | None:
    """The current context's name and where it was set, or ``None`` for no context."""
    name = env.get("DOCKER_CONTEXT", "").strip()
    how = "DOCKER_CONTEXT"
    if not name:
        config = load_docker_config(env, home)
        current = config.get("currentContext")
        config_file = docker_config_dir(env, home) / "config.json"
        if current is None:
            return None
        if not isinstance(current, str):
            raise InvalidConfiguration(
                f"docker config file {str(config_file)!r}: currentContext must be a string"
            )
        name = current.strip()
        how = f"currentContext in {config_file}"
    if not name or name == "default":
        return None
    return name, how


def _context_endpoint(
    name: str, how: str, env: Mapping[str, str], home: str | os.PathLike[str] | None
) -> EngineEndpoint:
    """The endpoint of the docker context ``name``, read from the context store."""
    digest = hashlib.sha256(name.encode("utf-8")).hexdigest()
    store = docker_config_dir(env, home) / "contexts"
    meta_file = store / "meta" / digest / "meta.json"
    label = f"context {name!r} ({how})"
    if not meta_file.is_file():
        raise InvalidConfiguration(f"docker {label} does not exist: no {meta_file}")
    meta = _read_json_object(meta_file, f"metadata of docker context {name!r}")

    endpoints = meta.get("Endpoints")
    docker = endpoints.get("docker") if isinstance(endpoints, dict) else None
    if not isinstance(docker, dict):
        raise InvalidConfiguration(f"docker {label}: {meta_file} has no Endpoints.docker object")
    host = docker.get("Host", "")
    skip_verify = docker.get("SkipTLSVerify", False)
    if not isinstance(host, str):
        raise InvalidConfiguration(f"docker {label}: Endpoints.docker.Host must be a string")
    if not isinstance(skip_verify, bool):
        raise InvalidConfiguration(
            f"docker {label}: Endpoints.docker.SkipTLSVerify must be true or false"
        )

    tls_dir = store / "tls" / digest / "docker"
    has_tls_files = any((tls_dir / f).is_file() for f in ("ca.pem", "cert.pem", "key.pem"))
    tls = (
        TLSConfig.from_cert_path(tls_dir, verify=not skip_verify)
        if has_tls_files or skip_verify
        else None
    )
    # As in the docker CLI, a context without a host means the default socket.
    url = host.strip() or f"unix://{DEFAULT_DOCKER_SOCKET}"
    return _endpoint(url, tls, "auto", label)


def _default_sockets(env: Mapping[str, str], prefer: Backend) -> list[tuple[str, Backend]]:
    """The default sockets to probe, in order, with the engine each belongs to."""
    docker: list[tuple[str, Backend]] = [(DEFAULT_DOCKER_SOCKET, "docker")]
    podman: list[tuple[str, Backend]] = []
    runtime_dir = env.get("XDG_RUNTIME_DIR", "").strip().rstrip("/")
    if runtime_dir:
        podman.append((f"{runtime_dir}/podman/podman.sock", "podman"))
    podman.append((DEFAULT_PODMAN_ROOT_SOCKET, "podman"))
    return podman + docker if prefer == "podman" else docker + podman


def check_size(name: str, value: object) -> int:
    """``value`` as a byte count above zero.

    Raises:
        InvalidConfiguration: ``value`` is not a whole number above 0.
    """
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise InvalidConfiguration(f"{name} must be a whole number of bytes above 0, not {value!r}")
    return value
