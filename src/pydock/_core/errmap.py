"""Map an error answer (status + body) to the exception pydock raises: one place.

Engines answer ``{"message": "..."}`` (Docker) or ``{"cause", "message",
"response"}`` (Podman); registries answer ``{"errors": [{"code", "message",
"detail"}]}``. Messages are cleaned of anything that looks like a credential.
"""

from __future__ import annotations

import json
import re
from typing import Any, Literal

from pydock import errors

Resource = Literal["image", "container", "registry"] | None

_CREDENTIAL_RE = re.compile(
    r"(?i)(authorization|password|passwd|secret|token|x-registry-auth)([\"']?\s*[:=]\s*[\"']?)"
    r"[^\s\"',}]+"
)
_URL_USERINFO_RE = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/@\s:]+:[^/@\s]+@")


def scrub(text: str) -> str:
    """Remove credentials from a message: ``user:pass@`` in URLs and ``password=...`` pairs."""
    text = _URL_USERINFO_RE.sub(r"\1[redacted]@", text)
    return _CREDENTIAL_RE.sub(r"\1\2[redacted]", text)


def _decode(body: bytes) -> Any:
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None


def engine_message(body: bytes) -> str:
    """The human message in an engine's error body (Docker or Podman shape)."""
    payload = _decode(body)
    if isinstance(payload, dict):
        for key in ("message", "cause", "error"):
            value = payload.get(key)
            if isinstance(value, str) and value:
                return scrub(value.strip())
    text = body.decode("utf-8", "replace").strip()
    return scrub(text[:500]) if text else ""


def engine_cause(body: bytes) -> str:
    """Podman's ``cause`` member (its error's root, fixed text), or ``""``."""
    payload = _decode(body)
    if isinstance(payload, dict):
        cause = payload.get("cause")
        if isinstance(cause, str):
            return cause.strip()
    return ""


#: Podman answers 500 for faults Docker answers 400 or 409 for; its ``cause``
#: (or, for Docker's own odd 500s, the message) says which. Texts from Podman
#: 4.3 and Docker 20.10, provoked by tests/_async/test_engine_errors.py.
_CAUSE_CLASSES: tuple[tuple[str, type[errors.APIError]], ...] = (
    ("that name is already in use", errors.Conflict),
    ("container already exists", errors.Conflict),
    ("container state improper", errors.Conflict),
    ("image is in use by a container", errors.Conflict),
    ("invalid reference format", errors.BadRequest),
    ("oci runtime attempted to invoke a command that was not found", errors.BadRequest),
    ("oci permission denied", errors.BadRequest),
)
_DOCKER_500_CLASSES: tuple[tuple[str, type[errors.APIError]], ...] = (
    # Docker: unpausing a container that is not paused (Podman: container state improper).
    (" is not paused", errors.Conflict),
)

#: Texts by which an engine relays a registry's refusal of credentials.
_AUTH_FAILURE_MARKERS = (
    "unauthorized",
    "authentication required",
    "no basic auth credentials",
    "incorrect username or password",
    "denied: requested access to the resource is denied",
)


def is_auth_failure(message: str) -> bool:
    """Whether an engine's pull/push error says the registry refused the credentials."""
    lowered = message.lower()
    return any(marker in lowered for marker in _AUTH_FAILURE_MARKERS)


def redirect_error(
    status: int, location: str | None, *, method: str, path: str
) -> errors.ProtocolError:
    """The error for a 3xx from an engine: engines never redirect a valid request.

    Docker answers 301 with an empty body for a path it cleans (``//``, ``/./``,
    ``../``, a trailing ``/``); following it could reach another object, and
    taking it as success read nothing.
    """
    target = f" to {scrub(location)[:200]!r}" if location else ""
    return errors.ProtocolError(
        f"the engine redirected ({status}){target}; pydock does not follow an engine's"
        " redirects (a name or id that is not one?)",
        field="status",
        method=method,
        path=path,
    )


_STATUS_CLASSES: dict[int, type[errors.APIError]] = {
    400: errors.BadRequest,
    401: errors.Unauthorized,
    403: errors.Unauthorized,
    404: errors.NotFound,
    409: errors.Conflict,
}


def error_for_status(
    status: int,
    body: bytes,
    *,
    method: str,
    path: str,
    resource: Resource = None,
) -> errors.APIError:
    """Build the exception for an error answer.

    Args:
        status: The HTTP status (>= 400).
        body: The answer's body.
        method: The request's method.
        path: The request's path (no query).
        resource: What the request was about, to pick ``ImageNotFound`` or
            ``ContainerNotFound`` for a 404, or ``"registry"`` for OCI error bodies.
    """
    if resource == "registry":
        return registry_error(status, body, method=method, path=path)
    message = engine_message(body) or _default_reason(status)
    cls: type[errors.APIError]
    if status == 404 and resource == "image":
        cls = errors.ImageNotFound
    elif status == 404 and resource == "container":
        cls = errors.ContainerNotFound
    elif status >= 500:
        cls = _server_error_class(message, engine_cause(body))
    else:
        cls = _STATUS_CLASSES.get(status, errors.APIError)
    return cls(message, status_code=status, method=method, path=path)


def _server_error_class(message: str, cause: str) -> type[errors.APIError]:
    """The class for an engine's 5xx: Podman's 500s by cause, like Docker's 4xx."""
    lowered = message.lower()
    # Podman answers some "no such object" cases with 500 through its compat layer.
    if "no such image" in lowered or "image not known" in lowered:
        return errors.ImageNotFound
    if "no such container" in lowered:
        return errors.ContainerNotFound
    lowered_cause = cause.lower()
    for text, cls in _CAUSE_CLASSES:
        if text in lowered_cause:
            return cls
    if not cause:
        for text, cls in _DOCKER_500_CLASSES:
            if text in lowered:
                return cls
    return errors.ServerError


def registry_error(status: int, body: bytes, *, method: str, path: str) -> errors.RegistryError:
    """Build a typed :class:`~pydock.errors.RegistryError` from an OCI error body."""
    payload = _decode(body)
    code = None
    message = ""
    detail: object = None
    if isinstance(payload, dict):
        items = payload.get("errors")
        if isinstance(items, list) and items and isinstance(items[0], dict):
            first = items[0]
            code = str(first.get("code") or "") or None
            message = scrub(str(first.get("message") or ""))
            detail = first.get("detail")
    if code is None:
        code = {401: "UNAUTHORIZED", 403: "DENIED", 429: "TOOMANYREQUESTS"}.get(status)
    cls = errors.REGISTRY_ERRORS.get(code or "", errors.RegistryError)
    if not message:
        message = engine_message(body) or _default_reason(status)
    return cls(message, status_code=status, code=code, detail=detail, method=method, path=path)


def _default_reason(status: int) -> str:
    reasons = {
        400: "bad request",
        401: "unauthorized",
        403: "forbidden",
        404: "not found",
        409: "conflict",
        429: "too many requests",
        500: "internal server error",
        502: "bad gateway",
        503: "service unavailable",
        504: "gateway timeout",
    }
    return reasons.get(status, f"HTTP {status}")
