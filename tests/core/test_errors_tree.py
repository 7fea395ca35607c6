"""Every exception pydock raises lives in one tree, defined in ``pydock.errors``."""

from __future__ import annotations

import importlib
import pickle
import pkgutil
from types import ModuleType

import pytest

import pydock
import pydock.errors
import pydock.testing
from pydock import errors

#: Exceptions of private code, each caught inside pydock and mapped before it
#: reaches a caller: the HTTP/1.1 parser's (to ``ProtocolError``/``TransportError``),
#: ``.dockerignore`` pattern errors (to a ``ValueError`` naming the line), and
#: ``dockerfile._Refused`` (re-raised by the parser as a ``DockerfileParseError``;
#: an instruction's constructor documents it as the ``ValueError`` it is).
_INTERNAL = {
    "pydock._core.http11.ProtocolError",
    "pydock._core.http11.ConnectionClosed",
    "pydock._async._transport.MalformedResponse",
    "pydock._sync._transport.MalformedResponse",
    "pydock._core.dockerignore._RegexError",
    "pydock._core.dockerfile._Refused",
}


def _public_exceptions(module: ModuleType) -> dict[str, type[BaseException]]:
    """The exception classes a module exports by name (lazy names included)."""
    found: dict[str, type[BaseException]] = {}
    for name in module.__all__:
        value = getattr(module, name)
        if isinstance(value, type) and issubclass(value, BaseException):
            found[name] = value
    return found


def _all_modules() -> list[ModuleType]:
    """Every module of the ``pydock`` package, imported."""
    modules: list[ModuleType] = [pydock]
    for info in pkgutil.walk_packages(pydock.__path__, prefix="pydock."):
        modules.append(importlib.import_module(info.name))
    return modules


@pytest.mark.parametrize(
    "module", [pydock, pydock.errors, pydock.testing], ids=lambda m: m.__name__
)
def test_every_exported_exception_is_a_pydock_error_from_errors(module: ModuleType) -> None:
    exported = _public_exceptions(module)
    assert exported, f"{module.__name__} exports no exception"
    for name, cls in exported.items():
        assert issubclass(cls, errors.PydockError), f"{module.__name__}.{name}"
        assert name in errors.__all__, f"{module.__name__}.{name} is not in pydock.errors.__all__"
        assert getattr(errors, name) is cls, f"{module.__name__}.{name} is another class"
        assert cls.__module__ == "pydock.errors", f"{name} is defined in {cls.__module__}"


def test_no_exception_class_is_defined_outside_errors() -> None:
    strays: set[str] = set()
    for module in _all_modules():
        for name, value in vars(module).items():
            if not (isinstance(value, type) and issubclass(value, BaseException)):
                continue
            if value.__module__ != module.__name__ or module.__name__ == "pydock.errors":
                continue  # imported from elsewhere, or defined where it belongs
            qualified = f"{module.__name__}.{name}"
            if qualified in _INTERNAL:
                continue
            if name.startswith("_") and issubclass(value, errors.PydockError):
                continue  # a private refinement of a public class
            strays.add(qualified)
    assert not strays, f"exception classes outside pydock.errors: {sorted(strays)}"


def test_the_tree_in_the_docstring_names_every_exception() -> None:
    assert errors.__doc__ is not None
    for name, cls in _public_exceptions(errors).items():
        assert name in errors.__doc__, f"{name} is missing from the tree in pydock.errors"
        assert cls.__doc__, f"{name} has no docstring"


def test_all_is_sorted() -> None:
    assert list(errors.__all__) == sorted(errors.__all__)


@pytest.mark.parametrize(
    ("old_path", "name"),
    [
        ("pydock._core.archive", "ArchiveFormatError"),
        ("pydock._core.archive", "CopyError"),
        ("pydock._core.archive", "UnsafeArchiveError"),
        ("pydock._core.dockerfile", "DockerfileParseError"),
        ("pydock._core.builder", "UnsupportedInstruction"),
        ("pydock.testing._core", "WaitError"),
        ("pydock.testing._core", "ContainerExited"),
        ("pydock.testing._core", "ContainerUnhealthy"),
        ("pydock.testing._core", "WaitTimeout"),
        ("pydock.testing._core", "PortNotPublished"),
        ("pydock.testing", "WaitError"),
        ("pydock", "DockerfileParseError"),
        ("pydock", "UnsupportedInstruction"),
    ],
)
def test_old_import_paths_still_work(old_path: str, name: str) -> None:
    assert getattr(importlib.import_module(old_path), name) is getattr(errors, name)


@pytest.mark.parametrize(
    ("cls", "second"),
    [
        (errors.DockerfileParseError, ValueError),
        (errors.UnsupportedInstruction, ValueError),
        (errors.InvalidConfiguration, ValueError),
        (errors.InvalidReference, ValueError),
        (errors.WaitTimeout, TimeoutError),
        (errors.PortNotPublished, LookupError),
    ],
)
def test_second_bases_are_kept(cls: type[errors.PydockError], second: type[Exception]) -> None:
    assert issubclass(cls, second)


def test_dockerfile_parse_error_reads_and_pickles_as_before() -> None:
    exc = errors.DockerfileParseError(3, "FROM needs an image")
    assert str(exc) == "line 3: FROM needs an image"
    assert (exc.line, exc.reason) == (3, "FROM needs an image")
    again = pickle.loads(pickle.dumps(exc))
    assert type(again) is errors.DockerfileParseError
    assert (again.line, again.reason, str(again)) == (3, "FROM needs an image", str(exc))


def test_a_parse_error_from_the_parser_is_a_pydock_error() -> None:
    from pydock._core.dockerfile import Dockerfile

    with pytest.raises(errors.PydockError) as caught:
        Dockerfile.parse("FROM\n")
    assert isinstance(caught.value, errors.DockerfileParseError)
    assert isinstance(caught.value, ValueError)
    assert caught.value.line == 1
