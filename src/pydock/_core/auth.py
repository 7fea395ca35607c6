"""Registry credentials as the engines and registries take them (no I/O).

The engines take credentials in the ``X-Registry-Auth`` header: base64url of
a JSON object. Registries take them as HTTP Basic or as tokens.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from typing import Any

import attrs

__all__ = [
    "RegistryAuth",
    "encode_x_registry_auth",
    "encode_x_registry_config",
]


@attrs.frozen(repr=False)
class RegistryAuth:
    """Credentials for one registry.

    Attributes:
        username: The user name (with ``password``).
        password: The password or access token.
        serveraddress: The registry host (``127.0.0.1:5000``, ``docker.io``).
        identitytoken: An OAuth2 refresh token (instead of user and password).
        registrytoken: A bearer token to send as is.
    """

    username: str | None = None
    password: str | None = None
    serveraddress: str | None = None
    identitytoken: str | None = None
    registrytoken: str | None = None

    def __repr__(self) -> str:
        # Never show secrets, not even in a debugger or a log line.
        return (
            f"RegistryAuth(username={self.username!r}, serveraddress={self.serveraddress!r}, "
            f"password={'***' if self.password else None}, "
            f"identitytoken={'***' if self.identitytoken else None})"
        )

    @classmethod
    def coerce(
        cls, value: RegistryAuth | Mapping[str, Any] | tuple[str, str] | None
    ) -> RegistryAuth | None:
        """Accept a ``RegistryAuth``, a docker-py style dict, or a ``(user, password)`` pair."""
        if value is None or isinstance(value, RegistryAuth):
            return value
        if isinstance(value, tuple):
            username, password = value
            return cls(username=username, password=password)
        known = {f.name for f in attrs.fields(cls)}
        return cls(**{k: str(v) for k, v in value.items() if k in known and v is not None})

    def to_json(self) -> dict[str, str]:
        """The JSON object the engines expect (empty members left out)."""
        return {k: v for k, v in attrs.asdict(self).items() if v}


def encode_x_registry_auth(auth: RegistryAuth | None) -> str:
    """The ``X-Registry-Auth`` header value: base64url JSON (``{}`` when anonymous)."""
    payload = json.dumps(auth.to_json() if auth else {}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(payload).decode("ascii")


def encode_x_registry_config(auths: Mapping[str, RegistryAuth]) -> str:
    """The ``X-Registry-Config`` header of a build: credentials per registry, base64url JSON."""
    payload = {host: auth.to_json() for host, auth in auths.items()}
    data = json.dumps(payload, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(data).decode("ascii")
