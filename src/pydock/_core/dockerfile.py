"""A typed Dockerfile model: instructions, a fluent builder, a renderer and a parser.

Every instruction is a small frozen attrs class; :class:`Dockerfile` holds a tuple
of them plus the parser directives (``syntax``, ``escape``, ``check``). Builder
methods return new :class:`Dockerfile` objects, ``str(df)`` renders the text and
:meth:`Dockerfile.parse` reads text back, following BuildKit's parser: parser
directives, comments, line continuations (comment and blank lines inside a
continuation are skipped), case-insensitive keywords, exec (JSON array) versus
shell form, ``--flag=value`` flags, the legacy ``ENV key value`` form and so on.

For every Dockerfile this module can build, ``Dockerfile.parse(str(df)) == df``.

What the strings in the model mean:

* Shell-form commands (``RUN``, ``CMD``, ``ENTRYPOINT``, ``HEALTHCHECK CMD``) and the
  single-string instructions (``WORKDIR``, ``USER``, ``MAINTAINER``, ``STOPSIGNAL``)
  hold the text exactly as Docker will see it, with surrounding whitespace
  stripped as Docker does. Exec-form commands are tuples of strings.
* ``COPY``/``ADD``/``VOLUME`` paths, ``FROM`` images and ``EXPOSE`` ports are the
  words as written; Docker substitutes ``$variables`` in them later.
* ``ENV``/``LABEL`` keys and values and ``ARG`` defaults hold the value with
  Docker's quoting removed but ``$variable`` references left in place for
  Docker to expand. A literal dollar sign is written as the escape character
  followed by ``$`` (``\\$`` by default), just as in a Dockerfile; any other
  escape character is a literal one. The renderer quotes values when needed.

Heredocs (``RUN <<EOF``) are not supported: the parser rejects them and the
builder refuses commands that BuildKit would read as one.
"""

from __future__ import annotations

import datetime
import functools
import json
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import ClassVar, NoReturn, overload

import attrs

from pydock.errors import DockerfileParseError

__all__ = [
    "Add",
    "Arg",
    "Cmd",
    "Comment",
    "Copy",
    "Dockerfile",
    "DockerfileParseError",
    "Entrypoint",
    "Env",
    "Expose",
    "From",
    "Healthcheck",
    "Instruction",
    "Label",
    "Maintainer",
    "Onbuild",
    "Run",
    "Shell",
    "Stopsignal",
    "User",
    "Volume",
    "Workdir",
    "parse_for_build",
]

#: The default escape character, and the only two Docker accepts.
_DEFAULT_ESCAPE = "\\"
_ESCAPES = ("\\", "`")

#: What Go's ``unicode.IsSpace`` calls whitespace (Docker trims and splits on it).
_GO_SPACE = (
    "\t\n\v\f\r \u0085\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006"
    "\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)
_GO_SPACE_SET = frozenset(_GO_SPACE)
#: The separators of whitespace-delimited arguments (``FROM``, ``EXPOSE``, ``COPY``...).
_ARG_SPLIT_RE = re.compile(r"[\t\v\f\r ]+")
#: Go's RE2 ``\s`` set, used by the directive grammar.
_RE2_SPACE = "\t\n\f\r "
_DIRECTIVE_RE = re.compile(r"([a-zA-Z][a-zA-Z0-9]*)[\t\n\f\r ]*=[\t\n\f\r ]*(.+?)[\t\n\f\r ]*")
_DIRECTIVES = ("syntax", "escape", "check")
#: A shell word BuildKit reads as the start of a heredoc.
_HEREDOC_RE = re.compile(r"[0-9]*<<-?[^<]+")
_FLAG_RE = re.compile(r"--[A-Za-z0-9][A-Za-z0-9_-]*(=.*)?", re.DOTALL)
_DURATION_RE = re.compile(
    r"0|(?:(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:ns|us|\u00b5s|\u03bcs|ms|s|m|h))+"
)
_INT_RE = re.compile(r"[+-]?[0-9]+")
_NEWLINES = "\n\r"


class _Refused(ValueError):
    """A rule Docker itself enforces is broken (not a limit of this module's parser)."""


class _RefusedParse(DockerfileParseError):
    """A :class:`DockerfileParseError` for a rule Docker itself enforces.

    A build from a folder re-raises these before sending anything; other parse
    errors may be this module's limits (heredocs) and are left to the engine.
    """


_EXPOSE_RE = re.compile(r"([0-9]+)(?:-([0-9]+))?(?:/(tcp|udp|sctp))?", re.IGNORECASE)


def _check_expose_port(port: str) -> None:
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


# --------------------------------------------------------------------------- helpers


def _go_strip(text: str) -> str:
    return text.strip(_GO_SPACE)


def _go_lstrip(text: str) -> str:
    return text.lstrip(_GO_SPACE)


def _has_space(text: str) -> bool:
    return any(ch in _GO_SPACE_SET for ch in text)


def _check_no_newline(what: str, value: str) -> None:
    if any(ch in _NEWLINES for ch in value):
        raise ValueError(f"{what} cannot contain a line break: {value!r}")


def _check_escape(escape: str) -> None:
    if escape not in _ESCAPES:
        raise ValueError(f"the escape character must be '\\' or '`', not {escape!r}")


def _reject_constant(name: str) -> NoReturn:
    # Go's JSON decoder knows no NaN or Infinity.
    raise ValueError(name)


def _go_json_array(text: str) -> list[object] | None:
    """The array Docker would decode from ``text``, or None if it would not."""
    stripped = _go_lstrip(text)
    if not stripped.startswith("["):
        return None
    try:
        value: object = json.loads(stripped, parse_constant=_reject_constant)
    except (ValueError, RecursionError):
        return None
    return value if isinstance(value, list) else None


def _json_array(items: Iterable[str]) -> str:
    return json.dumps(list(items), ensure_ascii=False)


def _trim_continuation(line: str, escape: str) -> tuple[str, bool]:
    """Strip a trailing line-continuation escape, as BuildKit does.

    Returns:
        The line without the escape (and the blanks after it), and whether the
        line continues on the next one.
    """
    trimmed = line.rstrip(" \t")
    if trimmed.endswith(escape) and (len(trimmed) == 1 or trimmed[-2] != escape):
        return trimmed[:-1], True
    return line, False


def _parse_words(rest: str, escape: str) -> list[str]:
    """Split ``rest`` into whitespace-separated words, keeping quotes and escapes."""
    words: list[str] = []
    word: list[str] = []
    blank_ok = False
    in_word = in_quote = False
    quote = ""
    i, n = 0, len(rest)
    while True:
        at_end = i >= n
        ch = "" if at_end else rest[i]
        if not in_word and not in_quote:
            if at_end:
                break
            if ch in _GO_SPACE_SET:
                i += 1
                continue
            in_word = True
        if at_end:
            if blank_ok or word:
                words.append("".join(word))
            break
        if in_word:
            if ch in _GO_SPACE_SET:
                in_word = False
                if blank_ok or word:
                    words.append("".join(word))
                word, blank_ok = [], False
                i += 1
                continue
            if ch in "'\"":
                quote, blank_ok, in_word, in_quote = ch, True, False, True
            if ch == escape:
                if i + 1 == n:
                    i += 1
                    continue
                word.append(ch)
                i += 1
                ch = rest[i]
            word.append(ch)
            i += 1
            continue
        if ch == quote:
            in_word, in_quote = True, False
        if ch == escape and quote != "'":
            if i + 1 == n:
                in_word, in_quote = True, False
                i += 1
                continue
            word.append(ch)
            i += 1
            ch = rest[i]
        word.append(ch)
        i += 1
    return words


def _unquote(raw: str, escape: str) -> str:
    """Remove Docker's quoting from one word, keeping ``$`` references (see module doc).

    Raises:
        ValueError: A quote is not closed.
    """
    out: list[str] = []
    literal_dollar = escape + "$"
    i, n = 0, len(raw)
    while i < n:
        ch = raw[i]
        if ch == "'":
            end = raw.find("'", i + 1)
            if end < 0:
                raise ValueError(f"unterminated single quote in {raw!r}")
            out.extend(literal_dollar if c == "$" else c for c in raw[i + 1 : end])
            i = end + 1
        elif ch == '"':
            i += 1
            while True:
                if i >= n:
                    raise ValueError(f"unterminated double quote in {raw!r}")
                c = raw[i]
                if c == '"':
                    i += 1
                    break
                if c == escape and i + 1 < n:
                    nxt = raw[i + 1]
                    if nxt in ('"', escape):
                        out.append(nxt)
                        i += 2
                        continue
                    if nxt == "$":
                        out.append(literal_dollar)
                        i += 2
                        continue
                out.append(c)
                i += 1
        elif ch == escape:
            if i + 1 < n:
                nxt = raw[i + 1]
                out.append(literal_dollar if nxt == "$" else nxt)
            i += 2
        else:
            out.append(ch)
            i += 1
    return "".join(out)


def _quote(value: str, escape: str) -> str:
    """Render a value so that :func:`_unquote` gives it back (see module doc)."""
    if value and not any(ch in _GO_SPACE_SET or ch in "\"'" or ch == escape for ch in value):
        return value
    out = ['"']
    i, n = 0, len(value)
    while i < n:
        ch = value[i]
        if ch == escape:
            if i + 1 < n and value[i + 1] == "$":
                out.append(escape + "$")
                i += 2
                continue
            out.append(escape + escape)
        elif ch == '"':
            out.append(escape + '"')
        else:
            out.append(ch)
        i += 1
    out.append('"')
    return "".join(out)


def _extract_flags(line: str, escape: str) -> tuple[str, list[str]]:
    """Split the leading ``--flag`` words off ``line``, as BuildKit does.

    Returns:
        The rest of the line and the flag words (quotes and escapes removed).
    """
    words: list[str] = []
    word: list[str] = []
    blank_ok = False
    in_word = in_quote = False
    quote = ""
    i, n = 0, len(line)
    while True:
        at_end = i >= n
        ch = "" if at_end else line[i]
        if not in_word and not in_quote:
            if at_end:
                break
            if ch in _GO_SPACE_SET:
                i += 1
                continue
            if not line.startswith("--", i):
                return line[i:], words
            in_word = True
        if at_end:
            text = "".join(word)
            if text != "--" and (blank_ok or text):
                words.append(text)
            break
        if in_word:
            if ch in _GO_SPACE_SET:
                text = "".join(word)
                in_word = False
                if text == "--":
                    return line[i:], words
                if blank_ok or text:
                    words.append(text)
                word, blank_ok = [], False
                i += 1
                continue
            if ch in "'\"":
                quote, blank_ok, in_word, in_quote = ch, True, False, True
                i += 1
                continue
            if ch == escape:
                if i + 1 == n:
                    i += 1
                    continue
                i += 1
                ch = line[i]
            word.append(ch)
            i += 1
            continue
        if ch == quote:
            in_word, in_quote = True, False
            i += 1
            continue
        if ch == escape:
            if i + 1 == n:
                in_word, in_quote = True, False
                i += 1
                continue
            i += 1
            ch = line[i]
        word.append(ch)
        i += 1
    return "", words


def _render_flag(word: str, escape: str) -> str:
    name, eq, value = word.partition("=")
    if not eq:
        return word
    if any(ch in _GO_SPACE_SET or ch in "\"'" or ch == escape for ch in value):
        value = '"' + value.replace(escape, escape + escape).replace('"', escape + '"') + '"'
    return f"{name}={value}"


def _has_heredoc(command: str) -> bool:
    return any(_HEREDOC_RE.fullmatch(word) for word in _parse_words(command, _DEFAULT_ESCAPE))


def _list_args(tokens: Sequence[str], escape: str) -> str:
    """Render COPY/ADD/VOLUME arguments: whitespace-separated when safe, else JSON."""
    last = tokens[-1]
    if (
        any(not t or _has_space(t) or _HEREDOC_RE.fullmatch(t) for t in tokens)
        or tokens[0].startswith(("[", "--"))
        or _trim_continuation(last, escape)[1]
    ):
        return _json_array(tokens)
    return " ".join(tokens)


def _command_args(command: str | tuple[str, ...]) -> str:
    return command if isinstance(command, str) else _json_array(command)


def _format_duration(delta: datetime.timedelta) -> str:
    micros = delta // datetime.timedelta(microseconds=1)
    if micros < 0:
        raise ValueError(f"a duration cannot be negative: {delta!r}")
    if micros == 0:
        return "0s"
    hours, micros = divmod(micros, 3_600_000_000)
    minutes, micros = divmod(micros, 60_000_000)
    seconds, micros = divmod(micros, 1_000_000)
    out = ""
    if hours:
        out += f"{hours}h"
    if minutes:
        out += f"{minutes}m"
    if seconds or micros:
        out += f"{seconds}.{micros:06d}".rstrip("0").rstrip(".") + "s"
    return out


# --------------------------------------------------------------------------- converters


def _to_command(value: str | Iterable[str]) -> str | tuple[str, ...]:
    if isinstance(value, str):
        return _go_strip(value)
    return _to_strings(value)


def _to_optional_command(value: str | Iterable[str] | None) -> str | tuple[str, ...] | None:
    return None if value is None else _to_command(value)


def _to_strings(value: str | Iterable[str]) -> tuple[str, ...]:
    items = (value,) if isinstance(value, str) else tuple(value)
    for item in items:
        if not isinstance(item, str):
            raise TypeError(f"expected a string, got {type(item).__name__}: {item!r}")
    return items


def _to_stripped(value: str) -> str:
    if not isinstance(value, str):
        raise TypeError(f"expected a string, got {type(value).__name__}: {value!r}")
    return _go_strip(value)


def _to_paths(value: str | Iterable[str]) -> tuple[str, ...]:
    return tuple(_go_strip(path) for path in _to_strings(value))


def _to_ports(value: str | int | Iterable[str | int]) -> tuple[str, ...]:
    items = (value,) if isinstance(value, (str, int)) else tuple(value)
    return tuple(_port(item) for item in items)


def _port(value: str | int) -> str:
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise TypeError(f"a port must be an int or a string, not {value!r}")
    return str(value)


def _to_signal(value: str | int) -> str:
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise TypeError(f"a signal must be a string or an int, not {value!r}")
    return _go_strip(str(value))


def _to_pairs(value: Mapping[str, str] | Iterable[tuple[str, str]]) -> tuple[tuple[str, str], ...]:
    items = tuple(value.items()) if isinstance(value, Mapping) else tuple(value)
    pairs: list[tuple[str, str]] = []
    for item in items:
        key, val = item
        if not isinstance(key, str) or not isinstance(val, str):
            raise TypeError(f"keys and values must be strings, got {item!r}")
        pairs.append((key, val))
    return tuple(pairs)


def _to_duration(value: str | datetime.timedelta | None) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime.timedelta):
        return _format_duration(value)
    if not isinstance(value, str) or not _DURATION_RE.fullmatch(value):
        raise ValueError(f"not a duration (like '30s' or '1m30s'): {value!r}")
    return value


def _to_instructions(value: Iterable[Instruction]) -> tuple[Instruction, ...]:
    items = tuple(value)
    for item in items:
        if not isinstance(item, Instruction):
            raise TypeError(f"not a Dockerfile instruction: {item!r}")
    return items


def _to_directive(value: str | None) -> str | None:
    if value is None:
        return None
    value = value.strip(_RE2_SPACE)
    _check_no_newline("a parser directive", value)
    if not value:
        raise ValueError("a parser directive cannot be empty")
    return value


# --------------------------------------------------------------------------- validators


def _check_command(keyword: str, command: str | tuple[str, ...], *, run: bool = False) -> None:
    if not isinstance(command, str):
        return
    _check_no_newline(f"a {keyword} command", command)
    if _go_json_array(command) is not None:
        raise ValueError(
            f"the shell-form {keyword} command {command!r} would be read as a JSON array; "
            "give the command as a list of strings instead"
        )
    if run and _has_heredoc(command):
        raise ValueError(f"heredocs are not supported: {command!r}")


def _check_token(what: str, value: str) -> None:
    if not value or _has_space(value):
        raise ValueError(f"{what} must be a non-empty string without whitespace: {value!r}")


def _check_flags(keyword: str, flags: tuple[str, ...], reserved: tuple[str, ...] = ()) -> None:
    for flag in flags:
        if not isinstance(flag, str) or not _FLAG_RE.fullmatch(flag):
            raise ValueError(
                f"a {keyword} flag must look like '--name' or '--name=value': {flag!r}"
            )
        _check_no_newline(f"a {keyword} flag", flag)
        name = flag[2:].partition("=")[0]
        if name in reserved:
            raise ValueError(f"set --{name} with its own argument, not in flags")


def _check_optional(what: str, value: str | None) -> None:
    if value is not None:
        _check_no_newline(what, value)


def _check_key(what: str, key: str) -> None:
    _check_no_newline(what, key)
    if not key or "=" in key:
        raise ValueError(f"{what} must be non-empty and contain no '=': {key!r}")


# --------------------------------------------------------------------------- instructions


class Instruction:
    """The base class of every Dockerfile instruction (and of :class:`Comment`).

    ``str(instruction)`` renders it with the default escape character.
    """

    __slots__ = ()

    #: The instruction's keyword, as rendered.
    keyword: ClassVar[str] = ""

    def render(self, escape: str = _DEFAULT_ESCAPE) -> str:
        """Render this instruction as one Dockerfile line (no newline).

        Args:
            escape: The Dockerfile's escape character, ``\\`` or `````.

        Returns:
            The line.

        Raises:
            ValueError: The escape character is invalid, or the instruction
                cannot be written with it (a shell-form command ending in the
                escape character would continue onto the next line).
        """
        _check_escape(escape)
        return _render_cached(self, escape)

    def __str__(self) -> str:
        return self.render()

    def _flags(self) -> list[str]:
        return []

    def _args(self, escape: str) -> str:
        raise NotImplementedError

    def _render_line(self, escape: str) -> str:
        parts = [self.keyword]
        parts.extend(_render_flag(flag, escape) for flag in self._flags())
        args = self._args(escape)
        if args.startswith("--"):
            # Docker would read the arguments as flags; "--" ends the flags.
            parts.append("--")
        if args:
            parts.append(args)
        line = " ".join(parts)
        if _trim_continuation(line, escape)[1]:
            raise ValueError(
                f"{line!r} cannot be written: it ends with the escape character {escape!r}, "
                "which would continue it onto the next line"
            )
        return line


@functools.lru_cache(maxsize=4096)
def _render_cached(instruction: Instruction, escape: str) -> str:
    return instruction._render_line(escape)


@attrs.frozen
class Comment(Instruction):
    """A ``# comment`` line (kept by the parser, except inside continuations).

    Args:
        text: The comment, without the ``#`` and the one space after it.

    Raises:
        ValueError: The text contains a line break.
    """

    keyword: ClassVar[str] = "#"

    text: str

    def __attrs_post_init__(self) -> None:
        _check_no_newline("a comment", self.text)

    def _render_line(self, escape: str) -> str:
        return f"# {self.text}" if self.text else "#"


@attrs.frozen
class From(Instruction):
    """``FROM [--platform=<platform>] <image> [AS <alias>]``.

    Args:
        image: The base image reference (``$ARG`` references allowed).
        alias: The build stage's name.
        platform: The ``--platform`` flag.

    Raises:
        ValueError: The image or alias is empty or contains whitespace, or a
            value contains a line break.
    """

    keyword: ClassVar[str] = "FROM"

    image: str
    alias: str | None = None
    platform: str | None = attrs.field(default=None, kw_only=True)

    def __attrs_post_init__(self) -> None:
        _check_token("a FROM image", self.image)
        if self.alias is not None:
            _check_token("a FROM alias", self.alias)
        _check_optional("a platform", self.platform)

    def _flags(self) -> list[str]:
        return [] if self.platform is None else [f"--platform={self.platform}"]

    def _args(self, escape: str) -> str:
        return self.image if self.alias is None else f"{self.image} AS {self.alias}"


@attrs.frozen
class Maintainer(Instruction):
    """``MAINTAINER <name>`` (deprecated by Docker in favour of a label).

    Args:
        name: The maintainer, stripped of surrounding whitespace.

    Raises:
        ValueError: The name is empty or contains a line break.
    """

    keyword: ClassVar[str] = "MAINTAINER"

    name: str = attrs.field(converter=_to_stripped)

    def __attrs_post_init__(self) -> None:
        _check_no_newline("a maintainer", self.name)
        if not self.name:
            raise ValueError("MAINTAINER needs a name")

    def _args(self, escape: str) -> str:
        return self.name


@attrs.frozen
class Run(Instruction):
    """``RUN [flags] <command>``.

    Args:
        command: A shell-form string (stripped of surrounding whitespace) or an
            exec-form sequence of strings.
        flags: Raw flags such as ``"--mount=type=cache,target=/root/.cache"``
            or ``"--network=host"``.

    Raises:
        ValueError: The command is empty, the shell-form command contains a line
            break, reads as a JSON array or starts a heredoc, or a flag is malformed.
        TypeError: An exec-form item is not a string.
    """

    keyword: ClassVar[str] = "RUN"

    command: str | tuple[str, ...] = attrs.field(converter=_to_command)
    flags: tuple[str, ...] = attrs.field(default=(), kw_only=True, converter=_to_strings)

    def __attrs_post_init__(self) -> None:
        if not self.command:
            raise _Refused("RUN needs a command")
        _check_command("RUN", self.command, run=True)
        _check_flags("RUN", self.flags)

    def _flags(self) -> list[str]:
        return list(self.flags)

    def _args(self, escape: str) -> str:
        return _command_args(self.command)


@attrs.frozen
class Cmd(Instruction):
    """``CMD <command>``: the default command (or arguments to the entrypoint).

    Args:
        command: A shell-form string or an exec-form sequence of strings.

    Raises:
        ValueError: The shell-form command contains a line break or reads as
            a JSON array.
        TypeError: An exec-form item is not a string.
    """

    keyword: ClassVar[str] = "CMD"

    command: str | tuple[str, ...] = attrs.field(converter=_to_command)

    def __attrs_post_init__(self) -> None:
        _check_command("CMD", self.command)

    def _args(self, escape: str) -> str:
        return _command_args(self.command)


@attrs.frozen
class Entrypoint(Instruction):
    """``ENTRYPOINT <command>``.

    Args:
        command: A shell-form string or an exec-form sequence of strings.

    Raises:
        ValueError: The shell-form command contains a line break or reads as
            a JSON array.
        TypeError: An exec-form item is not a string.
    """

    keyword: ClassVar[str] = "ENTRYPOINT"

    command: str | tuple[str, ...] = attrs.field(converter=_to_command)

    def __attrs_post_init__(self) -> None:
        _check_command("ENTRYPOINT", self.command)

    def _args(self, escape: str) -> str:
        return _command_args(self.command)


@attrs.frozen
class Shell(Instruction):
    """``SHELL ["executable", "parameters"]`` (always exec form).

    Args:
        command: The shell and its arguments.

    Raises:
        ValueError: The list is empty.
        TypeError: An item is not a string.
    """

    keyword: ClassVar[str] = "SHELL"

    command: tuple[str, ...] = attrs.field(converter=_to_strings)

    def __attrs_post_init__(self) -> None:
        if not self.command:
            raise ValueError("SHELL needs at least one argument")

    def _args(self, escape: str) -> str:
        return _json_array(self.command)


@attrs.frozen
class Env(Instruction):
    """``ENV <key>=<value> ...``.

    Args:
        pairs: The variables, in order; a mapping or ``(key, value)`` pairs.

    Raises:
        ValueError: No pairs, an empty key, a key containing ``=``, or a line break.
        TypeError: A key or value is not a string.
    """

    keyword: ClassVar[str] = "ENV"

    pairs: tuple[tuple[str, str], ...] = attrs.field(converter=_to_pairs)

    def __attrs_post_init__(self) -> None:
        _check_pairs("ENV", self.pairs)

    def _args(self, escape: str) -> str:
        return " ".join(f"{_quote(k, escape)}={_quote(v, escape)}" for k, v in self.pairs)


@attrs.frozen
class Label(Instruction):
    """``LABEL <key>=<value> ...``.

    Args:
        pairs: The labels, in order; a mapping or ``(key, value)`` pairs.

    Raises:
        ValueError: No pairs, an empty key, a key containing ``=``, or a line break.
        TypeError: A key or value is not a string.
    """

    keyword: ClassVar[str] = "LABEL"

    pairs: tuple[tuple[str, str], ...] = attrs.field(converter=_to_pairs)

    def __attrs_post_init__(self) -> None:
        _check_pairs("LABEL", self.pairs)

    def _args(self, escape: str) -> str:
        return " ".join(f"{_quote(k, escape)}={_quote(v, escape)}" for k, v in self.pairs)


def _check_pairs(keyword: str, pairs: tuple[tuple[str, str], ...]) -> None:
    if not pairs:
        raise ValueError(f"{keyword} needs at least one key=value pair")
    for key, value in pairs:
        _check_key(f"an {keyword} key" if keyword == "ENV" else f"a {keyword} key", key)
        _check_no_newline(f"a {keyword} value", value)


@attrs.frozen
class Expose(Instruction):
    """``EXPOSE <port>[/<protocol>] ...``.

    Args:
        ports: Ports such as ``80`` or ``"53/udp"``.

    Raises:
        ValueError: No ports, or one that is not ``port[-port][/tcp|udp|sctp]``
            with ports 1-65535 (words with a ``$variable`` are left to Docker).
        TypeError: A port is neither an int nor a string.
    """

    keyword: ClassVar[str] = "EXPOSE"

    ports: tuple[str, ...] = attrs.field(converter=_to_ports)

    def __attrs_post_init__(self) -> None:
        if not self.ports:
            raise ValueError("EXPOSE needs at least one port")
        for port in self.ports:
            _check_token("a port", port)
            _check_expose_port(port)

    def _args(self, escape: str) -> str:
        return " ".join(self.ports)


@attrs.frozen
class Copy(Instruction):
    """``COPY [flags] <src>... <dest>``.

    Paths are Dockerfile words: Docker later expands ``$variables``, removes
    quotes and matches sources as glob patterns. Paths with whitespace (or
    that would otherwise be misread) are rendered in JSON form.

    Args:
        sources: One source or several.
        dest: The destination in the image.
        chown: ``--chown=<user>:<group>``.
        chmod: ``--chmod=<perms>``.
        from_: ``--from=<stage|image|context>``.
        link: ``--link``.
        flags: Other raw flags, e.g. ``"--parents"`` or ``"--exclude=*.md"``.

    Raises:
        ValueError: No sources, an empty path, a line break in a flag value, a
            malformed flag, or a flag in ``flags`` that has its own argument.
        TypeError: A path is not a string.
    """

    keyword: ClassVar[str] = "COPY"

    sources: tuple[str, ...] = attrs.field(converter=_to_strings)
    dest: str
    chown: str | None = attrs.field(default=None, kw_only=True)
    chmod: str | None = attrs.field(default=None, kw_only=True)
    from_: str | None = attrs.field(default=None, kw_only=True)
    link: bool = attrs.field(default=False, kw_only=True)
    flags: tuple[str, ...] = attrs.field(default=(), kw_only=True, converter=_to_strings)

    def __attrs_post_init__(self) -> None:
        _check_transfer("COPY", self.sources, self.dest)
        for what, value in (("chown", self.chown), ("chmod", self.chmod), ("from", self.from_)):
            _check_optional(f"--{what}", value)
        _check_flags("COPY", self.flags, ("from", "chown", "chmod", "link"))

    def _flags(self) -> list[str]:
        out = [
            f"--{name}={value}"
            for name, value in (("from", self.from_), ("chown", self.chown), ("chmod", self.chmod))
            if value is not None
        ]
        if self.link:
            out.append("--link")
        return out + list(self.flags)

    def _args(self, escape: str) -> str:
        return _list_args((*self.sources, self.dest), escape)


@attrs.frozen
class Add(Instruction):
    """``ADD [flags] <src>... <dest>``.

    Paths follow the same rules as :class:`Copy`'s.

    Args:
        sources: One source or several (paths, URLs or git repositories).
        dest: The destination in the image.
        chown: ``--chown=<user>:<group>``.
        chmod: ``--chmod=<perms>``.
        checksum: ``--checksum=<digest>`` of a remote source.
        link: ``--link``.
        flags: Other raw flags, e.g. ``"--keep-git-dir"``.

    Raises:
        ValueError: No sources, an empty path, a line break in a flag value, a
            malformed flag, or a flag in ``flags`` that has its own argument.
        TypeError: A path is not a string.
    """

    keyword: ClassVar[str] = "ADD"

    sources: tuple[str, ...] = attrs.field(converter=_to_strings)
    dest: str
    chown: str | None = attrs.field(default=None, kw_only=True)
    chmod: str | None = attrs.field(default=None, kw_only=True)
    checksum: str | None = attrs.field(default=None, kw_only=True)
    link: bool = attrs.field(default=False, kw_only=True)
    flags: tuple[str, ...] = attrs.field(default=(), kw_only=True, converter=_to_strings)

    def __attrs_post_init__(self) -> None:
        _check_transfer("ADD", self.sources, self.dest)
        for what, value in (
            ("chown", self.chown),
            ("chmod", self.chmod),
            ("checksum", self.checksum),
        ):
            _check_optional(f"--{what}", value)
        _check_flags("ADD", self.flags, ("chown", "chmod", "checksum", "link"))

    def _flags(self) -> list[str]:
        out = [
            f"--{name}={value}"
            for name, value in (
                ("chown", self.chown),
                ("chmod", self.chmod),
                ("checksum", self.checksum),
            )
            if value is not None
        ]
        if self.link:
            out.append("--link")
        return out + list(self.flags)

    def _args(self, escape: str) -> str:
        return _list_args((*self.sources, self.dest), escape)


def _check_transfer(keyword: str, sources: tuple[str, ...], dest: str) -> None:
    if not sources:
        raise ValueError(f"{keyword} needs at least one source")
    if not isinstance(dest, str):
        raise TypeError(f"a {keyword} destination must be a string, not {dest!r}")
    for path in (*sources, dest):
        if not path:
            raise ValueError(f"{keyword} paths cannot be empty")


@attrs.frozen
class User(Instruction):
    """``USER <user>[:<group>]``.

    Args:
        user: The user (and group), stripped of surrounding whitespace.

    Raises:
        ValueError: The user is empty or contains a line break.
        TypeError: The user is not a string.
    """

    keyword: ClassVar[str] = "USER"

    user: str = attrs.field(converter=_to_stripped)

    def __attrs_post_init__(self) -> None:
        _check_no_newline("a user", self.user)
        if not self.user:
            raise ValueError("USER needs a user")

    def _args(self, escape: str) -> str:
        return self.user


@attrs.frozen
class Workdir(Instruction):
    """``WORKDIR <path>``.

    Args:
        path: The directory, stripped of surrounding whitespace.

    Raises:
        ValueError: The path is empty or contains a line break.
        TypeError: The path is not a string.
    """

    keyword: ClassVar[str] = "WORKDIR"

    path: str = attrs.field(converter=_to_stripped)

    def __attrs_post_init__(self) -> None:
        _check_no_newline("a WORKDIR path", self.path)
        if not self.path:
            raise ValueError("WORKDIR needs a path")

    def _args(self, escape: str) -> str:
        return self.path


@attrs.frozen
class Volume(Instruction):
    """``VOLUME <path> ...``.

    Args:
        paths: The mount points, each stripped of surrounding whitespace.

    Raises:
        ValueError: No paths, or an empty one.
        TypeError: A path is not a string.
    """

    keyword: ClassVar[str] = "VOLUME"

    paths: tuple[str, ...] = attrs.field(converter=_to_paths)

    def __attrs_post_init__(self) -> None:
        if not self.paths:
            raise ValueError("VOLUME needs at least one path")
        if not all(self.paths):
            raise ValueError("a VOLUME path cannot be empty")

    def _args(self, escape: str) -> str:
        return _list_args(self.paths, escape)


@attrs.frozen
class Arg(Instruction):
    """``ARG <name>[=<default>]``.

    Args:
        name: The build argument's name.
        default: Its default value (quoting rules as for ``ENV`` values).

    Raises:
        ValueError: The name is empty or contains whitespace, quotes, an escape
            character or ``=``, or the default contains a line break.
    """

    keyword: ClassVar[str] = "ARG"

    name: str
    default: str | None = None

    def __attrs_post_init__(self) -> None:
        if not self.name or _has_space(self.name) or any(ch in "=\"'\\`" for ch in self.name):
            raise ValueError(
                "an ARG name must be non-empty, without whitespace, quotes, "
                f"escape characters or '=': {self.name!r}"
            )
        _check_optional("an ARG default", self.default)

    def _args(self, escape: str) -> str:
        if self.default is None:
            return self.name
        return f"{self.name}={_quote(self.default, escape)}"


@attrs.frozen
class Healthcheck(Instruction):
    """``HEALTHCHECK [options] CMD <command>``, or ``HEALTHCHECK NONE``.

    Durations are Go duration strings such as ``"30s"`` or ``"1m30s"``; a
    :class:`datetime.timedelta` is converted to one.

    Args:
        command: The check (shell-form string or exec-form sequence), or None
            for ``HEALTHCHECK NONE``, which disables an inherited check.
        interval: ``--interval``.
        timeout: ``--timeout``.
        start_period: ``--start-period``.
        start_interval: ``--start-interval``.
        retries: ``--retries``.

    Raises:
        ValueError: Options given with NONE, an empty command, a bad duration
            or retry count, or a shell-form command that cannot be written.
        TypeError: An exec-form item is not a string.
    """

    keyword: ClassVar[str] = "HEALTHCHECK"

    command: str | tuple[str, ...] | None = attrs.field(converter=_to_optional_command)
    interval: str | None = attrs.field(default=None, kw_only=True, converter=_to_duration)
    timeout: str | None = attrs.field(default=None, kw_only=True, converter=_to_duration)
    start_period: str | None = attrs.field(default=None, kw_only=True, converter=_to_duration)
    start_interval: str | None = attrs.field(default=None, kw_only=True, converter=_to_duration)
    retries: int | None = attrs.field(default=None, kw_only=True)

    def __attrs_post_init__(self) -> None:
        options = (self.interval, self.timeout, self.start_period, self.start_interval)
        if self.command is None:
            if any(o is not None for o in (*options, self.retries)):
                raise ValueError("HEALTHCHECK NONE takes no options")
            return
        if not self.command:
            raise ValueError("HEALTHCHECK CMD needs a command")
        _check_command("HEALTHCHECK", self.command)
        if self.retries is not None and (
            isinstance(self.retries, bool) or not isinstance(self.retries, int) or self.retries < 0
        ):
            raise ValueError(f"--retries must be a non-negative int, not {self.retries!r}")

    def _flags(self) -> list[str]:
        options = (
            ("interval", self.interval),
            ("timeout", self.timeout),
            ("start-period", self.start_period),
            ("start-interval", self.start_interval),
            ("retries", None if self.retries is None else str(self.retries)),
        )
        return [f"--{name}={value}" for name, value in options if value is not None]

    def _args(self, escape: str) -> str:
        if self.command is None:
            return "NONE"
        return f"CMD {_command_args(self.command)}"


@attrs.frozen
class Stopsignal(Instruction):
    """``STOPSIGNAL <signal>``.

    Args:
        signal: A name such as ``"SIGTERM"`` or a number.

    Raises:
        ValueError: The signal is empty or contains a line break.
        TypeError: The signal is neither a string nor an int.
    """

    keyword: ClassVar[str] = "STOPSIGNAL"

    signal: str = attrs.field(converter=_to_signal)

    def __attrs_post_init__(self) -> None:
        _check_no_newline("a signal", self.signal)
        if not self.signal:
            raise ValueError("STOPSIGNAL needs a signal")

    def _args(self, escape: str) -> str:
        return self.signal


@attrs.frozen
class Onbuild(Instruction):
    """``ONBUILD <instruction>``: a trigger run when the image is used as a base.

    Args:
        instruction: The trigger; anything but ``ONBUILD``, ``FROM``,
            ``MAINTAINER`` or a comment.

    Raises:
        ValueError: The trigger is not allowed.
        TypeError: The trigger is not an :class:`Instruction`.
    """

    keyword: ClassVar[str] = "ONBUILD"

    instruction: Instruction

    def __attrs_post_init__(self) -> None:
        if not isinstance(self.instruction, Instruction):
            raise TypeError(f"not a Dockerfile instruction: {self.instruction!r}")
        if isinstance(self.instruction, (Onbuild, From, Maintainer, Comment)):
            raise ValueError(f"{self.instruction.keyword} isn't allowed as an ONBUILD trigger")

    def _args(self, escape: str) -> str:
        return _render_cached(self.instruction, escape)


# --------------------------------------------------------------------------- the Dockerfile


def _validate_escape(instance: Dockerfile, attribute: attrs.Attribute[str], value: str) -> None:
    _check_escape(value)


@attrs.frozen
class Dockerfile:
    """An immutable Dockerfile: instructions plus parser directives.

    Builder methods return a new Dockerfile with one more instruction; ``str(df)``
    renders the text (ending with a newline) and :meth:`parse` reads it back, so
    ``Dockerfile.parse(str(df)) == df``.

    Example:
        >>> df = Dockerfile().from_("alpine:3.20").run("apk add curl").cmd(["curl", "--help"])
        >>> print(df, end="")
        FROM alpine:3.20
        RUN apk add curl
        CMD ["curl", "--help"]

    Attributes:
        instructions: The instructions, in order.
        escape: The escape character, ``\\`` (the default) or ````` (usual on Windows).
        syntax: The ``# syntax=`` directive (the BuildKit frontend image).
        check: The ``# check=`` directive (build check configuration).

    Raises:
        ValueError: The escape character is invalid, or an instruction cannot be
            written with it.
    """

    instructions: tuple[Instruction, ...] = attrs.field(default=(), converter=_to_instructions)
    escape: str = attrs.field(default=_DEFAULT_ESCAPE, kw_only=True, validator=_validate_escape)
    syntax: str | None = attrs.field(default=None, kw_only=True, converter=_to_directive)
    check: str | None = attrs.field(default=None, kw_only=True, converter=_to_directive)

    def __attrs_post_init__(self) -> None:
        for instruction in self.instructions:
            _render_cached(instruction, self.escape)

    # ---------------------------------------------------------------- container protocol

    def __len__(self) -> int:
        return len(self.instructions)

    def __iter__(self) -> Iterator[Instruction]:
        return iter(self.instructions)

    @overload
    def __getitem__(self, index: int) -> Instruction: ...

    @overload
    def __getitem__(self, index: slice) -> tuple[Instruction, ...]: ...

    def __getitem__(self, index: int | slice) -> Instruction | tuple[Instruction, ...]:
        return self.instructions[index]

    # ---------------------------------------------------------------- rendering and parsing

    def __str__(self) -> str:
        lines: list[str] = []
        if self.syntax is not None:
            lines.append(f"# syntax={self.syntax}")
        if self.escape != _DEFAULT_ESCAPE:
            lines.append(f"# escape={self.escape}")
        if self.check is not None:
            lines.append(f"# check={self.check}")
        body = [_render_cached(instruction, self.escape) for instruction in self.instructions]
        if body and isinstance(self.instructions[0], Comment) and _directive(body[0]) is not None:
            # Keep a leading comment from being read as a parser directive.
            lines.append("")
        lines.extend(body)
        return "".join(line + "\n" for line in lines)

    @classmethod
    def parse(cls, text: str) -> Dockerfile:
        """Parse Dockerfile text.

        Comments outside continuations are kept as :class:`Comment`; blank lines
        are dropped; parser directives become :attr:`syntax`, :attr:`escape` and
        :attr:`check`. ``ARG a b=1`` becomes one :class:`Arg` per name.

        Args:
            text: The Dockerfile.

        Returns:
            The parsed Dockerfile.

        Raises:
            DockerfileParseError: (a ValueError) An unknown instruction, a bad
                argument, flag or directive, a RUN without a command, an EXPOSE
                that is not a port, or a heredoc; the error names the line where
                the instruction starts. (A fragment without FROM parses: see
                :meth:`check_buildable`.)
        """
        return _parse(text)

    def check_buildable(self) -> None:
        """Check what Docker checks before it builds, without sending anything.

        The rendered text must parse (so the first instruction other than ARG
        and comments is FROM) and hold at least one FROM.

        Raises:
            DockerfileParseError: It breaks a rule; the error names the line of
                the rendered text (``str(self)``).
        """
        text = str(self)
        _parse(text, build=True)
        if not any(isinstance(x, From) for x in self.instructions):
            raise _RefusedParse(max(text.count("\n"), 1), "the Dockerfile has no FROM instruction")

    # ---------------------------------------------------------------- builder

    def append(self, *instructions: Instruction) -> Dockerfile:
        """Add instructions.

        Args:
            *instructions: The instructions to add, in order.

        Returns:
            A new Dockerfile.

        Raises:
            TypeError: Something is not an :class:`Instruction`.
            ValueError: An instruction cannot be written with this Dockerfile's
                escape character.
        """
        return attrs.evolve(self, instructions=(*self.instructions, *instructions))

    def comment(self, text: str) -> Dockerfile:
        """Add a ``# comment`` line.

        Args:
            text: The comment text.

        Returns:
            A new Dockerfile.

        Raises:
            ValueError: The text contains a line break.
        """
        return self.append(Comment(text))

    def from_(
        self, image: str, *, alias: str | None = None, platform: str | None = None
    ) -> Dockerfile:
        """Add ``FROM [--platform=...] image [AS alias]``.

        Args:
            image: The base image.
            alias: A name for this build stage.
            platform: The platform to pull, e.g. ``"linux/amd64"`` or ``"$BUILDPLATFORM"``.

        Returns:
            A new Dockerfile.

        Raises:
            ValueError: The image or alias is empty or contains whitespace.
        """
        return self.append(From(image, alias, platform=platform))

    def maintainer(self, name: str) -> Dockerfile:
        """Add ``MAINTAINER name``.

        Args:
            name: The maintainer.

        Returns:
            A new Dockerfile.

        Raises:
            ValueError: The name is empty or contains a line break.
        """
        return self.append(Maintainer(name))

    def run(
        self,
        command: str | Sequence[str],
        *,
        mounts: Sequence[str] = (),
        network: str | None = None,
        security: str | None = None,
        flags: Sequence[str] = (),
    ) -> Dockerfile:
        """Add ``RUN``.

        Args:
            command: A shell-form string or an exec-form list.
            mounts: ``--mount`` values, e.g. ``"type=cache,target=/root/.cache"``.
            network: ``--network`` (``"default"``, ``"none"`` or ``"host"``).
            security: ``--security`` (``"sandbox"`` or ``"insecure"``).
            flags: Other raw flags, e.g. ``"--device=..."``.

        Returns:
            A new Dockerfile.

        Raises:
            ValueError: The command cannot be written (a line break, a heredoc,
                a shell string that reads as JSON, a trailing escape character)
                or a flag is malformed.
        """
        words = [f"--mount={mount}" for mount in _to_strings(mounts)]
        if network is not None:
            words.append(f"--network={network}")
        if security is not None:
            words.append(f"--security={security}")
        return self.append(Run(command, flags=(*words, *_to_strings(flags))))

    def cmd(self, command: str | Sequence[str]) -> Dockerfile:
        """Add ``CMD``.

        Args:
            command: A shell-form string or an exec-form list.

        Returns:
            A new Dockerfile.

        Raises:
            ValueError: The command cannot be written.
        """
        return self.append(Cmd(command))

    def entrypoint(self, command: str | Sequence[str]) -> Dockerfile:
        """Add ``ENTRYPOINT``.

        Args:
            command: A shell-form string or an exec-form list.

        Returns:
            A new Dockerfile.

        Raises:
            ValueError: The command cannot be written.
        """
        return self.append(Entrypoint(command))

    def shell(self, command: Sequence[str]) -> Dockerfile:
        """Add ``SHELL [...]``.

        Args:
            command: The shell and its arguments, e.g. ``["/bin/bash", "-c"]``.

        Returns:
            A new Dockerfile.

        Raises:
            ValueError: The list is empty.
        """
        return self.append(Shell(command))

    def env(
        self,
        values: Mapping[str, str] | Iterable[tuple[str, str]] | None = None,
        /,
        **kwargs: str,
    ) -> Dockerfile:
        """Add ``ENV key=value ...``.

        ``$NAME`` references in values are left for Docker to expand; write
        ``\\$`` (with the Dockerfile's escape character) for a literal dollar.

        Args:
            values: Variables as a mapping or ``(key, value)`` pairs.
            **kwargs: More variables.

        Returns:
            A new Dockerfile.

        Raises:
            ValueError: No variables, an empty key, a key with ``=``, or a line break.
        """
        pairs = (*_to_pairs(values or ()), *_to_pairs(kwargs))
        return self.append(Env(pairs))

    def label(
        self,
        values: Mapping[str, str] | Iterable[tuple[str, str]] | None = None,
        /,
        **kwargs: str,
    ) -> Dockerfile:
        """Add ``LABEL key=value ...``.

        Args:
            values: Labels as a mapping or ``(key, value)`` pairs.
            **kwargs: More labels.

        Returns:
            A new Dockerfile.

        Raises:
            ValueError: No labels, an empty key, a key with ``=``, or a line break.
        """
        pairs = (*_to_pairs(values or ()), *_to_pairs(kwargs))
        return self.append(Label(pairs))

    def expose(self, *ports: int | str) -> Dockerfile:
        """Add ``EXPOSE``.

        Args:
            *ports: Ports such as ``80`` or ``"53/udp"``.

        Returns:
            A new Dockerfile.

        Raises:
            ValueError: No ports, or a port with whitespace.
        """
        return self.append(Expose(ports))

    def copy(
        self,
        src: str | Sequence[str],
        dest: str,
        *,
        chown: str | None = None,
        chmod: str | None = None,
        from_: str | int | None = None,
        link: bool = False,
        flags: Sequence[str] = (),
    ) -> Dockerfile:
        """Add ``COPY``; paths that need it are written in JSON form.

        Args:
            src: One source or a list of sources.
            dest: The destination.
            chown: ``--chown``, e.g. ``"app:app"``.
            chmod: ``--chmod``, e.g. ``"755"``.
            from_: ``--from``: a stage name or index, an image or a named context.
            link: ``--link``.
            flags: Other raw flags, e.g. ``"--parents"``.

        Returns:
            A new Dockerfile.

        Raises:
            ValueError: No sources, an empty path, a line break in a flag, or a
                malformed flag.
        """
        return self.append(
            Copy(
                src,
                dest,
                chown=chown,
                chmod=chmod,
                from_=None if from_ is None else str(from_),
                link=link,
                flags=flags,
            )
        )

    def add(
        self,
        src: str | Sequence[str],
        dest: str,
        *,
        chown: str | None = None,
        chmod: str | None = None,
        checksum: str | None = None,
        link: bool = False,
        flags: Sequence[str] = (),
    ) -> Dockerfile:
        """Add ``ADD``; paths that need it are written in JSON form.

        Args:
            src: One source or a list of sources (paths, URLs, git repositories).
            dest: The destination.
            chown: ``--chown``.
            chmod: ``--chmod``.
            checksum: ``--checksum``, e.g. ``"sha256:..."``.
            link: ``--link``.
            flags: Other raw flags, e.g. ``"--keep-git-dir"``.

        Returns:
            A new Dockerfile.

        Raises:
            ValueError: No sources, an empty path, a line break in a flag, or a
                malformed flag.
        """
        return self.append(
            Add(src, dest, chown=chown, chmod=chmod, checksum=checksum, link=link, flags=flags)
        )

    def user(self, user: str) -> Dockerfile:
        """Add ``USER``.

        Args:
            user: ``"user"``, ``"user:group"``, or numeric ids.

        Returns:
            A new Dockerfile.

        Raises:
            ValueError: The user is empty or cannot be written.
        """
        return self.append(User(user))

    def workdir(self, path: str) -> Dockerfile:
        """Add ``WORKDIR``.

        Args:
            path: The working directory.

        Returns:
            A new Dockerfile.

        Raises:
            ValueError: The path is empty or cannot be written.
        """
        return self.append(Workdir(path))

    def volume(self, *paths: str) -> Dockerfile:
        """Add ``VOLUME``.

        Args:
            *paths: The mount points.

        Returns:
            A new Dockerfile.

        Raises:
            ValueError: No paths, or an empty one.
        """
        return self.append(Volume(paths))

    def arg(self, name: str, default: str | None = None) -> Dockerfile:
        """Add ``ARG name[=default]``.

        Args:
            name: The build argument.
            default: Its default value.

        Returns:
            A new Dockerfile.

        Raises:
            ValueError: The name is empty or contains whitespace, quotes, an
                escape character or ``=``.
        """
        return self.append(Arg(name, default))

    def healthcheck(
        self,
        command: str | Sequence[str] | None,
        *,
        interval: str | datetime.timedelta | None = None,
        timeout: str | datetime.timedelta | None = None,
        start_period: str | datetime.timedelta | None = None,
        start_interval: str | datetime.timedelta | None = None,
        retries: int | None = None,
    ) -> Dockerfile:
        """Add ``HEALTHCHECK [options] CMD command``, or ``HEALTHCHECK NONE``.

        Args:
            command: The check, or None to disable an inherited one.
            interval: Time between checks.
            timeout: Time before a check counts as failed.
            start_period: Grace time after the container starts.
            start_interval: Time between checks during the start period.
            retries: Consecutive failures before "unhealthy".

        Returns:
            A new Dockerfile.

        Raises:
            ValueError: A bad duration or retry count, options with NONE, or a
                command that cannot be written.
        """
        return self.append(
            Healthcheck(
                command,
                interval=interval,
                timeout=timeout,
                start_period=start_period,
                start_interval=start_interval,
                retries=retries,
            )
        )

    def stopsignal(self, signal: str | int) -> Dockerfile:
        """Add ``STOPSIGNAL``.

        Args:
            signal: A name such as ``"SIGQUIT"`` or a number.

        Returns:
            A new Dockerfile.

        Raises:
            ValueError: The signal is empty or cannot be written.
        """
        return self.append(Stopsignal(signal))

    def onbuild(self, instruction: Instruction) -> Dockerfile:
        """Add ``ONBUILD instruction``.

        Args:
            instruction: The trigger, e.g. ``Run("make")``.

        Returns:
            A new Dockerfile.

        Raises:
            ValueError: The trigger is ONBUILD, FROM, MAINTAINER or a comment.
        """
        return self.append(Onbuild(instruction))


def parse_for_build(text: str) -> Dockerfile | None:
    """Parse a Dockerfile about to be built, to refuse before sending what Docker refuses.

    Returns:
        The Dockerfile, or None when this module cannot parse it though Docker
        might (a heredoc, say): the engine then judges it.

    Raises:
        DockerfileParseError: It breaks a rule Docker enforces: an instruction
            other than ARG before the first FROM, no FROM at all, a RUN without a
            command, an EXPOSE that is not a port. The error names the line.
    """
    try:
        parsed = _parse(text, build=True)
    except _RefusedParse:
        raise
    except DockerfileParseError:
        return None
    parsed.check_buildable()
    return parsed


# --------------------------------------------------------------------------- the parser


def _directive(line: str) -> tuple[str, str] | None:
    """The known parser directive on ``line`` (left-stripped), if any."""
    if not line.startswith("#"):
        return None
    match = _DIRECTIVE_RE.fullmatch(_go_lstrip(line[1:]))
    if match is None or match.group(1).lower() not in _DIRECTIVES:
        return None
    return match.group(1).lower(), match.group(2)


def _parse(text: str, *, build: bool = False) -> Dockerfile:
    """Parse ``text``; with ``build``, also refuse an instruction other than ARG before FROM."""
    text = text.removeprefix("\ufeff")
    lines = [line.rstrip("\r") for line in text.split("\n")]
    escape = _DEFAULT_ESCAPE
    directives: dict[str, str] = {}
    looking_for_directives = True
    instructions: list[Instruction] = []
    first_stage_line = 0  # where the first instruction other than ARG (or a comment) is
    i, n = 0, len(lines)
    while i < n:
        lineno = i + 1
        line = _go_lstrip(lines[i])
        i += 1
        if looking_for_directives:
            directive = _directive(line)
            if directive is not None:
                name, value = directive
                if name in directives:
                    raise DockerfileParseError(
                        lineno, f"only one {name} parser directive can be used"
                    )
                if name == "escape" and value not in _ESCAPES:
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
            instructions.append(Comment(body[1:] if body.startswith(" ") else body))
            continue
        logical, continues = _trim_continuation(line, escape)
        if not continues and not logical:
            continue
        while continues and i < n:
            raw = lines[i]
            i += 1
            stripped = _go_lstrip(raw)
            if not stripped or stripped.startswith("#"):
                continue
            part, continues = _trim_continuation(raw, escape)
            logical += part
        try:
            parsed = _parse_instruction(logical, escape)
            for instruction in parsed:
                _render_cached(instruction, escape)
        except _Refused as exc:
            raise _RefusedParse(lineno, str(exc)) from exc
        except ValueError as exc:
            raise DockerfileParseError(lineno, str(exc)) from exc
        if build and not first_stage_line and any(not isinstance(x, Arg) for x in parsed):
            first_stage_line = lineno
            if not isinstance(parsed[0], From):
                raise _RefusedParse(
                    lineno,
                    f"{parsed[0].keyword} comes before FROM: a Dockerfile starts with FROM"
                    " (only ARG and comments may come before it)",
                )
        instructions.extend(parsed)
    return Dockerfile(
        instructions,
        escape=escape,
        syntax=directives.get("syntax"),
        check=directives.get("check"),
    )


def _parse_instruction(line: str, escape: str) -> list[Instruction]:
    """Parse one logical line (continuations joined) into instructions.

    Raises:
        ValueError: The line is not a valid instruction.
    """
    parts = _ARG_SPLIT_RE.split(_go_strip(line), maxsplit=1)
    keyword = parts[0]
    flags: list[str] = []
    rest = ""
    if len(parts) == 2:
        rest, flags = _extract_flags(parts[1], escape)
        rest = _go_strip(rest)
    handler = _HANDLERS.get(keyword.lower())
    if handler is None:
        raise ValueError(f"unknown instruction: {keyword}")
    return handler(keyword.upper(), flags, rest, escape)


class _Flags:
    """The flags of one instruction, checked against the ones it accepts."""

    def __init__(
        self,
        keyword: str,
        words: list[str],
        *,
        strings: tuple[str, ...] = (),
        bools: tuple[str, ...] = (),
        extras: bool = False,
    ) -> None:
        self.values: dict[str, str] = {}
        self.bools: dict[str, bool] = {}
        self.extras: list[str] = []
        for word in words:
            name, eq, value = word[2:].partition("=")
            if name in strings:
                if not eq:
                    raise ValueError(f"missing a value on flag: --{name}")
                if name in self.values:
                    raise ValueError(f"duplicate flag specified: --{name}")
                self.values[name] = value
            elif name in bools:
                if eq and not value:
                    raise ValueError(f"missing a value on flag: --{name}")
                if value.lower() not in ("", "true", "false"):
                    raise ValueError(f"expecting boolean value for flag --{name}, not: {value}")
                if name in self.bools:
                    raise ValueError(f"duplicate flag specified: --{name}")
                self.bools[name] = value.lower() != "false"
            elif extras:
                self.extras.append(word)
            else:
                raise ValueError(f"unknown flag for {keyword}: --{name}")


def _maybe_json(rest: str) -> str | tuple[str, ...]:
    array = _go_json_array(rest)
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
    if keyword in ("COPY", "ADD") and _has_heredoc(parsed):
        raise ValueError("heredocs are not supported")
    return tuple(_ARG_SPLIT_RE.split(parsed)) if parsed else ()


def _string_arg(keyword: str, rest: str) -> str:
    if not rest:
        raise ValueError(f"{keyword} requires exactly one argument")
    return rest


def _no_flags(keyword: str, flags: list[str]) -> None:
    _Flags(keyword, flags)


def _parse_from(keyword: str, flags: list[str], rest: str, escape: str) -> list[Instruction]:
    options = _Flags(keyword, flags, strings=("platform",))
    args = _ARG_SPLIT_RE.split(rest) if rest else []
    if len(args) == 3 and args[1].lower() == "as":
        return [From(args[0], args[2], platform=options.values.get("platform"))]
    if len(args) != 1:
        raise ValueError("FROM requires either one or three arguments")
    return [From(args[0], platform=options.values.get("platform"))]


def _parse_maintainer(keyword: str, flags: list[str], rest: str, escape: str) -> list[Instruction]:
    _no_flags(keyword, flags)
    return [Maintainer(_string_arg(keyword, rest))]


def _parse_run(keyword: str, flags: list[str], rest: str, escape: str) -> list[Instruction]:
    command = _maybe_json(rest)
    if isinstance(command, str) and _has_heredoc(command):
        raise ValueError("heredocs are not supported")
    return [Run(command, flags=flags)]


def _parse_cmd(keyword: str, flags: list[str], rest: str, escape: str) -> list[Instruction]:
    _no_flags(keyword, flags)
    return [Cmd(_maybe_json(rest))]


def _parse_entrypoint(keyword: str, flags: list[str], rest: str, escape: str) -> list[Instruction]:
    _no_flags(keyword, flags)
    return [Entrypoint(_maybe_json(rest))]


def _parse_shell(keyword: str, flags: list[str], rest: str, escape: str) -> list[Instruction]:
    _no_flags(keyword, flags)
    command = _maybe_json(rest)
    if isinstance(command, str):
        raise ValueError("SHELL requires the arguments to be in JSON form")
    return [Shell(command)]


def _parse_pairs(keyword: str, rest: str, escape: str) -> list[tuple[str, str]]:
    words = _parse_words(rest, escape)
    if not words:
        raise ValueError(f"{keyword} requires at least one argument")
    if "=" not in words[0]:
        # The legacy form: KEY the rest of the line
        legacy = _ARG_SPLIT_RE.split(rest, maxsplit=1)
        if len(legacy) < 2:
            raise ValueError(f"{keyword} must have two arguments")
        return [(_unquote(legacy[0], escape), _unquote(legacy[1], escape))]
    pairs: list[tuple[str, str]] = []
    for word in words:
        key, eq, value = word.partition("=")
        if not eq:
            raise ValueError(
                f"Syntax error - can't find = in {word!r}. Must be of the form: name=value"
            )
        if not key:
            raise ValueError(f"{keyword} names can not be blank")
        pairs.append((_unquote(key, escape), _unquote(value, escape)))
    return pairs


def _parse_env(keyword: str, flags: list[str], rest: str, escape: str) -> list[Instruction]:
    _no_flags(keyword, flags)
    return [Env(_parse_pairs(keyword, rest, escape))]


def _parse_label(keyword: str, flags: list[str], rest: str, escape: str) -> list[Instruction]:
    _no_flags(keyword, flags)
    return [Label(_parse_pairs(keyword, rest, escape))]


def _parse_expose(keyword: str, flags: list[str], rest: str, escape: str) -> list[Instruction]:
    _no_flags(keyword, flags)
    if not rest:
        raise ValueError("EXPOSE requires at least one argument")
    return [Expose(_ARG_SPLIT_RE.split(rest))]


def _parse_copy(keyword: str, flags: list[str], rest: str, escape: str) -> list[Instruction]:
    options = _Flags(
        keyword, flags, strings=("from", "chown", "chmod"), bools=("link",), extras=True
    )
    args = _maybe_json_list(keyword, rest)
    if len(args) < 2:
        raise ValueError("COPY requires at least two arguments")
    return [
        Copy(
            args[:-1],
            args[-1],
            from_=options.values.get("from"),
            chown=options.values.get("chown"),
            chmod=options.values.get("chmod"),
            link=options.bools.get("link", False),
            flags=options.extras,
        )
    ]


def _parse_add(keyword: str, flags: list[str], rest: str, escape: str) -> list[Instruction]:
    options = _Flags(
        keyword, flags, strings=("chown", "chmod", "checksum"), bools=("link",), extras=True
    )
    args = _maybe_json_list(keyword, rest)
    if len(args) < 2:
        raise ValueError("ADD requires at least two arguments")
    return [
        Add(
            args[:-1],
            args[-1],
            chown=options.values.get("chown"),
            chmod=options.values.get("chmod"),
            checksum=options.values.get("checksum"),
            link=options.bools.get("link", False),
            flags=options.extras,
        )
    ]


def _parse_user(keyword: str, flags: list[str], rest: str, escape: str) -> list[Instruction]:
    _no_flags(keyword, flags)
    return [User(_string_arg(keyword, rest))]


def _parse_workdir(keyword: str, flags: list[str], rest: str, escape: str) -> list[Instruction]:
    _no_flags(keyword, flags)
    return [Workdir(_string_arg(keyword, rest))]


def _parse_volume(keyword: str, flags: list[str], rest: str, escape: str) -> list[Instruction]:
    _no_flags(keyword, flags)
    paths = _maybe_json_list(keyword, rest)
    if not paths:
        raise ValueError("VOLUME requires at least one argument")
    return [Volume(paths)]


def _parse_arg(keyword: str, flags: list[str], rest: str, escape: str) -> list[Instruction]:
    _no_flags(keyword, flags)
    words = _parse_words(rest, escape)
    if not words:
        raise ValueError("ARG requires at least one argument")
    out: list[Instruction] = []
    for word in words:
        name, eq, default = word.partition("=")
        if eq and not name:
            raise ValueError("ARG names can not be blank")
        out.append(Arg(name, _unquote(default, escape) if eq else None))
    return out


def _parse_healthcheck(keyword: str, flags: list[str], rest: str, escape: str) -> list[Instruction]:
    if not rest:
        raise ValueError("HEALTHCHECK requires at least one argument")
    sep = next((i for i, ch in enumerate(rest) if ch in _GO_SPACE_SET), len(rest))
    kind, remainder = rest[:sep].upper(), _go_lstrip(rest[sep:])
    if kind == "NONE":
        if remainder:
            raise ValueError("HEALTHCHECK NONE takes no arguments")
        if flags:
            raise ValueError("HEALTHCHECK NONE takes no options")
        return [Healthcheck(None)]
    if kind != "CMD":
        raise ValueError(f"Unknown type {rest[:sep]!r} in HEALTHCHECK (try CMD)")
    names = ("interval", "timeout", "start-period", "start-interval", "retries")
    values = _Flags(keyword, flags, strings=names).values
    command = _maybe_json(remainder)
    if not command:
        raise ValueError("Missing command after HEALTHCHECK CMD")
    retries = values.get("retries")
    if retries is not None and not _INT_RE.fullmatch(retries):
        raise ValueError(f"--retries must be an integer, not {retries!r}")
    return [
        Healthcheck(
            command,
            interval=values.get("interval"),
            timeout=values.get("timeout"),
            start_period=values.get("start-period"),
            start_interval=values.get("start-interval"),
            retries=None if retries is None else int(retries),
        )
    ]


def _parse_stopsignal(keyword: str, flags: list[str], rest: str, escape: str) -> list[Instruction]:
    _no_flags(keyword, flags)
    return [Stopsignal(_string_arg(keyword, rest))]


def _parse_onbuild(keyword: str, flags: list[str], rest: str, escape: str) -> list[Instruction]:
    _no_flags(keyword, flags)
    if not rest:
        raise ValueError("ONBUILD requires at least one argument")
    triggers = _parse_instruction(rest, escape)
    if len(triggers) != 1:
        raise ValueError("ONBUILD ARG with more than one name is not supported")
    return [Onbuild(triggers[0])]


_HANDLERS = {
    "add": _parse_add,
    "arg": _parse_arg,
    "cmd": _parse_cmd,
    "copy": _parse_copy,
    "entrypoint": _parse_entrypoint,
    "env": _parse_env,
    "expose": _parse_expose,
    "from": _parse_from,
    "healthcheck": _parse_healthcheck,
    "label": _parse_label,
    "maintainer": _parse_maintainer,
    "onbuild": _parse_onbuild,
    "run": _parse_run,
    "shell": _parse_shell,
    "stopsignal": _parse_stopsignal,
    "user": _parse_user,
    "volume": _parse_volume,
    "workdir": _parse_workdir,
}
