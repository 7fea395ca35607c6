"""The instruction model: one frozen attrs class per Dockerfile instruction.

Each class knows its keyword and how to render its line. The flags that have
their own attribute are listed once, in the class's ``_options`` table, which
drives rendering (here), validation (here) and reading (the parser); raw
flags, where an instruction takes any, are kept in its ``flags`` attribute.
Instructions that share a shape share a base class: commands (``RUN``,
``CMD``, ``ENTRYPOINT``), key=value pairs (``ENV``, ``LABEL``), one string
(``MAINTAINER``, ``USER``, ``WORKDIR``, ``STOPSIGNAL``) and file transfers
(``COPY``, ``ADD``).
"""

from __future__ import annotations

import functools
from typing import Any, ClassVar, Literal, NamedTuple

import attrs

from pydock._core.dockerfile._checks import (
    _Refused,
    check_command,
    check_escape,
    check_expose_port,
    check_flags,
    check_no_newline,
    check_optional,
    check_pairs,
    check_token,
    check_transfer,
    to_command,
    to_optional_command,
    to_pairs,
    to_paths,
    to_ports,
    to_signal,
    to_strings,
    to_stripped,
)
from pydock._core.dockerfile._durations import to_duration
from pydock._core.dockerfile._words import (
    DEFAULT_ESCAPE,
    command_args,
    has_space,
    json_array,
    list_args,
    quote,
    render_flag,
    trim_continuation,
)


class Option(NamedTuple):
    """A flag with its own attribute: ``--flag=value`` (or ``--flag`` for a bool)."""

    flag: str
    attr: str
    kind: Literal["str", "bool", "int"] = "str"


class Instruction:
    """The base class of every Dockerfile instruction (and of :class:`Comment`).

    ``str(instruction)`` renders it with the default escape character.
    """

    __slots__ = ()

    #: The instruction's keyword, as rendered.
    keyword: ClassVar[str] = ""
    #: The flags with their own attribute, in the order they are rendered.
    _options: ClassVar[tuple[Option, ...]] = ()
    #: Whether other (raw) flags are accepted, and kept in a ``flags`` attribute.
    _extra_flags: ClassVar[bool] = False

    def render(self, escape: str = DEFAULT_ESCAPE) -> str:
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
        check_escape(escape)
        return render_cached(self, escape)

    def __str__(self) -> str:
        return self.render()

    def _flags(self) -> list[str]:
        out: list[str] = []
        for option in self._options:
            value = getattr(self, option.attr)
            if option.kind == "bool":
                if value:
                    out.append(f"--{option.flag}")
            elif value is not None:
                out.append(f"--{option.flag}={value}")
        out.extend(getattr(self, "flags", ()))
        return out

    def _args(self, escape: str) -> str:
        raise NotImplementedError

    def _render_line(self, escape: str) -> str:
        parts = [self.keyword]
        parts.extend(render_flag(flag, escape) for flag in self._flags())
        args = self._args(escape)
        if args.startswith("--"):
            # Docker would read the arguments as flags; "--" ends the flags.
            parts.append("--")
        if args:
            parts.append(args)
        line = " ".join(parts)
        if trim_continuation(line, escape)[1]:
            raise ValueError(
                f"{line!r} cannot be written: it ends with the escape character {escape!r}, "
                "which would continue it onto the next line"
            )
        return line


@functools.lru_cache(maxsize=4096)
def render_cached(instruction: Instruction, escape: str) -> str:
    """``instruction``'s line with ``escape`` (which must be valid), cached."""
    return instruction._render_line(escape)


# --------------------------------------------------------------------------- shared shapes


class _Single(Instruction):
    """An instruction with one stripped, non-empty string (``_field`` names it)."""

    __slots__ = ()

    #: The attribute, what the error calls it, and what the keyword needs.
    _field: ClassVar[tuple[str, str, str]]

    def __attrs_post_init__(self) -> None:
        attr, what, needs = self._field
        value: str = getattr(self, attr)
        check_no_newline(what, value)
        if not value:
            raise ValueError(f"{self.keyword} needs {needs}")

    def _args(self, escape: str) -> str:
        value: str = getattr(self, self._field[0])
        return value


@attrs.frozen
class _Command(Instruction):
    """An instruction whose argument is a shell-form or exec-form command."""

    command: str | tuple[str, ...] = attrs.field(converter=to_command)

    def __attrs_post_init__(self) -> None:
        check_command(self.keyword, self.command)

    def _args(self, escape: str) -> str:
        return command_args(self.command)


@attrs.frozen
class _Pairs(Instruction):
    """An instruction whose arguments are ``key=value`` pairs."""

    pairs: tuple[tuple[str, str], ...] = attrs.field(converter=to_pairs)

    def __attrs_post_init__(self) -> None:
        check_pairs(self.keyword, self.pairs)

    def _args(self, escape: str) -> str:
        return " ".join(f"{quote(k, escape)}={quote(v, escape)}" for k, v in self.pairs)


def _flags_last(cls: type, fields: list[attrs.Attribute[Any]]) -> list[attrs.Attribute[Any]]:
    """Keep ``link`` and ``flags`` after the options a subclass adds (repr and fields order)."""
    return sorted(fields, key=lambda field: field.name in ("link", "flags"))


@attrs.frozen
class _Transfer(Instruction):
    """``COPY`` and ``ADD``: sources, a destination, options and raw flags."""

    _extra_flags: ClassVar[bool] = True

    sources: tuple[str, ...] = attrs.field(converter=to_strings)
    dest: str
    chown: str | None = attrs.field(default=None, kw_only=True)
    chmod: str | None = attrs.field(default=None, kw_only=True)
    link: bool = attrs.field(default=False, kw_only=True)
    flags: tuple[str, ...] = attrs.field(default=(), kw_only=True, converter=to_strings)

    def __attrs_post_init__(self) -> None:
        check_transfer(self.keyword, self.sources, self.dest)
        # --chown and --chmod are checked first (then the table's order), as always.
        for option in sorted(self._options, key=lambda o: o.flag not in ("chown", "chmod")):
            if option.kind == "str":
                check_optional(f"--{option.flag}", getattr(self, option.attr))
        check_flags(self.keyword, self.flags, tuple(option.flag for option in self._options))

    def _args(self, escape: str) -> str:
        return list_args((*self.sources, self.dest), escape)


# --------------------------------------------------------------------------- instructions


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
        check_no_newline("a comment", self.text)

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
    _options: ClassVar[tuple[Option, ...]] = (Option("platform", "platform"),)

    image: str
    alias: str | None = None
    platform: str | None = attrs.field(default=None, kw_only=True)

    def __attrs_post_init__(self) -> None:
        check_token("a FROM image", self.image)
        if self.alias is not None:
            check_token("a FROM alias", self.alias)
        check_optional("a platform", self.platform)

    def _args(self, escape: str) -> str:
        return self.image if self.alias is None else f"{self.image} AS {self.alias}"


@attrs.frozen
class Maintainer(_Single):
    """``MAINTAINER <name>`` (deprecated by Docker in favour of a label).

    Args:
        name: The maintainer, stripped of surrounding whitespace.

    Raises:
        ValueError: The name is empty or contains a line break.
    """

    keyword: ClassVar[str] = "MAINTAINER"
    _field: ClassVar[tuple[str, str, str]] = ("name", "a maintainer", "a name")

    name: str = attrs.field(converter=to_stripped)


@attrs.frozen
class Run(_Command):
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
    _extra_flags: ClassVar[bool] = True

    flags: tuple[str, ...] = attrs.field(default=(), kw_only=True, converter=to_strings)

    def __attrs_post_init__(self) -> None:
        if not self.command:
            raise _Refused("RUN needs a command")
        check_command("RUN", self.command, run=True)
        check_flags("RUN", self.flags)


@attrs.frozen
class Cmd(_Command):
    """``CMD <command>``: the default command (or arguments to the entrypoint).

    Args:
        command: A shell-form string or an exec-form sequence of strings.

    Raises:
        ValueError: The shell-form command contains a line break or reads as
            a JSON array.
        TypeError: An exec-form item is not a string.
    """

    keyword: ClassVar[str] = "CMD"


@attrs.frozen
class Entrypoint(_Command):
    """``ENTRYPOINT <command>``.

    Args:
        command: A shell-form string or an exec-form sequence of strings.

    Raises:
        ValueError: The shell-form command contains a line break or reads as
            a JSON array.
        TypeError: An exec-form item is not a string.
    """

    keyword: ClassVar[str] = "ENTRYPOINT"


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

    command: tuple[str, ...] = attrs.field(converter=to_strings)

    def __attrs_post_init__(self) -> None:
        if not self.command:
            raise ValueError("SHELL needs at least one argument")

    def _args(self, escape: str) -> str:
        return json_array(self.command)


@attrs.frozen
class Env(_Pairs):
    """``ENV <key>=<value> ...``.

    Args:
        pairs: The variables, in order; a mapping or ``(key, value)`` pairs.

    Raises:
        ValueError: No pairs, an empty key, a key containing ``=``, or a line break.
        TypeError: A key or value is not a string.
    """

    keyword: ClassVar[str] = "ENV"


@attrs.frozen
class Label(_Pairs):
    """``LABEL <key>=<value> ...``.

    Args:
        pairs: The labels, in order; a mapping or ``(key, value)`` pairs.

    Raises:
        ValueError: No pairs, an empty key, a key containing ``=``, or a line break.
        TypeError: A key or value is not a string.
    """

    keyword: ClassVar[str] = "LABEL"


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

    ports: tuple[str, ...] = attrs.field(converter=to_ports)

    def __attrs_post_init__(self) -> None:
        if not self.ports:
            raise ValueError("EXPOSE needs at least one port")
        for port in self.ports:
            check_token("a port", port)
            check_expose_port(port)

    def _args(self, escape: str) -> str:
        return " ".join(self.ports)


@attrs.frozen(field_transformer=_flags_last)
class Copy(_Transfer):
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
    _options: ClassVar[tuple[Option, ...]] = (
        Option("from", "from_"),
        Option("chown", "chown"),
        Option("chmod", "chmod"),
        Option("link", "link", "bool"),
    )

    from_: str | None = attrs.field(default=None, kw_only=True)


@attrs.frozen(field_transformer=_flags_last)
class Add(_Transfer):
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
    _options: ClassVar[tuple[Option, ...]] = (
        Option("chown", "chown"),
        Option("chmod", "chmod"),
        Option("checksum", "checksum"),
        Option("link", "link", "bool"),
    )

    checksum: str | None = attrs.field(default=None, kw_only=True)


@attrs.frozen
class User(_Single):
    """``USER <user>[:<group>]``.

    Args:
        user: The user (and group), stripped of surrounding whitespace.

    Raises:
        ValueError: The user is empty or contains a line break.
        TypeError: The user is not a string.
    """

    keyword: ClassVar[str] = "USER"
    _field: ClassVar[tuple[str, str, str]] = ("user", "a user", "a user")

    user: str = attrs.field(converter=to_stripped)


@attrs.frozen
class Workdir(_Single):
    """``WORKDIR <path>``.

    Args:
        path: The directory, stripped of surrounding whitespace.

    Raises:
        ValueError: The path is empty or contains a line break.
        TypeError: The path is not a string.
    """

    keyword: ClassVar[str] = "WORKDIR"
    _field: ClassVar[tuple[str, str, str]] = ("path", "a WORKDIR path", "a path")

    path: str = attrs.field(converter=to_stripped)


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

    paths: tuple[str, ...] = attrs.field(converter=to_paths)

    def __attrs_post_init__(self) -> None:
        if not self.paths:
            raise ValueError("VOLUME needs at least one path")
        if not all(self.paths):
            raise ValueError("a VOLUME path cannot be empty")

    def _args(self, escape: str) -> str:
        return list_args(self.paths, escape)


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
        if not self.name or has_space(self.name) or any(ch in "=\"'\\`" for ch in self.name):
            raise ValueError(
                "an ARG name must be non-empty, without whitespace, quotes, "
                f"escape characters or '=': {self.name!r}"
            )
        check_optional("an ARG default", self.default)

    def _args(self, escape: str) -> str:
        if self.default is None:
            return self.name
        return f"{self.name}={quote(self.default, escape)}"


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
    _options: ClassVar[tuple[Option, ...]] = (
        Option("interval", "interval"),
        Option("timeout", "timeout"),
        Option("start-period", "start_period"),
        Option("start-interval", "start_interval"),
        Option("retries", "retries", "int"),
    )

    command: str | tuple[str, ...] | None = attrs.field(converter=to_optional_command)
    interval: str | None = attrs.field(default=None, kw_only=True, converter=to_duration)
    timeout: str | None = attrs.field(default=None, kw_only=True, converter=to_duration)
    start_period: str | None = attrs.field(default=None, kw_only=True, converter=to_duration)
    start_interval: str | None = attrs.field(default=None, kw_only=True, converter=to_duration)
    retries: int | None = attrs.field(default=None, kw_only=True)

    def __attrs_post_init__(self) -> None:
        options = (self.interval, self.timeout, self.start_period, self.start_interval)
        if self.command is None:
            if any(o is not None for o in (*options, self.retries)):
                raise ValueError("HEALTHCHECK NONE takes no options")
            return
        if not self.command:
            raise ValueError("HEALTHCHECK CMD needs a command")
        check_command("HEALTHCHECK", self.command)
        if self.retries is not None and (
            isinstance(self.retries, bool) or not isinstance(self.retries, int) or self.retries < 0
        ):
            raise ValueError(f"--retries must be a non-negative int, not {self.retries!r}")

    def _args(self, escape: str) -> str:
        if self.command is None:
            return "NONE"
        return f"CMD {command_args(self.command)}"


@attrs.frozen
class Stopsignal(_Single):
    """``STOPSIGNAL <signal>``.

    Args:
        signal: A name such as ``"SIGTERM"`` or a number.

    Raises:
        ValueError: The signal is empty or contains a line break.
        TypeError: The signal is neither a string nor an int.
    """

    keyword: ClassVar[str] = "STOPSIGNAL"
    _field: ClassVar[tuple[str, str, str]] = ("signal", "a signal", "a signal")

    signal: str = attrs.field(converter=to_signal)


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
        return render_cached(self.instruction, escape)
