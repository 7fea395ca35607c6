"""Registry credentials from the docker CLI's ``config.json`` and credential helpers.

No I/O beyond reading and writing ``config.json``: the credential helper
programs (``docker-credential-<name>``) are run by the I/O layers, which feed
their output to the parsers here.

Lookup for a registry host, as the docker CLI does it:

1. ``credHelpers[<host>]`` names a helper for this host;
2. else ``credsStore`` names the helper for every host;
3. else ``auths[<host>]`` holds the credentials inline: ``auth`` (base64 of
   ``user:password``), ``username``/``password``, ``identitytoken`` (an OAuth2
   refresh token) or ``registrytoken``.

Keys of ``auths`` may be spelled ``host``, ``https://host`` or
``https://host/v1/``; Docker Hub's key is ``https://index.docker.io/v1/``.

The helper protocol: ``docker-credential-<name> get`` reads the server URL on
standard input and writes ``{"ServerURL", "Username", "Secret"}``; a
``Username`` of ``<token>`` means the secret is an identity token. ``store``
reads that same object, ``erase`` reads the server URL, ``list`` writes
``{server: username}``.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import json
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs

from pydock._core.auth import RegistryAuth
from pydock._core.config import docker_config_dir
from pydock.errors import InvalidConfiguration, PydockError

__all__ = [
    "DOCKER_HUB_CONFIG_KEY",
    "HelperRef",
    "config_key",
    "helper_erase_input",
    "helper_get_input",
    "helper_program",
    "helper_store_input",
    "lookup_credentials",
    "parse_helper_get",
    "parse_helper_list",
    "save_docker_config",
    "store_credentials",
    "storage_helper",
]

#: The ``auths`` key the docker CLI uses for Docker Hub.
DOCKER_HUB_CONFIG_KEY = "https://index.docker.io/v1/"
_HUB_HOSTS = {"docker.io", "index.docker.io", "registry-1.docker.io"}
#: The user name helpers use to say the secret is an identity token.
TOKEN_USERNAME = "<token>"
_NOT_FOUND = "credentials not found in native keychain"


def canonical_host(key: str) -> str:
    """The host named by an ``auths`` key or a registry address, lower-cased.

    ``https://index.docker.io/v1/``, ``index.docker.io`` and
    ``registry-1.docker.io`` all give ``docker.io``.
    """
    host = key.strip()
    for prefix in ("https://", "http://"):
        if host.lower().startswith(prefix):
            host = host[len(prefix) :]
            break
    host = host.split("/", 1)[0].lower()
    return "docker.io" if host in _HUB_HOSTS else host


def config_key(host: str) -> str:
    """The key under which ``docker login`` stores a host's credentials."""
    canonical = canonical_host(host)
    return DOCKER_HUB_CONFIG_KEY if canonical == "docker.io" else canonical


@attrs.frozen
class HelperRef:
    """Credentials to be asked from a helper program.

    Attributes:
        helper: The helper's name (the program is ``docker-credential-<helper>``).
        server: The server URL to ask it for.
    """

    helper: str
    server: str

    @property
    def program(self) -> str:
        """The program to run."""
        return helper_program(self.helper)


def helper_program(name: str) -> str:
    """``docker-credential-<name>``."""
    return f"docker-credential-{name}"


def _find_key(mapping: Mapping[str, Any], host: str) -> str | None:
    wanted = canonical_host(host)
    if host in mapping:
        return host
    for key in mapping:
        if canonical_host(key) == wanted:
            return key
    return None


def _decode_entry(entry: Any, host: str) -> RegistryAuth | None:
    if not isinstance(entry, dict):
        return None
    username = entry.get("username") or None
    password = entry.get("password") or None
    encoded = entry.get("auth")
    if isinstance(encoded, str) and encoded:
        try:
            decoded = base64.b64decode(encoded + "=" * (-len(encoded) % 4)).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError) as exc:
            raise InvalidConfiguration(
                f"docker config: the auth entry for {host!r} is not base64 of user:password"
            ) from exc
        user, sep, secret = decoded.partition(":")
        if not sep:
            raise InvalidConfiguration(
                f"docker config: the auth entry for {host!r} has no ':' between user and password"
            )
        username, password = user, secret
    identitytoken = entry.get("identitytoken") or None
    registrytoken = entry.get("registrytoken") or None
    if not (username or password or identitytoken or registrytoken):
        return None
    return RegistryAuth(
        username=username,
        password=password,
        serveraddress=canonical_host(host),
        identitytoken=identitytoken,
        registrytoken=registrytoken,
    )


def lookup_credentials(config: Mapping[str, Any], host: str) -> RegistryAuth | HelperRef | None:
    """Where the credentials for ``host`` are, per ``config.json``.

    Returns:
        Inline credentials, a :class:`HelperRef` to run, or ``None``.

    Raises:
        InvalidConfiguration: An ``auth`` entry is not valid base64 of ``user:password``.
    """
    helpers = config.get("credHelpers")
    auths = config.get("auths")
    auths = auths if isinstance(auths, dict) else {}
    if isinstance(helpers, dict):
        key = _find_key(helpers, host)
        if key is not None and isinstance(helpers[key], str) and helpers[key]:
            return HelperRef(helpers[key], _server_url(auths, host))
    store = config.get("credsStore")
    if isinstance(store, str) and store:
        return HelperRef(store, _server_url(auths, host))
    key = _find_key(auths, host)
    return _decode_entry(auths[key], host) if key is not None else None


def _server_url(auths: Mapping[str, Any], host: str) -> str:
    """The server URL a helper knows the host by: the ``auths`` key when there is one."""
    key = _find_key(auths, host)
    return key if key is not None else config_key(host)


def helper_get_input(server: str) -> bytes:
    """Standard input of ``docker-credential-<name> get``."""
    return server.encode()


def helper_erase_input(server: str) -> bytes:
    """Standard input of ``docker-credential-<name> erase``."""
    return server.encode()


def helper_store_input(server: str, auth: RegistryAuth) -> bytes:
    """Standard input of ``docker-credential-<name> store``.

    Raises:
        ValueError: ``auth`` has neither a password nor an identity token.
    """
    if auth.identitytoken:
        username, secret = TOKEN_USERNAME, auth.identitytoken
    elif auth.username and auth.password is not None:
        username, secret = auth.username, auth.password
    else:
        raise ValueError("nothing to store: need a user and password or an identity token")
    return json.dumps({"ServerURL": server, "Username": username, "Secret": secret}).encode()


def _helper_failure(ref: HelperRef, action: str, stdout: bytes, stderr: bytes) -> PydockError:
    said = (stdout or stderr).decode("utf-8", "replace").strip()[:300]
    return PydockError(f"credential helper {ref.program} {action} failed: {said or 'no output'}")


def parse_helper_get(
    ref: HelperRef, returncode: int, stdout: bytes, stderr: bytes
) -> RegistryAuth | None:
    """Read what ``docker-credential-<name> get`` answered.

    Returns:
        The credentials, or ``None`` when the helper has none for the server.

    Raises:
        PydockError: The helper failed, or answered something that is not the
            protocol's JSON (the message never includes a secret).
    """
    if returncode != 0:
        if _NOT_FOUND in (stdout + stderr).decode("utf-8", "replace").lower():
            return None
        raise _helper_failure(ref, "get", stdout, stderr)
    try:
        payload = json.loads(stdout)
    except (ValueError, UnicodeDecodeError):
        payload = None
    if not isinstance(payload, dict):
        raise PydockError(f"credential helper {ref.program} get answered something not JSON")
    username = payload.get("Username") or None
    secret = payload.get("Secret")
    if not isinstance(secret, str) or not secret:
        return None
    host = canonical_host(ref.server)
    if username == TOKEN_USERNAME:
        return RegistryAuth(serveraddress=host, identitytoken=secret)
    return RegistryAuth(username=username, password=secret, serveraddress=host)


def parse_helper_list(
    ref: HelperRef, returncode: int, stdout: bytes, stderr: bytes
) -> dict[str, str]:
    """Read what ``docker-credential-<name> list`` answered: ``{server: username}``.

    Raises:
        PydockError: The helper failed or did not answer a JSON object.
    """
    if returncode != 0:
        raise _helper_failure(ref, "list", stdout, stderr)
    try:
        payload = json.loads(stdout or b"{}")
    except (ValueError, UnicodeDecodeError):
        payload = None
    if not isinstance(payload, dict):
        raise PydockError(f"credential helper {ref.program} list answered something not JSON")
    return {str(k): str(v) for k, v in payload.items()}


def check_helper_result(
    ref: HelperRef, action: str, returncode: int, stdout: bytes, stderr: bytes
) -> None:
    """Raise if ``store`` or ``erase`` failed.

    Raises:
        PydockError: The helper exited with an error.
    """
    if returncode != 0:
        raise _helper_failure(ref, action, stdout, stderr)


def storage_helper(config: Mapping[str, Any], host: str) -> HelperRef | None:
    """The helper ``docker login`` would store ``host``'s credentials in, if any."""
    found = lookup_credentials({k: v for k, v in config.items() if k != "auths"}, host)
    if isinstance(found, HelperRef):
        return HelperRef(found.helper, config_key(host))
    return None


def store_credentials(
    config: Mapping[str, Any], host: str, auth: RegistryAuth | None, *, in_helper: bool
) -> dict[str, Any]:
    """A copy of ``config`` with ``host``'s credentials stored the way ``docker login`` does.

    With ``in_helper`` the secret went to a helper and ``auths`` only gets an
    empty entry for the host; otherwise ``auths`` gets ``auth`` (base64 of
    ``user:password``) or the ``identitytoken``. ``auth=None`` removes the
    host (``docker logout``).
    """
    out = dict(config)
    auths = dict(out.get("auths") or {})
    key = _find_key(auths, host)
    if key is not None:
        del auths[key]
    if auth is not None:
        entry: dict[str, str] = {}
        if not in_helper:
            if auth.username and auth.password is not None and not auth.identitytoken:
                raw = f"{auth.username}:{auth.password}".encode()
                entry["auth"] = base64.b64encode(raw).decode("ascii")
            elif auth.identitytoken:
                if auth.username:
                    entry["auth"] = base64.b64encode(f"{auth.username}:".encode()).decode()
                entry["identitytoken"] = auth.identitytoken
        auths[config_key(host)] = entry
    out["auths"] = auths
    return out


def save_docker_config(
    config: Mapping[str, Any],
    env: Mapping[str, str] | None = None,
    home: str | os.PathLike[str] | None = None,
) -> Path:
    """Write ``config.json`` atomically, readable by its owner only (0600).

    Returns:
        The file written.

    Raises:
        InvalidConfiguration: The file cannot be written.
    """
    folder = docker_config_dir(env, home)
    path = folder / "config.json"
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd, tmp = tempfile.mkstemp(prefix=".config.json.", dir=folder)
        try:
            os.fchmod(fd, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                json.dump(config, out, indent="\t")
                out.write("\n")
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
    except OSError as exc:
        raise InvalidConfiguration(f"cannot write {str(path)!r}: {exc.strerror or exc}") from exc
    return path
