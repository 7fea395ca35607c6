"""A :class:`~pydock.Dockerfile` without ``RUN`` translated into a base and build steps."""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import attrs

from pydock._core import dockerfile as dfm
from pydock._core.builder.context import octal_mode, owner_ids
from pydock._core.builder.image import ImageState
from pydock._core.builder.plan import ConfigStep, ContextCopyStep, Step, to_command
from pydock._core.builder.words import expand_word
from pydock._core.dockerfile import parse_duration_ns
from pydock.errors import UnsupportedInstruction

__all__ = ["DOCKERFILE_COMMENT", "dockerfile_plan"]

#: The history comment of steps translated from a Dockerfile.
DOCKERFILE_COMMENT = "pydock.dockerfile"


_URL_RE = re.compile(r"^[a-z][a-z0-9+.-]*://|^git@", re.IGNORECASE)


def _instruction_lines(text: str | None, instructions: Sequence[dfm.Instruction]) -> list[int]:
    """Best-effort line numbers of instructions in ``text`` (their position without it)."""
    if text is None:
        return list(range(1, len(instructions) + 1))
    lines = text.splitlines()
    out: list[int] = []
    at = 0
    for index, instruction in enumerate(instructions):
        keyword = "#" if isinstance(instruction, dfm.Comment) else instruction.keyword
        found = None
        for j in range(at, len(lines)):
            stripped = lines[j].lstrip()
            if stripped[: len(keyword)].upper() == keyword and (
                keyword == "#" or stripped[len(keyword) : len(keyword) + 1] in ("", " ", "\t")
            ):
                found = j
                break
        if found is None:
            out.append(index + 1)
        else:
            out.append(found + 1)
            at = found + 1
    return out


# --------------------------------------------------------------------------- config changes

#: A config change an instruction makes when the plan is built.
_Action = Callable[[ImageState], None]


def _df_arg(name: str, default: str | None, global_args: Mapping[str, str], s: ImageState) -> None:
    value = s.build_args.get(name)
    if value is None and name in global_args and default is None:
        value = global_args[name]
    if value is None and default is not None:
        value = s.expand(default, quotes=False)
    s.args[name] = value or ""


def _df_env(pairs: tuple[tuple[str, str], ...], s: ImageState) -> None:
    for key, value in pairs:
        s.set_env([(key, s.expand(value, quotes=False))])


def _df_label(pairs: tuple[tuple[str, str], ...], s: ImageState) -> None:
    s.set_labels([(s.expand(k, quotes=False), s.expand(v, quotes=False)) for k, v in pairs])


def _df_maintainer(name: str, s: ImageState) -> None:
    s.config["author"] = name


def _df_user(user: str, s: ImageState) -> None:
    s.set_user(s.expand(user))


def _df_workdir(path: str, s: ImageState) -> None:
    s.set_workdir(s.expand(path))


def _df_expose(ports: tuple[str, ...], s: ImageState) -> None:
    s.expose(s.expand(p) for p in ports)


def _df_volume(paths: tuple[str, ...], s: ImageState) -> None:
    s.add_volumes(s.expand(p) for p in paths)


def _df_stopsignal(signal: str, s: ImageState) -> None:
    s.set_stop_signal(s.expand(signal))


def _df_shell(shell: tuple[str, ...], s: ImageState) -> None:
    s.shell = shell
    s.run["Shell"] = list(shell)


def _df_cmd(cmd: str | tuple[str, ...], s: ImageState) -> None:
    s.set_cmd(to_command(cmd, s.shell))


def _df_entrypoint(cmd: str | tuple[str, ...], s: ImageState) -> None:
    s.set_entrypoint(to_command(cmd, s.shell), reset_cmd=True)


def _df_onbuild(trigger: str, s: ImageState) -> None:
    s.run["OnBuild"] = [*(s.run.get("OnBuild") or []), trigger]


def _df_healthcheck(check: dict[str, Any], s: ImageState) -> None:
    s.run["Healthcheck"] = dict(check)


# --------------------------------------------------------------------------- translation


@attrs.define
class _Translation:
    """What translating one Dockerfile has found so far."""

    context: str
    escape: str
    build_args: Mapping[str, str]
    #: ARGs declared before FROM, with their values.
    global_args: dict[str, str] = attrs.field(factory=dict)
    base: str | None = None
    platform: str | None = None
    seen_from: bool = False
    steps: list[Step] = attrs.field(factory=list)


#: Translates one instruction: ``(instruction, translation, line, rendered)``.
_Handler = Callable[[Any, _Translation, int, str], None]


def _skip(instruction: dfm.Comment, t: _Translation, line: int, rendered: str) -> None:
    """Comments change nothing."""


def _from(instruction: dfm.From, t: _Translation, line: int, rendered: str) -> None:
    if t.seen_from:
        raise UnsupportedInstruction(
            line, rendered, "multi-stage builds need an engine: one FROM only"
        )
    t.seen_from = True
    image = expand_word(instruction.image, t.global_args, escape=t.escape)
    t.base = None if image.lower() == "scratch" else image
    if instruction.platform is not None:
        t.platform = expand_word(instruction.platform, t.global_args, escape=t.escape)


def _arg(instruction: dfm.Arg, t: _Translation, line: int, rendered: str) -> None:
    name, default = instruction.name, instruction.default
    if t.seen_from:
        t.steps.append(
            ConfigStep(functools.partial(_df_arg, name, default, t.global_args), rendered)
        )
        return
    value = t.build_args.get(name)
    if value is None and default is not None:
        value = expand_word(default, t.global_args, escape=t.escape, quotes=False)
    t.global_args[name] = value or ""


def _run(instruction: dfm.Run, t: _Translation, line: int, rendered: str) -> None:
    raise UnsupportedInstruction(
        line, rendered, "RUN needs an engine to run the command: use client.build"
    )


def _copy(instruction: dfm.Copy | dfm.Add, t: _Translation, line: int, rendered: str) -> None:
    t.steps.append(_copy_step(instruction, t.context, line, rendered))


def _config(make: Callable[[Any, str], _Action]) -> _Handler:
    """The handler of an instruction that changes the config and records a history entry.

    ``make(instruction, escape)`` gives the change to apply to the image state.
    """

    def handle(instruction: Any, t: _Translation, line: int, rendered: str) -> None:
        action = make(instruction, t.escape)
        t.steps.append(
            ConfigStep(action, rendered, created_by=rendered, comment=DOCKERFILE_COMMENT)
        )

    return handle


#: Instruction class -> how it is translated.
_HANDLERS: dict[type[dfm.Instruction], _Handler] = {
    dfm.Comment: _skip,
    dfm.Arg: _arg,
    dfm.From: _from,
    dfm.Run: _run,
    dfm.Copy: _copy,
    dfm.Add: _copy,
    dfm.Env: _config(lambda i, _: functools.partial(_df_env, i.pairs)),
    dfm.Label: _config(lambda i, _: functools.partial(_df_label, i.pairs)),
    dfm.Maintainer: _config(lambda i, _: functools.partial(_df_maintainer, i.name)),
    dfm.User: _config(lambda i, _: functools.partial(_df_user, i.user)),
    dfm.Workdir: _config(lambda i, _: functools.partial(_df_workdir, i.path)),
    dfm.Expose: _config(lambda i, _: functools.partial(_df_expose, i.ports)),
    dfm.Volume: _config(lambda i, _: functools.partial(_df_volume, i.paths)),
    dfm.Stopsignal: _config(lambda i, _: functools.partial(_df_stopsignal, i.signal)),
    dfm.Shell: _config(lambda i, _: functools.partial(_df_shell, i.command)),
    dfm.Cmd: _config(lambda i, _: functools.partial(_df_cmd, i.command)),
    dfm.Entrypoint: _config(lambda i, _: functools.partial(_df_entrypoint, i.command)),
    dfm.Onbuild: _config(
        lambda i, escape: functools.partial(_df_onbuild, i.instruction.render(escape))
    ),
    dfm.Healthcheck: _config(lambda i, _: functools.partial(_df_healthcheck, _healthcheck(i))),
}
#: What may come before FROM.
_BEFORE_FROM = (dfm.Comment, dfm.Arg, dfm.From)


def _handler(instruction: dfm.Instruction) -> _Handler | None:
    for cls in type(instruction).__mro__:
        handler = _HANDLERS.get(cls)
        if handler is not None:
            return handler
    return None


def dockerfile_plan(
    df: dfm.Dockerfile,
    context: str | os.PathLike[str],
    *,
    text: str | None = None,
    build_args: Mapping[str, str] | None = None,
) -> tuple[str | None, str | None, tuple[Step, ...]]:
    """Translate a Dockerfile without ``RUN`` into a base image and build steps.

    Args:
        df: The Dockerfile.
        context: The build context folder ``COPY``/``ADD`` read from.
        text: The Dockerfile's text, to name lines in errors.
        build_args: Values for ``ARG``s (``FROM`` included).

    Returns:
        The base (``None`` for ``FROM scratch``), ``FROM --platform`` (or
        ``None``), and the steps.

    Raises:
        UnsupportedInstruction: ``RUN``, a second ``FROM`` (multi-stage),
            ``COPY --from``, ``ADD`` of a URL, an unknown flag, a named
            ``--chown``; the message names the line.
        ValueError: No ``FROM``.
    """
    t = _Translation(os.fspath(context), df.escape, dict(build_args or {}))
    instructions = list(df.instructions)
    lines = _instruction_lines(text, instructions)
    for instruction, line in zip(instructions, lines, strict=True):
        rendered = instruction.render(t.escape)
        if not t.seen_from and not isinstance(instruction, _BEFORE_FROM):
            raise UnsupportedInstruction(line, rendered, "only ARG may come before FROM")
        handler = _handler(instruction)
        if handler is None:  # pragma: no cover - every instruction class has a handler
            raise UnsupportedInstruction(line, rendered, "not supported without an engine")
        handler(instruction, t, line, rendered)
    if not t.seen_from:
        raise ValueError("the Dockerfile has no FROM instruction")
    return t.base, t.platform, tuple(t.steps)


def _healthcheck(instruction: dfm.Healthcheck) -> dict[str, Any]:
    if instruction.command is None:
        return {"Test": ["NONE"]}
    cmd = instruction.command
    test = ["CMD-SHELL", cmd] if isinstance(cmd, str) else ["CMD", *cmd]
    out: dict[str, Any] = {"Test": test}
    for key, value in (
        ("Interval", instruction.interval),
        ("Timeout", instruction.timeout),
        ("StartPeriod", instruction.start_period),
        ("StartInterval", instruction.start_interval),
    ):
        if value is not None:
            out[key] = parse_duration_ns(value)
    if instruction.retries is not None:
        out["Retries"] = instruction.retries
    return out


def _copy_step(
    instruction: dfm.Copy | dfm.Add, context: str, line: int, rendered: str
) -> ContextCopyStep:
    is_add = isinstance(instruction, dfm.Add)
    if isinstance(instruction, dfm.Copy) and instruction.from_ is not None:
        raise UnsupportedInstruction(
            line, rendered, "COPY --from needs another stage or image: use client.build"
        )
    if instruction.flags:
        raise UnsupportedInstruction(
            line, rendered, f"flags {list(instruction.flags)} are not supported without an engine"
        )
    if isinstance(instruction, dfm.Add) and instruction.checksum is not None:
        raise UnsupportedInstruction(line, rendered, "ADD --checksum is for remote sources")
    for source in instruction.sources:
        if _URL_RE.match(source):
            raise UnsupportedInstruction(
                line, rendered, "ADD of a URL or git repository is not supported without an engine"
            )
    if instruction.chown is not None and "$" not in instruction.chown:
        owner_ids(instruction.chown, line, rendered)
    if instruction.chmod is not None:
        octal_mode(instruction.chmod, line, rendered)
    return ContextCopyStep(
        sources=instruction.sources,
        dest=instruction.dest,
        context=context,
        chown=instruction.chown,
        chmod=instruction.chmod,
        add=is_add,
        created_by=rendered,
        comment=DOCKERFILE_COMMENT,
    )
