"""The Dockerfile: instructions plus parser directives, its builder and its text."""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import overload

import attrs

from pydock._core.dockerfile import _instructions as ins
from pydock._core.dockerfile._checks import (
    _RefusedParse,
    check_escape,
    to_directive,
    to_pairs,
    to_strings,
)
from pydock._core.dockerfile._instructions import Instruction, render_cached
from pydock._core.dockerfile._parser import Parsed, directive, parse
from pydock._core.dockerfile._words import DEFAULT_ESCAPE
from pydock.errors import DockerfileParseError


def _to_instructions(value: Iterable[Instruction]) -> tuple[Instruction, ...]:
    items = tuple(value)
    for item in items:
        if not isinstance(item, Instruction):
            raise TypeError(f"not a Dockerfile instruction: {item!r}")
    return items


def _validate_escape(instance: Dockerfile, attribute: attrs.Attribute[str], value: str) -> None:
    check_escape(value)


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
    escape: str = attrs.field(default=DEFAULT_ESCAPE, kw_only=True, validator=_validate_escape)
    syntax: str | None = attrs.field(default=None, kw_only=True, converter=to_directive)
    check: str | None = attrs.field(default=None, kw_only=True, converter=to_directive)

    def __attrs_post_init__(self) -> None:
        for instruction in self.instructions:
            render_cached(instruction, self.escape)

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
        if self.escape != DEFAULT_ESCAPE:
            lines.append(f"# escape={self.escape}")
        if self.check is not None:
            lines.append(f"# check={self.check}")
        body = [render_cached(instruction, self.escape) for instruction in self.instructions]
        if (
            body
            and isinstance(self.instructions[0], ins.Comment)
            and directive(body[0]) is not None
        ):
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
        return cls._from_parsed(parse(text))

    @classmethod
    def _from_parsed(cls, parsed: Parsed) -> Dockerfile:
        return cls(
            parsed.instructions,
            escape=parsed.escape,
            syntax=parsed.directives.get("syntax"),
            check=parsed.directives.get("check"),
        )

    def check_buildable(self) -> None:
        """Check what Docker checks before it builds, without sending anything.

        The rendered text must parse (so the first instruction other than ARG
        and comments is FROM) and hold at least one FROM.

        Raises:
            DockerfileParseError: It breaks a rule; the error names the line of
                the rendered text (``str(self)``).
        """
        text = str(self)
        parse(text, build=True)
        if not any(isinstance(x, ins.From) for x in self.instructions):
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
        return self.append(ins.Comment(text))

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
        return self.append(ins.From(image, alias, platform=platform))

    def maintainer(self, name: str) -> Dockerfile:
        """Add ``MAINTAINER name``.

        Args:
            name: The maintainer.

        Returns:
            A new Dockerfile.

        Raises:
            ValueError: The name is empty or contains a line break.
        """
        return self.append(ins.Maintainer(name))

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
        words = [f"--mount={mount}" for mount in to_strings(mounts)]
        if network is not None:
            words.append(f"--network={network}")
        if security is not None:
            words.append(f"--security={security}")
        return self.append(ins.Run(command, flags=(*words, *to_strings(flags))))

    def cmd(self, command: str | Sequence[str]) -> Dockerfile:
        """Add ``CMD``.

        Args:
            command: A shell-form string or an exec-form list.

        Returns:
            A new Dockerfile.

        Raises:
            ValueError: The command cannot be written.
        """
        return self.append(ins.Cmd(command))

    def entrypoint(self, command: str | Sequence[str]) -> Dockerfile:
        """Add ``ENTRYPOINT``.

        Args:
            command: A shell-form string or an exec-form list.

        Returns:
            A new Dockerfile.

        Raises:
            ValueError: The command cannot be written.
        """
        return self.append(ins.Entrypoint(command))

    def shell(self, command: Sequence[str]) -> Dockerfile:
        """Add ``SHELL [...]``.

        Args:
            command: The shell and its arguments, e.g. ``["/bin/bash", "-c"]``.

        Returns:
            A new Dockerfile.

        Raises:
            ValueError: The list is empty.
        """
        return self.append(ins.Shell(command))

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
        pairs = (*to_pairs(values or ()), *to_pairs(kwargs))
        return self.append(ins.Env(pairs))

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
        pairs = (*to_pairs(values or ()), *to_pairs(kwargs))
        return self.append(ins.Label(pairs))

    def expose(self, *ports: int | str) -> Dockerfile:
        """Add ``EXPOSE``.

        Args:
            *ports: Ports such as ``80`` or ``"53/udp"``.

        Returns:
            A new Dockerfile.

        Raises:
            ValueError: No ports, or a port with whitespace.
        """
        return self.append(ins.Expose(ports))

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
            ins.Copy(
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
            ins.Add(src, dest, chown=chown, chmod=chmod, checksum=checksum, link=link, flags=flags)
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
        return self.append(ins.User(user))

    def workdir(self, path: str) -> Dockerfile:
        """Add ``WORKDIR``.

        Args:
            path: The working directory.

        Returns:
            A new Dockerfile.

        Raises:
            ValueError: The path is empty or cannot be written.
        """
        return self.append(ins.Workdir(path))

    def volume(self, *paths: str) -> Dockerfile:
        """Add ``VOLUME``.

        Args:
            *paths: The mount points.

        Returns:
            A new Dockerfile.

        Raises:
            ValueError: No paths, or an empty one.
        """
        return self.append(ins.Volume(paths))

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
        return self.append(ins.Arg(name, default))

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
            ins.Healthcheck(
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
        return self.append(ins.Stopsignal(signal))

    def onbuild(self, instruction: Instruction) -> Dockerfile:
        """Add ``ONBUILD instruction``.

        Args:
            instruction: The trigger, e.g. ``Run("make")``.

        Returns:
            A new Dockerfile.

        Raises:
            ValueError: The trigger is ONBUILD, FROM, MAINTAINER or a comment.
        """
        return self.append(ins.Onbuild(instruction))


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
        parsed = Dockerfile._from_parsed(parse(text, build=True))
    except _RefusedParse:
        raise
    except DockerfileParseError:
        return None
    parsed.check_buildable()
    return parsed
