"""The parser: Dockerfile text to instructions, following BuildKit's parser.

Parser directives, comments, line continuations (comment and blank lines inside
a continuation are skipped), case-insensitive keywords, exec (JSON array)
versus shell form, ``--flag=value`` flags and the legacy ``ENV key value``
form. One table, :data:`_HANDLERS`, maps each keyword to its instruction class
and the function that reads its arguments; the flags with their own attribute
come from the class's ``_options`` table.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, TypeVar

import attrs

from pydock._core.dockerfile import _instructions as ins
from pydock._core.dockerfile._checks import _Refused, _RefusedParse
from pydock._core.dockerfile._instructions import (
    Instruction,
    _Command,
    _Pairs,
    _Single,
    _Transfer,
    render_cached,
)
from pydock._core.dockerfile._words import (
    ARG_SPLIT_RE,
    DEFAULT_ESCAPE,
    ESCAPES,
    GO_SPACE_SET,
    extract_flags,
    go_json_array,
    go_lstrip,
    go_strip,
    has_heredoc,
    parse_words,
    trim_continuation,
    unquote,
)
from pydock.errors import DockerfileParseError

_DIRECTIVE_RE = re.compile(r"([a-zA-Z][a-zA-Z0-9]*)[\t\n\f\r ]*=[\t\n\f\r ]*(.+?)[\t\n\f\r ]*")
_DIRECTIVES = ("syntax", "escape", "check")
_INT_RE = re.compile(r"[+-]?[0-9]+")


@attrs.frozen
class Parsed:
    """What a Dockerfile's text holds."""

    instructions: list[Instruction]
    escape: str
    directives: dict[str, str]


def directive(line: str) -> tuple[str, str] | None:
    """The known parser directive on ``line`` (left-stripped), if any."""
    if not line.startswith("#"):
        return None
    match = _DIRECTIVE_RE.fullmatch(go_lstrip(line[1:]))
    if match is None or match.group(1).lower() not in _DIRECTIVES:
        return None
    return match.group(1).lower(), match.group(2)


def parse(text: str, *, build: bool = False) -> Parsed:
    """Parse ``text``; with ``build``, also refuse an instruction other than ARG before FROM.

    Raises:
        DockerfileParseError: The text is not a Dockerfile this module reads
            (:class:`_RefusedParse` for a rule Docker enforces).
    """
    text = text.removeprefix("\ufeff")
    lines = [line.rstrip("\r") for line in text.split("\n")]
    escape = DEFAULT_ESCAPE
    directives: dict[str, str] = {}
    looking_for_directives = True
    instructions: list[Instruction] = []
    first_stage_line = 0  # where the first instruction other than ARG (or a comment) is
    i, n = 0, len(lines)
    while i < n:
        lineno = i + 1
        line = go_lstrip(lines[i])
        i += 1
        if looking_for_directives:
            found = directive(line)
            if found is not None:
                name, value = found
                if name in directives:
                    raise DockerfileParseError(
                        lineno, f"only one {name} parser directive can be used"
                    )
                if name == "escape" and value not in ESCAPES:
                    raise DockerfileParseError(
                        lineno, f"invalid escape token {value!r} does not match ` or \\"
                    )
                directives[name] = value
                if name == "escape":
                    escape = value
                continue
            looking_for_directives = False
        if line.startswith("#"):
            body = line[1:]
            instructions.append(ins.Comment(body[1:] if body.startswith(" ") else body))
            continue
        logical, continues = trim_continuation(line, escape)
        if not continues and not logical:
            continue
        while continues and i < n:
            raw = lines[i]
            i += 1
            stripped = go_lstrip(raw)
            if not stripped or stripped.startswith("#"):
                continue
            part, continues = trim_continuation(raw, escape)
            logical += part
        try:
            parsed = parse_instruction(logical, escape)
            for instruction in parsed:
                render_cached(instruction, escape)
        except _Refused as exc:
            raise _RefusedParse(lineno, str(exc)) from exc
        except ValueError as exc:
            raise DockerfileParseError(lineno, str(exc)) from exc
        if build and not first_stage_line and any(not isinstance(x, ins.Arg) for x in parsed):
            first_stage_line = lineno
            if not isinstance(parsed[0], ins.From):
                raise _RefusedParse(
                    lineno,
                    f"{parsed[0].keyword} comes before FROM: a Dockerfile starts with FROM"
                    " (only ARG and comments may come before it)",
                )
        instructions.extend(parsed)
    return Parsed(instructions, escape, directives)


def parse_instruction(line: str, escape: str) -> list[Instruction]:
    """Parse one logical line (continuations joined) into instructions.

    Raises:
        ValueError: The line is not a valid instruction.
    """
    parts = ARG_SPLIT_RE.split(go_strip(line), maxsplit=1)
    keyword = parts[0]
    flags: list[str] = []
    rest = ""
    if len(parts) == 2:
        rest, flags = extract_flags(parts[1], escape)
        rest = go_strip(rest)
    handler = _HANDLERS.get(keyword.lower())
    if handler is None:
        raise ValueError(f"unknown instruction: {keyword}")
    return handler(flags, rest, escape)


# --------------------------------------------------------------------------- arguments


def _options(cls: type[Instruction], words: list[str]) -> dict[str, Any]:
    """Read flag words into keyword arguments of ``cls``, as its ``_options`` table says.

    Values are strings (bools for bool options); raw flags go to ``flags``
    where ``cls`` keeps them.

    Raises:
        ValueError: An unknown, duplicate or malformed flag.
    """
    by_flag = {option.flag: option for option in cls._options}
    out: dict[str, Any] = {}
    extras: list[str] = []
    for word in words:
        name, eq, value = word[2:].partition("=")
        option = by_flag.get(name)
        if option is None:
            if not cls._extra_flags:
                raise ValueError(f"unknown flag for {cls.keyword}: --{name}")
            extras.append(word)
            continue
        if option.kind == "bool":
            if eq and not value:
                raise ValueError(f"missing a value on flag: --{name}")
            if value.lower() not in ("", "true", "false"):
                raise ValueError(f"expecting boolean value for flag --{name}, not: {value}")
        elif not eq:
            raise ValueError(f"missing a value on flag: --{name}")
        if option.attr in out:
            raise ValueError(f"duplicate flag specified: --{name}")
        out[option.attr] = value.lower() != "false" if option.kind == "bool" else value
    if cls._extra_flags:
        out["flags"] = extras
    return out


def _maybe_json(rest: str) -> str | tuple[str, ...]:
    array = go_json_array(rest)
    if array is None:
        return rest
    strings = tuple(item for item in array if isinstance(item, str))
    if len(strings) != len(array):
        raise ValueError("when using JSON array syntax, arrays must be comprised of strings only")
    return strings


def _maybe_json_list(keyword: str, rest: str) -> tuple[str, ...]:
    parsed = _maybe_json(rest)
    if not isinstance(parsed, str):
        return parsed
    if keyword in ("COPY", "ADD") and has_heredoc(parsed):
        raise ValueError("heredocs are not supported")
    return tuple(ARG_SPLIT_RE.split(parsed)) if parsed else ()


def _parse_from(cls: type[ins.From], flags: list[str], rest: str, escape: str) -> list[Instruction]:
    options = _options(cls, flags)
    args = ARG_SPLIT_RE.split(rest) if rest else []
    if len(args) == 3 and args[1].lower() == "as":
        return [cls(args[0], args[2], **options)]
    if len(args) != 1:
        raise ValueError("FROM requires either one or three arguments")
    return [cls(args[0], **options)]


def _parse_single(
    cls: type[_Single], flags: list[str], rest: str, escape: str
) -> list[Instruction]:
    _options(cls, flags)
    if not rest:
        raise ValueError(f"{cls.keyword} requires exactly one argument")
    return [cls(rest)]  # type: ignore[call-arg]  # every _Single takes one string


def _parse_command(
    cls: type[_Command], flags: list[str], rest: str, escape: str
) -> list[Instruction]:
    options = _options(cls, flags)
    command = _maybe_json(rest)
    if cls is ins.Run and isinstance(command, str) and has_heredoc(command):
        raise ValueError("heredocs are not supported")
    return [cls(command, **options)]


def _parse_shell(
    cls: type[ins.Shell], flags: list[str], rest: str, escape: str
) -> list[Instruction]:
    _options(cls, flags)
    command = _maybe_json(rest)
    if isinstance(command, str):
        raise ValueError("SHELL requires the arguments to be in JSON form")
    return [cls(command)]


def _parse_pairs(cls: type[_Pairs], flags: list[str], rest: str, escape: str) -> list[Instruction]:
    _options(cls, flags)
    words = parse_words(rest, escape)
    if not words:
        raise ValueError(f"{cls.keyword} requires at least one argument")
    if "=" not in words[0]:
        # The legacy form: KEY the rest of the line
        legacy = ARG_SPLIT_RE.split(rest, maxsplit=1)
        if len(legacy) < 2:
            raise ValueError(f"{cls.keyword} must have two arguments")
        return [cls([(unquote(legacy[0], escape), unquote(legacy[1], escape))])]
    pairs: list[tuple[str, str]] = []
    for word in words:
        key, eq, value = word.partition("=")
        if not eq:
            raise ValueError(
                f"Syntax error - can't find = in {word!r}. Must be of the form: name=value"
            )
        if not key:
            raise ValueError(f"{cls.keyword} names can not be blank")
        pairs.append((unquote(key, escape), unquote(value, escape)))
    return [cls(pairs)]


def _parse_expose(
    cls: type[ins.Expose], flags: list[str], rest: str, escape: str
) -> list[Instruction]:
    _options(cls, flags)
    if not rest:
        raise ValueError("EXPOSE requires at least one argument")
    return [cls(ARG_SPLIT_RE.split(rest))]


def _parse_transfer(
    cls: type[_Transfer], flags: list[str], rest: str, escape: str
) -> list[Instruction]:
    options = _options(cls, flags)
    args = _maybe_json_list(cls.keyword, rest)
    if len(args) < 2:
        raise ValueError(f"{cls.keyword} requires at least two arguments")
    return [cls(args[:-1], args[-1], **options)]


def _parse_volume(
    cls: type[ins.Volume], flags: list[str], rest: str, escape: str
) -> list[Instruction]:
    _options(cls, flags)
    paths = _maybe_json_list(cls.keyword, rest)
    if not paths:
        raise ValueError("VOLUME requires at least one argument")
    return [cls(paths)]


def _parse_arg(cls: type[ins.Arg], flags: list[str], rest: str, escape: str) -> list[Instruction]:
    _options(cls, flags)
    words = parse_words(rest, escape)
    if not words:
        raise ValueError("ARG requires at least one argument")
    out: list[Instruction] = []
    for word in words:
        name, eq, default = word.partition("=")
        if eq and not name:
            raise ValueError("ARG names can not be blank")
        out.append(cls(name, unquote(default, escape) if eq else None))
    return out


def _parse_healthcheck(
    cls: type[ins.Healthcheck], flags: list[str], rest: str, escape: str
) -> list[Instruction]:
    if not rest:
        raise ValueError("HEALTHCHECK requires at least one argument")
    sep = next((i for i, ch in enumerate(rest) if ch in GO_SPACE_SET), len(rest))
    kind, remainder = rest[:sep].upper(), go_lstrip(rest[sep:])
    if kind == "NONE":
        if remainder:
            raise ValueError("HEALTHCHECK NONE takes no arguments")
        if flags:
            raise ValueError("HEALTHCHECK NONE takes no options")
        return [cls(None)]
    if kind != "CMD":
        raise ValueError(f"Unknown type {rest[:sep]!r} in HEALTHCHECK (try CMD)")
    options = _options(cls, flags)
    command = _maybe_json(remainder)
    if not command:
        raise ValueError("Missing command after HEALTHCHECK CMD")
    retries = options.pop("retries", None)
    if retries is not None and not _INT_RE.fullmatch(retries):
        raise ValueError(f"--retries must be an integer, not {retries!r}")
    return [cls(command, retries=None if retries is None else int(retries), **options)]


def _parse_onbuild(
    cls: type[ins.Onbuild], flags: list[str], rest: str, escape: str
) -> list[Instruction]:
    _options(cls, flags)
    if not rest:
        raise ValueError("ONBUILD requires at least one argument")
    triggers = parse_instruction(rest, escape)
    if len(triggers) != 1:
        raise ValueError("ONBUILD ARG with more than one name is not supported")
    return [cls(triggers[0])]


# --------------------------------------------------------------------------- the table

_I = TypeVar("_I", bound=Instruction)
_Handler = Callable[[list[str], str, str], list[Instruction]]


def _entry(
    cls: type[_I], read: Callable[[type[_I], list[str], str, str], list[Instruction]]
) -> tuple[str, _Handler]:
    def handler(flags: list[str], rest: str, escape: str) -> list[Instruction]:
        return read(cls, flags, rest, escape)

    return cls.keyword.lower(), handler


#: Every keyword the parser reads: its instruction class and how its arguments read.
_HANDLERS: dict[str, _Handler] = dict(
    [
        _entry(ins.Add, _parse_transfer),
        _entry(ins.Arg, _parse_arg),
        _entry(ins.Cmd, _parse_command),
        _entry(ins.Copy, _parse_transfer),
        _entry(ins.Entrypoint, _parse_command),
        _entry(ins.Env, _parse_pairs),
        _entry(ins.Expose, _parse_expose),
        _entry(ins.From, _parse_from),
        _entry(ins.Healthcheck, _parse_healthcheck),
        _entry(ins.Label, _parse_pairs),
        _entry(ins.Maintainer, _parse_single),
        _entry(ins.Onbuild, _parse_onbuild),
        _entry(ins.Run, _parse_command),
        _entry(ins.Shell, _parse_shell),
        _entry(ins.Stopsignal, _parse_single),
        _entry(ins.User, _parse_single),
        _entry(ins.Volume, _parse_volume),
        _entry(ins.Workdir, _parse_single),
    ]
)
