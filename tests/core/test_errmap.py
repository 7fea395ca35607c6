"""One place maps error answers to exceptions; credentials never reach a message."""

from __future__ import annotations

import json

import pytest

from pydock import errors
from pydock._core.errmap import error_for_status, is_auth_failure, redirect_error, scrub


def _body(message: str) -> bytes:
    return json.dumps({"message": message}).encode()


@pytest.mark.parametrize(
    ("status", "resource", "cls"),
    [
        (400, None, errors.BadRequest),
        (401, None, errors.Unauthorized),
        (403, None, errors.Unauthorized),
        (404, None, errors.NotFound),
        (404, "image", errors.ImageNotFound),
        (404, "container", errors.ContainerNotFound),
        (409, "container", errors.Conflict),
        (500, None, errors.ServerError),
        (503, None, errors.ServerError),
        (418, None, errors.APIError),
    ],
)
def test_status_to_class(status: int, resource: str | None, cls: type[errors.APIError]) -> None:
    exc = error_for_status(
        status,
        _body("boom"),
        method="GET",
        path="/x",
        resource=resource,  # type: ignore[arg-type]
    )
    assert type(exc) is cls
    assert exc.status_code == status
    assert (exc.method, exc.path) == ("GET", "/x")
    assert str(exc) == f"{status}: boom (GET /x)"


def test_podman_body_shape() -> None:
    body = json.dumps(
        {"cause": "no such container", "message": "no container with name x", "response": 404}
    )
    exc = error_for_status(404, body.encode(), method="GET", path="/p", resource="container")
    assert isinstance(exc, errors.ContainerNotFound)
    assert exc.message == "no container with name x"


def test_podman_500_for_missing_image_is_image_not_found() -> None:
    exc = error_for_status(500, _body("no such image: x"), method="GET", path="/p")
    assert isinstance(exc, errors.ImageNotFound)


def test_non_json_body() -> None:
    exc = error_for_status(502, b"<html>bad gateway</html>", method="POST", path="/p")
    assert isinstance(exc, errors.ServerError)
    assert "bad gateway" in exc.message
    empty = error_for_status(503, b"", method="POST", path="/p")
    assert empty.message == "service unavailable"


def test_registry_error_codes() -> None:
    body = json.dumps(
        {
            "errors": [
                {"code": "MANIFEST_UNKNOWN", "message": "manifest unknown", "detail": {"Tag": "x"}}
            ]
        }
    ).encode()
    exc = error_for_status(404, body, method="GET", path="/v2/a/manifests/x", resource="registry")
    assert isinstance(exc, errors.ManifestUnknown)
    assert isinstance(exc, errors.RegistryError)
    assert exc.code == "MANIFEST_UNKNOWN"
    assert exc.detail == {"Tag": "x"}
    denied = error_for_status(401, b"", method="GET", path="/v2/", resource="registry")
    assert isinstance(denied, errors.RegistryUnauthorized)
    assert isinstance(denied, errors.Unauthorized)
    unknown = error_for_status(
        400,
        b'{"errors":[{"code":"WHATEVER","message":"m"}]}',
        method="GET",
        path="/",
        resource="registry",
    )
    assert type(unknown) is errors.RegistryError
    assert unknown.code == "WHATEVER"


def test_credentials_are_scrubbed() -> None:
    exc = error_for_status(
        500,
        _body('login to https://bob:hunter2@reg.example failed, password=hunter2 "token": "abc"'),
        method="POST",
        path="/auth",
    )
    assert "hunter2" not in str(exc)
    assert "abc" not in str(exc)
    assert "[redacted]" in str(exc)
    assert scrub("plain message") == "plain message"


# Podman 4.3's answers for faults Docker answers 400/409 for (issue 13, defect 12).
@pytest.mark.parametrize(
    ("cause", "message", "cls"),
    [
        (
            "that name is already in use",
            'the container name "x" is already in use',
            errors.Conflict,
        ),
        ("container already exists", "renaming container: name x already in use", errors.Conflict),
        ("container state improper", '"created" is not running, can\'t pause', errors.Conflict),
        (
            "normalizing name for compat API: invalid reference format",
            "normalizing image: invalid reference format",
            errors.BadRequest,
        ),
        (
            "OCI runtime attempted to invoke a command that was not found",
            'exec: "/nope": stat /nope: no such file or directory',
            errors.BadRequest,
        ),
        ("OCI permission denied", "exec: permission denied", errors.BadRequest),
        ("something else", "something else broke", errors.ServerError),
    ],
)
def test_podman_500_is_mapped_by_its_cause(
    cause: str, message: str, cls: type[errors.APIError]
) -> None:
    body = json.dumps({"cause": cause, "message": message, "response": 500}).encode()
    exc = error_for_status(500, body, method="POST", path="/p", resource="container")
    assert type(exc) is cls
    assert exc.status_code == 500  # what the engine said, kept
    assert exc.message == message


def test_docker_500_for_unpausing_a_running_container_is_conflict() -> None:
    exc = error_for_status(500, _body("Container abc is not paused"), method="POST", path="/p")
    assert type(exc) is errors.Conflict


def test_a_cause_text_inside_a_docker_message_is_not_a_cause() -> None:
    exc = error_for_status(500, _body("invalid reference format"), method="POST", path="/p")
    assert type(exc) is errors.ServerError


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ("unauthorized: authentication required", True),
        ("reading manifest 1 in h/x: unauthorized: authentication required", True),
        ("no basic auth credentials", True),
        ("denied: requested access to the resource is denied", True),
        ("manifest unknown", False),
        ("connection refused", False),
    ],
)
def test_is_auth_failure(message: str, expected: bool) -> None:
    assert is_auth_failure(message) is expected


def test_redirect_is_a_protocol_error_naming_the_target() -> None:
    exc = redirect_error(301, "/v1.41/containers/x/json", method="GET", path="/v1.41/c")
    assert isinstance(exc, errors.ProtocolError)
    assert exc.field == "status"
    assert "/v1.41/containers/x/json" in exc.message
    assert (exc.method, exc.path) == ("GET", "/v1.41/c")
    assert "redirect" in str(redirect_error(302, None, method="GET", path="/p"))
