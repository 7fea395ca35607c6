"""Validation of instruction values: the converters and checks the model runs.

Two kinds of failure: a plain :class:`ValueError` for what this module cannot
write (or read), and :class:`_Refused` for a rule Docker itself enforces, which
the parser turns into :class:`_RefusedParse` so that a build can refuse before
sending anything.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from pydock._core.dockerfile._words import (
    ESCAPES,
    NEWLINES,
    go_json_array,
    go_strip,
    has_heredoc,
    has_space,
)
from pydock.errors import DockerfileParseError

_FLAG_RE = re.compile(r"--[A-Za-z0-9][A-Za-z0-9_-]*(=.*)?", re.DOTALL)
_EXPOSE_RE = re.compile(r"([0-9]+)(?:-([0-9]+))?(?:/(tcp|udp|sctp))?", re.IGNORECASE)
#: Go's RE2 ``\s`` set, used by the directive grammar.
RE2_SPACE = "\t\n\f\r "


class _Refused(ValueError):
    """A rule Docker itself enforces is broken (not a limit of this module's parser)."""


class _RefusedParse(DockerfileParseError):
    """A :class:`DockerfileParseError` for a rule Docker itself enforces.

    A build from a folder re-raises these before sending anything; other parse
    errors may be this module's limits (heredocs) and are left to the engine.
    """


# Both are private to the package and exported from it, where they are named.
_Refused.__module__ = _RefusedParse.__module__ = "pydock._core.dockerfile"


# --------------------------------------------------------------------------- converters


def to_strings(value: str | Iterable[str]) -> tuple[str, ...]:
    """One string or several, as a tuple.

    Raises:
        TypeError: An item is not a string.
    """
    items = (value,) if isinstance(value, str) else tuple(value)
    for item in items:
        if not isinstance(item, str):
            raise TypeError(f"expected a string, got {type(item).__name__}: {item!r}")
    return items


def to_command(value: str | Iterable[str]) -> str | tuple[str, ...]:
    """A shell-form command stripped, or an exec-form one as a tuple."""
    if isinstance(value, str):
        return go_strip(value)
    return to_strings(value)


def to_optional_command(value: str | Iterable[str] | None) -> str | tuple[str, ...] | None:
    """:func:`to_command`, or None."""
    return None if value is None else to_command(value)


def to_stripped(value: str) -> str:
    """A string without surrounding whitespace.

    Raises:
        TypeError: ``value`` is not a string.
    """
    if not isinstance(value, str):
        raise TypeError(f"expected a string, got {type(value).__name__}: {value!r}")
    return go_strip(value)


def to_paths(value: str | Iterable[str]) -> tuple[str, ...]:
    """One path or several, each stripped."""
    return tuple(go_strip(path) for path in to_strings(value))


def _port(value: str | int) -> str:
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise TypeError(f"a port must be an int or a string, not {value!r}")
    return str(value)


def to_ports(value: str | int | Iterable[str | int]) -> tuple[str, ...]:
    """One port or several, as strings."""
    items = (value,) if isinstance(value, (str, int)) else tuple(value)
    return tuple(_port(item) for item in items)


def to_signal(value: str | int) -> str:
    """A signal name or number, as a stripped string."""
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise TypeError(f"a signal must be a string or an int, not {value!r}")
    return go_strip(str(value))


def to_pairs(value: Mapping[str, str] | Iterable[tuple[str, str]]) -> tuple[tuple[str, str], ...]:
    """A mapping or ``(key, value)`` pairs, as a tuple of pairs.

    Raises:
        TypeError: A key or value is not a string.
    """
    items = tuple(value.items()) if isinstance(value, Mapping) else tuple(value)
    pairs: list[tuple[str, str]] = []
    for item in items:
        key, val = item
        if not isinstance(key, str) or not isinstance(val, str):
            raise TypeError(f"keys and values must be strings, got {item!r}")
        pairs.append((key, val))
    return tuple(pairs)


def to_directive(value: str | None) -> str | None:
    """A parser directive's value, stripped, or None."""
    if value is None:
        return None
    value = value.strip(RE2_SPACE)
    check_no_newline("a parser directive", value)
    if not value:
        raise ValueError("a parser directive cannot be empty")
    return value


# --------------------------------------------------------------------------- checks


def check_no_newline(what: str, value: str) -> None:
    """Refuse a line break in ``value``, which ``what`` names."""
    if any(ch in NEWLINES for ch in value):
        raise ValueError(f"{what} cannot contain a line break: {value!r}")


def check_optional(what: str, value: str | None) -> None:
    """:func:`check_no_newline` unless ``value`` is None."""
    if value is not None:
        check_no_newline(what, value)


def check_escape(escape: str) -> None:
    """Refuse an escape character other than ``\\`` and `````."""
    if escape not in ESCAPES:
        raise ValueError(f"the escape character must be '\\' or '`', not {escape!r}")


def check_command(keyword: str, command: str | tuple[str, ...], *, run: bool = False) -> None:
    """Refuse a shell-form command that cannot be written (or, for RUN, a heredoc)."""
    if not isinstance(command, str):
        return
    check_no_newline(f"a {keyword} command", command)
    if go_json_array(command) is not None:
        raise ValueError(
            f"the shell-form {keyword} command {command!r} would be read as a JSON array; "
            "give the command as a list of strings instead"
        )
    if run and has_heredoc(command):
        raise ValueError(f"heredocs are not supported: {command!r}")


def check_token(what: str, value: str) -> None:
    """Refuse an empty value, or one with whitespace."""
    if not value or has_space(value):
        raise ValueError(f"{what} must be a non-empty string without whitespace: {value!r}")


def check_flags(keyword: str, flags: tuple[str, ...], reserved: tuple[str, ...] = ()) -> None:
    """Refuse a raw flag that is malformed or that has its own argument (``reserved``)."""
    for flag in flags:
        if not isinstance(flag, str) or not _FLAG_RE.fullmatch(flag):
            raise ValueError(
                f"a {keyword} flag must look like '--name' or '--name=value': {flag!r}"
            )
        check_no_newline(f"a {keyword} flag", flag)
        name = flag[2:].partition("=")[0]
        if name in reserved:
            raise ValueError(f"set --{name} with its own argument, not in flags")


def check_key(what: str, key: str) -> None:
    """Refuse an empty key, or one with ``=`` or a line break."""
    check_no_newline(what, key)
    if not key or "=" in key:
        raise ValueError(f"{what} must be non-empty and contain no '=': {key!r}")


def check_pairs(keyword: str, pairs: tuple[tuple[str, str], ...]) -> None:
    """The checks of ``ENV`` and ``LABEL`` pairs."""
    if not pairs:
        raise ValueError(f"{keyword} needs at least one key=value pair")
    for key, value in pairs:
        check_key(f"an {keyword} key" if keyword == "ENV" else f"a {keyword} key", key)
        check_no_newline(f"a {keyword} value", value)


def check_transfer(keyword: str, sources: tuple[str, ...], dest: str) -> None:
    """The checks of ``COPY`` and ``ADD`` paths."""
    if not sources:
        raise ValueError(f"{keyword} needs at least one source")
    if not isinstance(dest, str):
        raise TypeError(f"a {keyword} destination must be a string, not {dest!r}")
    for path in (*sources, dest):
        if not path:
            raise ValueError(f"{keyword} paths cannot be empty")


def check_expose_port(port: str) -> None:
    """An EXPOSE word: ``80``, ``80/tcp``, ``8000-8010/udp``, or one with a ``$variable``."""
    if "$" in port:
        return  # Docker substitutes it first
    match = _EXPOSE_RE.fullmatch(port)
    low = int(match.group(1)) if match else 0
    high = int(match.group(2) or low) if match else 0
    if match is None or not 0 < low <= high < 65536:
        raise _Refused(
            f"EXPOSE: {port!r} is not a port (use 80, 80/tcp, 53/udp or a range 8000-8010,"
            " ports 1-65535)"
        )
